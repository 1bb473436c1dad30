// Lane types for kernels that run W independent recurrences side by side.
//
// A kernel is written once as a template over its lane type V: `double` (one
// lane, any compiler) or a GCC/clang vector of 2, 4 or 8 doubles. Every
// operation below is the IEEE operation of each lane, in the order the source
// gives, so lane j of a V computes bit for bit what the `double` instantiation
// computes on lane j's data: results do not depend on the lane count, hence
// not on the instruction set the kernel was compiled for (SSE2, AVX2,
// AVX-512). No operation reassociates, and no FMA is formed (the build keeps
// -ffp-contract=off).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "../view.hpp"
#include "isa.hpp"

namespace trackerr {
TRACKERR_ISA_BEGIN
namespace detail::simd {

#if defined(__GNUC__) || defined(__clang__)
#define TRACKERR_SIMD_LANES 1
typedef double d2 __attribute__((vector_size(16)));
typedef double d4 __attribute__((vector_size(32)));
typedef double d8 __attribute__((vector_size(64)));
#endif

/// Number of doubles in a lane type.
template <class V>
inline constexpr int width = static_cast<int>(sizeof(V) / sizeof(double));

/// The mask type of a lane type: what `a < b` gives (bool for double, a
/// vector of all-ones / all-zeros 64-bit integers for vectors).
template <class V>
using mask = decltype(V{} < V{});

template <class V>
TRACKERR_HOT V splat(double x) noexcept {
    if constexpr (std::is_same_v<V, double>) {
        return x;
    } else {
        V v;
        for (int j = 0; j < width<V>; ++j) v[j] = x;
        return v;
    }
}

template <class V>
TRACKERR_HOT double get(const V& v, int j) noexcept {
    if constexpr (std::is_same_v<V, double>) {
        (void)j;
        return v;
    } else {
        return v[j];
    }
}

template <class V>
TRACKERR_HOT void set(V& v, int j, double x) noexcept {
    if constexpr (std::is_same_v<V, double>) {
        (void)j;
        v = x;
    } else {
        v[j] = x;
    }
}

template <class V>
TRACKERR_HOT V load(const double* p) noexcept {
    V v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

template <class V>
TRACKERR_HOT void store(double* p, const V& v) noexcept {
    std::memcpy(p, &v, sizeof v);
}

/// |x| (clears the sign bit, as std::fabs).
template <class V>
TRACKERR_HOT V abs(V x) noexcept {
    if constexpr (std::is_same_v<V, double>) {
        return std::fabs(x);
    } else {
        typedef mask<V> M;
        M bits;
        std::memcpy(&bits, &x, sizeof x);
        bits &= (M{} + 0x7fffffffffffffffLL);
        std::memcpy(&x, &bits, sizeof x);
        return x;
    }
}

/// Correctly rounded square root of each lane.
template <class V>
TRACKERR_HOT V sqrt(V x) noexcept {
    if constexpr (std::is_same_v<V, double>) {
        return std::sqrt(x);
    } else {
        V r;
        for (int j = 0; j < width<V>; ++j) r[j] = __builtin_sqrt(x[j]);
        return r;
    }
}

/// m ? a : b, lane by lane.
template <class V>
TRACKERR_HOT V select(const mask<V>& m, const V& a, const V& b) noexcept {
    if constexpr (std::is_same_v<V, double>) {
        return m ? a : b;
    } else if constexpr (width<V> >= 4) {
        return m ? a : b;  // one vblendvpd
    } else {
        // a bitwise blend (without AVX, the vector `?:` compiles to a branch per lane)
        mask<V> ia, ib;
        std::memcpy(&ia, &a, sizeof a);
        std::memcpy(&ib, &b, sizeof b);
        const mask<V> r = (ia & m) | (ib & ~m);
        V out;
        std::memcpy(&out, &r, sizeof out);
        return out;
    }
}

/// The larger of a and b in each lane (finite values: no NaN rule needed).
template <class V>
TRACKERR_HOT V max(const V& a, const V& b) noexcept {
    return select<V>(a > b, a, b);
}

/// True when every lane of m is set.
template <class V>
TRACKERR_HOT bool all(const mask<V>& m) noexcept {
    if constexpr (std::is_same_v<V, double>) {
        return m;
    } else {
        // One mask move where the instruction set has it (the sign bits of
        // the mask lanes: AVX-512DQ's vpmovq2m, else movmsk), else lane by lane.
#if defined(__AVX512DQ__) || defined(TRACKERR_TARGET_AVX512)
        if constexpr (width<V> == 8) {
            typedef long long q8 __attribute__((vector_size(64)));
            q8 x;
            std::memcpy(&x, &m, sizeof x);
            return static_cast<unsigned char>(__builtin_ia32_cvtq2mask512(x)) == 0xff;
        }
#endif
#if defined(__AVX__) || defined(TRACKERR_TARGET_AVX2) || defined(TRACKERR_TARGET_AVX512)
        if constexpr (width<V> % 4 == 0) {
            d4 x[width<V> / 4];
            std::memcpy(x, &m, sizeof x);
            int bits = 0xf;
            for (int h = 0; h < width<V> / 4; ++h) bits &= __builtin_ia32_movmskpd256(x[h]);
            return bits == 0xf;
        }
#endif
#if defined(__SSE2__)
        if constexpr (width<V> % 2 == 0) {
            d2 x[width<V> / 2];
            std::memcpy(x, &m, sizeof x);
            int bits = 0x3;
            for (int h = 0; h < width<V> / 2; ++h) bits &= __builtin_ia32_movmskpd(x[h]);
            return bits == 0x3;
        }
#endif
        bool ok = true;
        for (int j = 0; j < width<V>; ++j) ok &= m[j] != 0;
        return ok;
    }
}

/// Lane j of a mask.
template <class V>
TRACKERR_HOT bool lane(const mask<V>& m, int j) noexcept {
    if constexpr (std::is_same_v<V, double>) {
        (void)j;
        return m;
    } else {
        return m[j] != 0;
    }
}

/// x is finite in every lane where the mask is set (x - x is 0 exactly when
/// x is finite; NaN otherwise).
template <class V>
TRACKERR_HOT mask<V> finite(const V& x) noexcept {
    return (x - x) == V{};
}

/// Two-source shuffle with constant indices (0..W-1 pick from a, W..2W-1
/// from b), as the compiler spells it.
template <int... I, class V>
TRACKERR_HOT V shuffle(const V& a, const V& b) noexcept {
#if defined(__clang__)
    return __builtin_shufflevector(a, b, I...);
#else
    return __builtin_shuffle(a, b, mask<V>{I...});
#endif
}

/// Transposes W vectors of W lanes in place: afterwards r[i][j] is what
/// r[j][i] was. Each stage swaps one bit of the row index with the same bit
/// of the lane index (pairs of rows s apart exchange blocks of s lanes). Only
/// moves values: no arithmetic.
template <class V>
TRACKERR_HOT void transpose(V* r) noexcept {
    if constexpr (std::is_same_v<V, double>) {
        (void)r;
    } else if constexpr (width<V> == 2) {
        const V a = r[0], b = r[1];
        r[0] = shuffle<0, 2>(a, b);
        r[1] = shuffle<1, 3>(a, b);
    } else if constexpr (width<V> == 4) {
        for (int i : {0, 2}) {
            const V a = r[i], b = r[i + 1];
            r[i] = shuffle<0, 4, 2, 6>(a, b);
            r[i + 1] = shuffle<1, 5, 3, 7>(a, b);
        }
        for (int i : {0, 1}) {
            const V a = r[i], b = r[i + 2];
            r[i] = shuffle<0, 1, 4, 5>(a, b);
            r[i + 2] = shuffle<2, 3, 6, 7>(a, b);
        }
    } else {
        static_assert(width<V> == 8, "lanes of 1, 2, 4 or 8 doubles");
        for (int i : {0, 2, 4, 6}) {
            const V a = r[i], b = r[i + 1];
            r[i] = shuffle<0, 8, 2, 10, 4, 12, 6, 14>(a, b);
            r[i + 1] = shuffle<1, 9, 3, 11, 5, 13, 7, 15>(a, b);
        }
        for (int i : {0, 1, 4, 5}) {
            const V a = r[i], b = r[i + 2];
            r[i] = shuffle<0, 1, 8, 9, 4, 5, 12, 13>(a, b);
            r[i + 2] = shuffle<2, 3, 10, 11, 6, 7, 14, 15>(a, b);
        }
        for (int i : {0, 1, 2, 3}) {
            const V a = r[i], b = r[i + 4];
            r[i] = shuffle<0, 1, 2, 3, 8, 9, 10, 11>(a, b);
            r[i + 4] = shuffle<4, 5, 6, 7, 12, 13, 14, 15>(a, b);
        }
    }
}

}  // namespace detail::simd
TRACKERR_ISA_END
}  // namespace trackerr
