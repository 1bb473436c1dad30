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

#include "detail/isa.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "comoments.hpp"
#include "detail/lanes.hpp"
#include "view.hpp"

namespace trackerr {
TRACKERR_ISA_BEGIN

/// A state together with the number of pairs that were skipped because the
/// portfolio or the benchmark value was NaN (the caller applies its NaN policy).
///
/// Scale. Data whose values are all tiny (|x| < 2^-300) or huge (> 2^300)
/// would underflow or overflow in the sums of squares (1e-200 squared is 0,
/// 1e200 squared is inf), so such series are summed after an exact scaling by
/// a power of two: `state` then holds the moments of p * 2^-scale_p and
/// b * 2^-scale_b (for the active return, of (p - b) * 2^-scale_p). Ratios
/// (correlation, information ratio) read the state as is; the metric
/// functions of metrics.hpp take the exponents to put the others back in the
/// data's units. Both are 0 for ordinary data.
template <class State>
struct Accumulated {
    State state{};
    std::int64_t skipped = 0;
    int scale_p = 0;
    int scale_b = 0;
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
/// of a factor beyond 2^60 can overflow. Pairs outside the domain (a return
/// below -1 or infinite: see Growth) are counted in `bad`.
inline Growth block_growth(const double* x, const double* y, std::ptrdiff_t k) noexcept {
    Growth g;
    g.n = static_cast<double>(k);
    double gx[4] = {1.0, 1.0, 1.0, 1.0};
    double gy[4] = {1.0, 1.0, 1.0, 1.0};
    double bad = 0.0;
    std::ptrdiff_t i = 0;
    while (i < k) {
        const std::ptrdiff_t stop = std::min(k, i + 64);
        for (; i + 4 <= stop; i += 4)
            for (int j = 0; j < 4; ++j) {
                gx[j] *= 1.0 + x[i + j];
                gy[j] *= 1.0 + y[i + j];
                bad += (Growth::out_of_domain(x[i + j]) || Growth::out_of_domain(y[i + j])) ? 1.0 : 0.0;
            }
        for (; i < stop; ++i) {
            gx[0] *= 1.0 + x[i];
            gy[0] *= 1.0 + y[i];
            bad += (Growth::out_of_domain(x[i]) || Growth::out_of_domain(y[i])) ? 1.0 : 0.0;
        }
        for (int j = 0; j < 4; ++j) {
            int e = 0;
            gx[j] = std::frexp(gx[j], &e);
            g.exp_p += e;
            gy[j] = std::frexp(gy[j], &e);
            g.exp_b += e;
        }
    }
    g.bad = bad;
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

// ---- scaled redo for tiny or huge data ----------------------------------------
//
// The kernels above sum squares of the data's deviations, which underflow
// for data below about 1e-154 and overflow above about 1e154. Rather than
// slow every pass with a scaling step, a finished state is checked: when its
// magnitude max(|mean|, sqrt(M2 / n)) lies outside [2^-300, 2^300] (or is not
// finite), the series is summed again with its values multiplied by 2^-e,
// e chosen so the largest |value| lands in [1/2, 1). Multiplying by a power of
// two is exact (short of the extreme tails, which are negligible next to the
// largest value), so the scaled state is the data's state up to the factor,
// with every digit kept. Ordinary data never takes this path.

inline constexpr double tiny_magnitude = 0x1p-300;
inline constexpr double huge_magnitude = 0x1p+300;

inline bool ordinary_magnitude(double mean, double m2, double n) noexcept {
    const double spread = std::sqrt((m2 > 0.0 ? m2 : 0.0) / n);
    const double size = std::fabs(mean) > spread ? std::fabs(mean) : spread;
    return size >= tiny_magnitude && size <= huge_magnitude;  // false for NaN
}
inline bool ordinary(const Moments& s) noexcept {
    return !(s.n > 0.0) || ordinary_magnitude(s.mean, s.m2, s.n);
}
inline bool ordinary(const CoMoments& s) noexcept {
    return !(s.n > 0.0) || (ordinary_magnitude(s.mean_p, s.c_pp, s.n) &&
                            ordinary_magnitude(s.mean_b, s.c_bb, s.n) && std::isfinite(s.c_pb));
}

/// The exponent e that brings a largest magnitude `top` into [1/2, 1) when
/// multiplied by 2^-e, or 0 when there is nothing to scale (0, inf, NaN).
/// Clamped so that 2^-e is a double.
inline int scale_exponent(double top) noexcept {
    if (!(top > 0.0) || !std::isfinite(top)) return 0;
    const int e = std::ilogb(top) + 1;
    return e < -1000 ? -1000 : (e > 1023 ? 1023 : e);
}

/// The block loop for scaled data: every block is gathered (values mapped by
/// `map(x, y, xs[k], ys[k])`), compacted to its non-NaN pairs and summed by
/// Block::slow; the cascade as in run_blocks.
template <class Block, class State, class TP, class TB, class Map>
Accumulated<State> run_blocks_mapped(const View<TP>& p, const View<TB>& b, const Map& map) {
    alignas(64) double xs[block];
    alignas(64) double ys[block];
    Cascade<State> cascade;
    Accumulated<State> out;
    Block blk{};
    for (std::ptrdiff_t start = 0; start < p.size; start += block) {
        const std::ptrdiff_t len = std::min(block, p.size - start);
        std::ptrdiff_t k = 0;
        for (std::ptrdiff_t i = start; i < start + len; ++i) {
            const double x = static_cast<double>(p[i]), y = static_cast<double>(b[i]);
            if (is_nan(x) || is_nan(y)) continue;
            map(x, y, xs[k], ys[k]);
            ++k;
        }
        out.skipped += len - k;
        if (k > 0) cascade.push(blk.slow(xs, ys, k));
    }
    out.state = cascade.total();
    blk.finish(out.state);
    return out;
}

/// Largest |f(x, y)| over the pairs where neither is NaN (NaN if f is ever
/// NaN or inf there: such data has no finite moments to rescue).
template <class TP, class TB, class F>
double largest(const View<TP>& p, const View<TB>& b, const F& f) noexcept {
    double top = 0.0;
    for (std::ptrdiff_t i = 0; i < p.size; ++i) {
        const double x = static_cast<double>(p[i]), y = static_cast<double>(b[i]);
        if (is_nan(x) || is_nan(y)) continue;
        const double v = std::fabs(f(x, y));
        if (!(v <= std::numeric_limits<double>::max())) return nan_v;
        top = v > top ? v : top;
    }
    return top;
}

/// The active-return state of p - b summed again scaled, or `plain` when
/// the data have nothing to scale. The difference is taken first, as in the
/// plain kernels, then scaled: the block sums see (p - b) 2^-e and 0.
template <class Block, class TP, class TB>
Accumulated<Moments> active_scaled(const View<TP>& p, const View<TB>& b, const Accumulated<Moments>& plain) {
    const int e = scale_exponent(largest(p, b, [](double x, double y) { return x - y; }));
    if (e == 0) return plain;
    const double s = std::ldexp(1.0, -e);
    Accumulated<Moments> scaled =
        run_blocks_mapped<Block, Moments>(p, b, [s](double x, double y, double& xs, double& ys) {
            xs = (x - y) * s;
            ys = 0.0;
        });
    scaled.scale_p = e;
    return scaled;
}

inline void check_lengths(std::ptrdiff_t np, std::ptrdiff_t nb) {
    if (np != nb)
        throw std::invalid_argument("portfolio has length " + std::to_string(np) +
                                    " but benchmark has length " + std::to_string(nb));
}

}  // namespace detail

/// Moments of the active return a = p - b over the pairs where neither is NaN.
/// The subtraction is done first (one rounding), so a tracker that follows its
/// benchmark closely loses nothing to cancellation.
/// Tiny or huge data are summed scaled (see Accumulated::scale_p).
template <class TP, class TB>
Accumulated<Moments> active_moments(View<TP> p, View<TB> b) {
    detail::check_lengths(p.size, b.size);
    Accumulated<Moments> out = detail::run_blocks<detail::ActiveBlock, Moments>(p, b);
    if (detail::ordinary(out.state)) return out;
    return detail::active_scaled<detail::ActiveBlock>(p, b, out);
}

/// Count and mean of the active return only, in one pass, for metrics that
/// need no dispersion. The state's m2 is not computed: read n and mean.
/// A mean that overflowed is summed again scaled.
template <class TP, class TB>
Accumulated<Moments> active_mean(View<TP> p, View<TB> b) {
    detail::check_lengths(p.size, b.size);
    Accumulated<Moments> out = detail::run_blocks<detail::ActiveMeanBlock, Moments>(p, b);
    if (!(out.state.n > 0.0) || std::isfinite(out.state.mean)) return out;
    return detail::active_scaled<detail::ActiveMeanBlock>(p, b, out);
}

/// Joint moments (n, means, C_pp, C_bb, C_pb) over the pairs where neither is
/// NaN. Tiny or huge data are summed scaled (see Accumulated::scale_p).
template <class TP, class TB>
Accumulated<CoMoments> comoments(View<TP> p, View<TB> b) {
    detail::check_lengths(p.size, b.size);
    Accumulated<CoMoments> out = detail::run_blocks<detail::PairBlock, CoMoments>(p, b);
    if (detail::ordinary(out.state)) return out;
    // Each side is scaled only if it needs it (a zero benchmark does not).
    const CoMoments& c = out.state;
    const int ep = detail::ordinary_magnitude(c.mean_p, c.c_pp, c.n)
                       ? 0
                       : detail::scale_exponent(detail::largest(p, b, [](double x, double) { return x; }));
    const int eb = detail::ordinary_magnitude(c.mean_b, c.c_bb, c.n)
                       ? 0
                       : detail::scale_exponent(detail::largest(p, b, [](double, double y) { return y; }));
    if (ep == 0 && eb == 0) return out;
    const double sp = std::ldexp(1.0, -ep), sb = std::ldexp(1.0, -eb);
    Accumulated<CoMoments> scaled = detail::run_blocks_mapped<detail::PairBlock, CoMoments>(
        p, b, [sp, sb](double x, double y, double& xs, double& ys) {
            xs = x * sp;
            ys = y * sb;
        });
    scaled.scale_p = ep;
    scaled.scale_b = eb;
    return scaled;
}

/// The state in the data's units (it may underflow or overflow there: the
/// metric functions take the scale instead).
inline Moments unscaled(const Accumulated<Moments>& a) noexcept {
    Moments s = a.state;
    s.mean = std::ldexp(s.mean, a.scale_p);
    s.m2 = std::ldexp(s.m2, 2 * a.scale_p);
    return s;
}
inline CoMoments unscaled(const Accumulated<CoMoments>& a) noexcept {
    CoMoments s = a.state;
    s.mean_p = std::ldexp(s.mean_p, a.scale_p);
    s.mean_b = std::ldexp(s.mean_b, a.scale_b);
    s.c_pp = std::ldexp(s.c_pp, 2 * a.scale_p);
    s.c_bb = std::ldexp(s.c_bb, 2 * a.scale_b);
    s.c_pb = std::ldexp(s.c_pb, a.scale_p + a.scale_b);
    return s;
}

/// Compounded growth prod (1 + p), prod (1 + b) over the pairs where neither is NaN.
template <class TP, class TB>
Accumulated<Growth> growth(View<TP> p, View<TB> b) {
    detail::check_lengths(p.size, b.size);
    return detail::run_blocks<detail::GrowthBlock, Growth>(p, b);
}

TRACKERR_ISA_END
}  // namespace trackerr
