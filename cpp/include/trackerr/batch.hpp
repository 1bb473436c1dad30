// Full-sample kernels over strided views: one pass over the inputs, no
// temporary the size of the input, pairs with a NaN on either side skipped.
//
// Accuracy. Values are gathered into blocks of `detail::block` pairs that fit
// in L1. Each block's moments are computed with a two-pass formula on the
// block (mean first, then centred sums with the usual correction term), and
// block states are combined with Chan's merge in a pairwise cascade. Rounding
// error therefore depends on the block length and on log2(#blocks), not on
// the length of the series or on the level of the data: a series of 1e7
// values at level 1e9 keeps its variance to about 1e-15 relative.
//
// Speed. The inputs are read once; the block passes run on L1-resident data.
// A block without NaN takes a branch-free path the compiler can vectorize;
// only blocks that hold a NaN are compacted.
//
// float inputs are promoted to double as they are read: all accumulation is
// in double precision.
#pragma once

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "comoments.hpp"
#include "detail/lanes.hpp"
#include "view.hpp"

namespace trackerr {

/// A state together with the number of pairs that were skipped because the
/// portfolio or the benchmark value was NaN (the caller applies its NaN policy).
template <class State>
struct Accumulated {
    State state{};
    std::int64_t skipped = 0;
};

namespace detail {

inline constexpr std::ptrdiff_t block = 256;  // pairs per block (2 x 2 KiB of doubles)

inline bool is_nan(double x) noexcept {
    return x != x;
}

/// Sums of squares can round a hair below zero; NaN passes through.
inline double nonneg(double x) noexcept {
    return x < 0.0 ? 0.0 : x;
}

// Lane counts: eight independent chains for one running sum, four for the
// five sums of a pair (which then fit the vector registers).
inline constexpr int lanes = 8;
inline constexpr int pair_lanes = 4;

template <class T>
inline double as_double(T v) noexcept {
    return static_cast<double>(v);
}

/// First pass over a block: the mean of a = x - y, accumulated relative to the
/// block's first value a_0 (m = a_0 + sum (a - a_0) / k), so a constant block
/// has an exact mean and exactly zero deviations. A NaN on either side makes
/// the result NaN, which is how blocks needing the slow path are found.
template <class TX, class TY>
inline double mean_active(const TX* x, const TY* y, std::ptrdiff_t k) noexcept {
    using V = Lanes<lanes>;
    const double a0 = as_double(x[0]) - as_double(y[0]);
    const V a0v = V::splat(a0);
    V s = V::zero();
    std::ptrdiff_t i = 0;
    for (; i + lanes <= k; i += lanes) s += (V::load(x + i) - V::load(y + i)) - a0v;
    double tail = 0.0;
    for (; i < k; ++i) tail += (as_double(x[i]) - as_double(y[i])) - a0;
    return a0 + (s.sum() + tail) / static_cast<double>(k);
}

/// Second pass of the two-pass scheme for a = x - y: given a provisional mean
/// m of a over the block,
///   mean - K = (m - K) + sum d / k,  M2 = sum d^2 - (sum d)^2 / k,  d = a - m.
/// The correction term removes the rounding of m to first order. The mean is
/// returned relative to a reference level K shared by all blocks of a series:
/// a mean stored near 0 keeps digits that a mean stored at the series' level
/// (1e6, say, with noise of 1e-2) would round away, and the merges of block
/// states depend on differences of those means.
template <class TX, class TY>
inline Moments centred_active(const TX* x, const TY* y, std::ptrdiff_t k, double m, double K) noexcept {
    using V = Lanes<lanes>;
    const V mv = V::splat(m);
    V d1 = V::zero(), d2 = V::zero();
    std::ptrdiff_t i = 0;
    for (; i + lanes <= k; i += lanes) {
        const V d = (V::load(x + i) - V::load(y + i)) - mv;
        d1 += d;
        d2 += d * d;
    }
    double t1 = 0.0, t2 = 0.0;
    for (; i < k; ++i) {
        const double d = (as_double(x[i]) - as_double(y[i])) - m;
        t1 += d;
        t2 += d * d;
    }
    const double kd = static_cast<double>(k);
    const double c1 = d1.sum() + t1;
    Moments out;
    out.n = kd;
    out.mean = (m - K) + c1 / kd;
    out.m2 = nonneg((d2.sum() + t2) - c1 * c1 / kd);
    return out;
}

/// First pass for a pair: the means of x and of y, accumulated relative to
/// the block's first pair as in mean_active.
template <class TX, class TY>
inline void mean_pair(const TX* x, const TY* y, std::ptrdiff_t k, double& mx, double& my) noexcept {
    using V = Lanes<pair_lanes>;
    const double x0 = as_double(x[0]), y0 = as_double(y[0]);
    const V x0v = V::splat(x0), y0v = V::splat(y0);
    V sx = V::zero(), sy = V::zero();
    std::ptrdiff_t i = 0;
    for (; i + pair_lanes <= k; i += pair_lanes) {
        sx += V::load(x + i) - x0v;
        sy += V::load(y + i) - y0v;
    }
    double tx = 0.0, ty = 0.0;
    for (; i < k; ++i) {
        tx += as_double(x[i]) - x0;
        ty += as_double(y[i]) - y0;
    }
    const double kd = static_cast<double>(k);
    mx = x0 + (sx.sum() + tx) / kd;
    my = y0 + (sy.sum() + ty) / kd;
}

/// Second pass for a pair: co-moments about provisional means (mx, my), with
/// the same first-order correction and means relative to (Kx, Ky) as in
/// centred_active.
template <class TX, class TY>
inline CoMoments centred_pair(const TX* x, const TY* y, std::ptrdiff_t k, double mx, double my, double Kx,
                              double Ky) noexcept {
    using V = Lanes<pair_lanes>;
    const V mxv = V::splat(mx), myv = V::splat(my);
    V ax = V::zero(), ay = V::zero(), axx = V::zero(), ayy = V::zero(), axy = V::zero();
    std::ptrdiff_t i = 0;
    for (; i + pair_lanes <= k; i += pair_lanes) {
        const V dx = V::load(x + i) - mxv;
        const V dy = V::load(y + i) - myv;
        ax += dx;
        ay += dy;
        axx += dx * dx;
        ayy += dy * dy;
        axy += dx * dy;
    }
    double tx = 0.0, ty = 0.0, txx = 0.0, tyy = 0.0, txy = 0.0;
    for (; i < k; ++i) {
        const double dx = as_double(x[i]) - mx;
        const double dy = as_double(y[i]) - my;
        tx += dx;
        ty += dy;
        txx += dx * dx;
        tyy += dy * dy;
        txy += dx * dy;
    }
    const double kd = static_cast<double>(k);
    const double cx = ax.sum() + tx, cy = ay.sum() + ty;
    CoMoments out;
    out.n = kd;
    out.mean_p = (mx - Kx) + cx / kd;
    out.mean_b = (my - Ky) + cy / kd;
    out.c_pp = nonneg((axx.sum() + txx) - cx * cx / kd);
    out.c_bb = nonneg((ayy.sum() + tyy) - cy * cy / kd);
    out.c_pb = (axy.sum() + txy) - cx * cy / kd;
    return out;
}

/// Growth factors prod (1 + x[i]), prod (1 + y[i]) of one block. Each of the
/// four partial products is renormalised every 16 factors, so nothing short
/// of a factor beyond 2^60 can overflow.
inline Growth block_growth(const double* x, const double* y, std::ptrdiff_t k) noexcept {
    Growth g;
    g.n = static_cast<double>(k);
    double gx[4] = {1.0, 1.0, 1.0, 1.0};
    double gy[4] = {1.0, 1.0, 1.0, 1.0};
    std::ptrdiff_t i = 0;
    while (i < k) {
        const std::ptrdiff_t stop = std::min(k, i + 64);
        for (; i + 4 <= stop; i += 4)
            for (int j = 0; j < 4; ++j) {
                gx[j] *= 1.0 + x[i + j];
                gy[j] *= 1.0 + y[i + j];
            }
        for (; i < stop; ++i) {
            gx[0] *= 1.0 + x[i];
            gy[0] *= 1.0 + y[i];
        }
        for (int j = 0; j < 4; ++j) {
            int e = 0;
            gx[j] = std::frexp(gx[j], &e);
            g.exp_p += e;
            gy[j] = std::frexp(gy[j], &e);
            g.exp_b += e;
        }
    }
    g.mant_p = (gx[0] * gx[1]) * (gx[2] * gx[3]);
    g.mant_b = (gy[0] * gy[1]) * (gy[2] * gy[3]);
    g.normalize();
    return g;
}

/// Gathers the pairs of p[start, start + len) into xs / ys, keeping only those
/// where neither side is NaN when `compact`; returns how many were written.
template <class TP, class TB>
std::ptrdiff_t gather(const View<TP>& p, const View<TB>& b, std::ptrdiff_t start, std::ptrdiff_t len,
                      double* xs, double* ys, bool compact) noexcept {
    std::ptrdiff_t k = 0;
    for (std::ptrdiff_t i = 0; i < len; ++i) {
        const double x = static_cast<double>(p[start + i]);
        const double y = static_cast<double>(b[start + i]);
        xs[k] = x;
        ys[k] = y;
        k += static_cast<std::ptrdiff_t>(!compact || (!is_nan(x) && !is_nan(y)));
    }
    return k;
}

/// Keeps the pairs of xs / ys where neither side is NaN, in order; returns how many.
inline std::ptrdiff_t compact_buffers(double* xs, double* ys, std::ptrdiff_t len) noexcept {
    std::ptrdiff_t k = 0;
    for (std::ptrdiff_t i = 0; i < len; ++i) {
        const double x = xs[i], y = ys[i];
        xs[k] = x;
        ys[k] = y;
        k += static_cast<std::ptrdiff_t>(!is_nan(x) && !is_nan(y));
    }
    return k;
}

/// The block loop shared by the pairwise kernels. For each block of up to
/// `block` pairs, a `Block` object is given typed pointers to the block:
/// straight into the caller's arrays when both are contiguous (nothing is
/// copied), else into L1 buffers gathered from the strided views.
/// `Block::fast` returns false when the block holds a NaN; the block is then
/// compacted to its valid pairs and handed to `Block::slow`. The Block object
/// carries the series' reference level (set from its first non-empty block)
/// and `Block::finish` adds it back to the merged state.
template <class Block, class State, class TP, class TB>
Accumulated<State> run_blocks(const View<TP>& p, const View<TB>& b, Block blk = Block{}) {
    alignas(64) double xs[block];
    alignas(64) double ys[block];
    Cascade<State> cascade;
    Accumulated<State> out;
    const bool contiguous = p.contiguous() && b.contiguous();
    const std::ptrdiff_t n = p.size;
    for (std::ptrdiff_t start = 0; start < n; start += block) {
        const std::ptrdiff_t len = std::min(block, n - start);
        State s;
        std::ptrdiff_t k = 0;
        if (contiguous) {
            if (Block::has_fast && blk.fast(p.data + start, b.data + start, len, s)) {
                cascade.push(s);
                continue;
            }
            k = gather(p, b, start, len, xs, ys, true);
        } else if (Block::has_fast) {
            gather(p, b, start, len, xs, ys, false);
            if (blk.fast(xs, ys, len, s)) {
                cascade.push(s);
                continue;
            }
            k = compact_buffers(xs, ys, len);  // the block is already in L1: compact it there
        } else {
            k = gather(p, b, start, len, xs, ys, true);
        }
        out.skipped += len - k;
        if (k > 0) cascade.push(blk.slow(xs, ys, k));
    }
    out.state = cascade.total();
    blk.finish(out.state);
    return out;
}

struct ActiveBlock {
    static constexpr bool has_fast = true;
    double level = nan_v;  // reference level K of the active return

    template <class TX, class TY>
    bool fast(const TX* x, const TY* y, std::ptrdiff_t k, Moments& out) noexcept {
        const double m = mean_active(x, y, k);
        if (is_nan(m)) return false;
        if (is_nan(level)) level = m;
        out = centred_active(x, y, k, m, level);
        return true;
    }
    Moments slow(const double* x, const double* y, std::ptrdiff_t k) noexcept {
        const double m = mean_active(x, y, k);
        if (is_nan(level)) level = is_nan(m) ? 0.0 : m;
        return centred_active(x, y, k, m, level);
    }
    void finish(Moments& s) const noexcept {
        if (s.n > 0.0) s.mean += level;
    }
};

// Mean only (for the arithmetic active return): one pass per block. The
// blocks carry M2 = 0, so the merged M2 holds only between-block terms and
// means nothing: read n and mean.
struct ActiveMeanBlock : ActiveBlock {
    template <class TX, class TY>
    bool fast(const TX* x, const TY* y, std::ptrdiff_t k, Moments& out) noexcept {
        const double m = mean_active(x, y, k);
        if (is_nan(m)) return false;
        out = relative(m, k);
        return true;
    }
    Moments slow(const double* x, const double* y, std::ptrdiff_t k) noexcept {
        return relative(mean_active(x, y, k), k);
    }
    Moments relative(double m, std::ptrdiff_t k) noexcept {
        if (is_nan(level)) level = is_nan(m) ? 0.0 : m;
        Moments out;
        out.n = static_cast<double>(k);
        out.mean = m - level;
        return out;
    }
};

struct PairBlock {
    static constexpr bool has_fast = true;
    double level_p = nan_v, level_b = nan_v;

    template <class TX, class TY>
    bool fast(const TX* x, const TY* y, std::ptrdiff_t k, CoMoments& out) noexcept {
        double mx = 0.0, my = 0.0;
        mean_pair(x, y, k, mx, my);
        if (is_nan(mx) || is_nan(my)) return false;
        set_levels(mx, my);
        out = centred_pair(x, y, k, mx, my, level_p, level_b);
        return true;
    }
    CoMoments slow(const double* x, const double* y, std::ptrdiff_t k) noexcept {
        double mx = 0.0, my = 0.0;
        mean_pair(x, y, k, mx, my);
        set_levels(mx, my);
        return centred_pair(x, y, k, mx, my, level_p, level_b);
    }
    void set_levels(double mx, double my) noexcept {
        if (is_nan(level_p)) {  // first block: inf - inf may leave a NaN mean; use 0 then
            level_p = is_nan(mx) ? 0.0 : mx;
            level_b = is_nan(my) ? 0.0 : my;
        }
    }
    void finish(CoMoments& s) const noexcept {
        if (s.n > 0.0) {
            s.mean_p += level_p;
            s.mean_b += level_b;
        }
    }
};

struct GrowthBlock {
    // Products need the NaN check per pair anyway: every block takes the
    // compacting path, read once.
    static constexpr bool has_fast = false;
    template <class TX, class TY>
    bool fast(const TX*, const TY*, std::ptrdiff_t, Growth&) noexcept {
        return false;
    }
    Growth slow(const double* x, const double* y, std::ptrdiff_t k) noexcept { return block_growth(x, y, k); }
    void finish(Growth&) const noexcept {}
};

inline void check_lengths(std::ptrdiff_t np, std::ptrdiff_t nb) {
    if (np != nb)
        throw std::invalid_argument("portfolio has length " + std::to_string(np) +
                                    " but benchmark has length " + std::to_string(nb));
}

}  // namespace detail

/// Moments of the active return a = p - b over the pairs where neither is NaN.
/// The subtraction is done first (one rounding), so a tracker that follows its
/// benchmark closely loses nothing to cancellation.
template <class TP, class TB>
Accumulated<Moments> active_moments(View<TP> p, View<TB> b) {
    detail::check_lengths(p.size, b.size);
    return detail::run_blocks<detail::ActiveBlock, Moments>(p, b);
}

/// Count and mean of the active return only, in one pass, for metrics that
/// need no dispersion. The state's m2 is not computed: read n and mean.
template <class TP, class TB>
Accumulated<Moments> active_mean(View<TP> p, View<TB> b) {
    detail::check_lengths(p.size, b.size);
    return detail::run_blocks<detail::ActiveMeanBlock, Moments>(p, b);
}

/// Joint moments (n, means, C_pp, C_bb, C_pb) over the pairs where neither is NaN.
template <class TP, class TB>
Accumulated<CoMoments> comoments(View<TP> p, View<TB> b) {
    detail::check_lengths(p.size, b.size);
    return detail::run_blocks<detail::PairBlock, CoMoments>(p, b);
}

/// Compounded growth prod (1 + p), prod (1 + b) over the pairs where neither is NaN.
template <class TP, class TB>
Accumulated<Growth> growth(View<TP> p, View<TB> b) {
    detail::check_lengths(p.size, b.size);
    return detail::run_blocks<detail::GrowthBlock, Growth>(p, b);
}

}  // namespace trackerr
