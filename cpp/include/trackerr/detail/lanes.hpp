// A fixed group of N independent double accumulators ("lanes").
//
// Sums over a block are accumulated lane-wise: lane j takes the elements
// i = j (mod N), and the lanes are combined in a fixed tree at the end. The
// order of every addition is thus fixed by the source, not by the compiler,
// so results are identical across compilers and instruction sets. With GCC
// and clang the lanes are vector-extension registers of two doubles, which
// the compiler maps onto SSE2 (or wider) instructions without reassociating
// anything; other compilers get plain arrays with the same arithmetic.
#pragma once

#include "isa.hpp"

#include <cstring>

namespace trackerr {
TRACKERR_ISA_BEGIN
namespace detail {

#if defined(__GNUC__) || defined(__clang__)
#define TRACKERR_VECTOR_LANES 1
typedef double vd2 __attribute__((vector_size(16)));
typedef float vf2 __attribute__((vector_size(8)));
#endif

template <int N>
struct Lanes {
    static_assert(N % 2 == 0, "lanes come in pairs");
#ifdef TRACKERR_VECTOR_LANES
    vd2 v[N / 2];

    static Lanes splat(double x) noexcept {
        Lanes out;
        for (int j = 0; j < N / 2; ++j) out.v[j] = vd2{x, x};
        return out;
    }
    static Lanes load(const double* p) noexcept {
        Lanes out;
        std::memcpy(out.v, p, sizeof out.v);
        return out;
    }
    static Lanes load(const float* p) noexcept {
        Lanes out;
        for (int j = 0; j < N / 2; ++j) {
            vf2 f;
            std::memcpy(&f, p + 2 * j, sizeof f);
            out.v[j] = __builtin_convertvector(f, vd2);
        }
        return out;
    }
    double lane(int j) const noexcept { return v[j / 2][j % 2]; }
    void store(double* p) const noexcept { std::memcpy(p, v, sizeof v); }
    static constexpr int slots = N / 2;
#else
    double v[N];

    static Lanes splat(double x) noexcept {
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

    Lanes& operator+=(const Lanes& o) noexcept {
        for (int j = 0; j < slots; ++j) v[j] += o.v[j];
        return *this;
    }
    Lanes& operator-=(const Lanes& o) noexcept {
        for (int j = 0; j < slots; ++j) v[j] -= o.v[j];
        return *this;
    }
    Lanes& operator*=(const Lanes& o) noexcept {
        for (int j = 0; j < slots; ++j) v[j] *= o.v[j];
        return *this;
    }

    friend Lanes operator+(Lanes a, const Lanes& b) noexcept { return a += b; }
    friend Lanes operator-(Lanes a, const Lanes& b) noexcept { return a -= b; }
    friend Lanes operator*(Lanes a, const Lanes& b) noexcept { return a *= b; }

    static Lanes zero() noexcept { return splat(0.0); }

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
