// A fixed group of N independent double accumulators ("lanes").
//
// Sums over a block are accumulated lane-wise: lane j takes the elements
// i = j (mod N), and the lanes are combined in a fixed tree at the end. The
// order of every addition is thus fixed by the source, not by the compiler,
// so results are identical across compilers and instruction sets. With GCC
// and clang the lanes are vector-extension registers as wide as those of the
// instruction set compiled for (SSE2, AVX2, AVX-512), which the compiler
// uses without reassociating anything; other compilers get plain arrays with
// the same arithmetic.
#pragma once

#include "../view.hpp"
#include "isa.hpp"

#include <cstring>

namespace trackerr {
TRACKERR_ISA_BEGIN
namespace detail {

#if defined(__GNUC__) || defined(__clang__)
#define TRACKERR_VECTOR_LANES 1
typedef double vd2 __attribute__((vector_size(16)));
typedef float vf2 __attribute__((vector_size(8)));
/// Vector-extension types of W doubles and W floats.
template <int W>
struct lane_vector;
template <>
struct lane_vector<2> {
    typedef double d __attribute__((vector_size(16)));
    typedef float f __attribute__((vector_size(8)));
};
template <>
struct lane_vector<4> {
    typedef double d __attribute__((vector_size(32)));
    typedef float f __attribute__((vector_size(16)));
};
template <>
struct lane_vector<8> {
    typedef double d __attribute__((vector_size(64)));
    typedef float f __attribute__((vector_size(32)));
};
/// Doubles in the widest vector register of the instruction set being
/// compiled for: TRACKERR_LANES where the extension's per-ISA copies set it
/// (a `#pragma GCC target` does not define __AVX__ and the like in C++),
/// else what the compiler's own flags say.
#if defined(TRACKERR_LANES) && TRACKERR_LANES >= 2
inline constexpr int native_doubles = TRACKERR_LANES;
#elif defined(__AVX512F__)
inline constexpr int native_doubles = 8;
#elif defined(__AVX__)
inline constexpr int native_doubles = 4;
#else
inline constexpr int native_doubles = 2;
#endif
#endif

template <int N>
struct Lanes {
    static_assert(N % 2 == 0, "lanes come in pairs");
#ifdef TRACKERR_VECTOR_LANES
    // Lane j is element j % VW of vector j / VW, the vectors as wide as the
    // instruction set's registers (two doubles for SSE2, four for AVX, eight
    // for AVX-512): the arithmetic of every lane is the same whatever VW.
    static constexpr int VW = N < native_doubles ? N : native_doubles;
    typedef typename lane_vector<VW>::d vd;
    typedef typename lane_vector<VW>::f vf;
    static constexpr int slots = N / VW;
    vd v[slots];

    TRACKERR_HOT static Lanes splat(double x) noexcept {
        Lanes out;
        for (int j = 0; j < slots; ++j)
            for (int i = 0; i < VW; ++i) out.v[j][i] = x;
        return out;
    }
    TRACKERR_HOT static Lanes load(const double* p) noexcept {
        Lanes out;
        // a vector at a time (one copy of the whole array can go through the
        // stack in halves, and a wide load of them then stalls)
        for (int j = 0; j < slots; ++j) std::memcpy(&out.v[j], p + VW * j, sizeof(vd));
        return out;
    }
    TRACKERR_HOT static Lanes load(const float* p) noexcept {
        Lanes out;
        for (int j = 0; j < slots; ++j) {
            vf f;
            std::memcpy(&f, p + VW * j, sizeof f);
            out.v[j] = __builtin_convertvector(f, vd);
        }
        return out;
    }
    double lane(int j) const noexcept { return v[j / VW][j % VW]; }
    void store(double* p) const noexcept {
        for (int j = 0; j < slots; ++j) std::memcpy(p + VW * j, &v[j], sizeof(vd));
    }
#else
    double v[N];

    TRACKERR_HOT static Lanes splat(double x) noexcept {
        Lanes out;
        for (int j = 0; j < N; ++j) out.v[j] = x;
        return out;
    }
    template <class T>
    static Lanes load(const T* p) noexcept {
        Lanes out;
        for (int j = 0; j < N; ++j) out.v[j] = static_cast<double>(p[j]);
        return out;
    }
    double lane(int j) const noexcept { return v[j]; }
    void store(double* p) const noexcept {
        for (int j = 0; j < N; ++j) p[j] = v[j];
    }
    static constexpr int slots = N;
#endif

    TRACKERR_HOT Lanes& operator+=(const Lanes& o) noexcept {
        for (int j = 0; j < slots; ++j) v[j] += o.v[j];
        return *this;
    }
    TRACKERR_HOT Lanes& operator-=(const Lanes& o) noexcept {
        for (int j = 0; j < slots; ++j) v[j] -= o.v[j];
        return *this;
    }
    TRACKERR_HOT Lanes& operator*=(const Lanes& o) noexcept {
        for (int j = 0; j < slots; ++j) v[j] *= o.v[j];
        return *this;
    }

    TRACKERR_HOT friend Lanes operator+(Lanes a, const Lanes& b) noexcept { return a += b; }
    TRACKERR_HOT friend Lanes operator-(Lanes a, const Lanes& b) noexcept { return a -= b; }
    TRACKERR_HOT friend Lanes operator*(Lanes a, const Lanes& b) noexcept { return a *= b; }

    TRACKERR_HOT static Lanes zero() noexcept { return splat(0.0); }

    /// Combines the lanes in a fixed pairwise tree.
    double sum() const noexcept { return tree(0, N); }

private:
    double tree(int first, int count) const noexcept {
        if (count == 1) return lane(first);
        return tree(first, count / 2) + tree(first + count / 2, count / 2);
    }
};

#ifdef TRACKERR_VECTOR_LANES
// Two-lane helpers for kernels written directly in vector-extension code.
// Every operation is the IEEE operation of each lane, so a lane computes
// exactly what the scalar code computes.
typedef long long vi2 __attribute__((vector_size(16)));

inline vd2 load2(const double* p) noexcept {
    vd2 v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
inline void store2(double* p, vd2 v) noexcept {
    std::memcpy(p, &v, sizeof v);
}
inline vd2 splat2(double x) noexcept {
    return vd2{x, x};
}
inline vd2 abs2(vd2 v) noexcept {
    const vi2 magnitude = {0x7fffffffffffffffLL, 0x7fffffffffffffffLL};
    return reinterpret_cast<vd2>(reinterpret_cast<vi2>(v) & magnitude);
}
/// mask ? a : b, lane by lane (mask lanes all ones or all zeros).
inline vd2 select2(vi2 mask, vd2 a, vd2 b) noexcept {
    return reinterpret_cast<vd2>((reinterpret_cast<vi2>(a) & mask) | (reinterpret_cast<vi2>(b) & ~mask));
}
inline vd2 sqrt2(vd2 v) noexcept {
#if defined(__SSE2__)
    return __builtin_ia32_sqrtpd(v);
#else
    return vd2{__builtin_sqrt(v[0]), __builtin_sqrt(v[1])};
#endif
}
#endif

}  // namespace detail
TRACKERR_ISA_END
}  // namespace trackerr
