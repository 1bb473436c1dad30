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

#include <cstring>

namespace trackerr::detail {

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

}  // namespace trackerr::detail
