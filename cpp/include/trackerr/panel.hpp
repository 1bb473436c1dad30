// Full-sample kernels over T x N panels: N portfolios against one benchmark
// (a length-T column broadcast across portfolios: a Panel whose col_stride
// is 0) or against N benchmarks (a T x N panel).
//
// Layout decides the loop order. When portfolios sit next to each other in
// memory (C order), the panel is read row by row in tiles of `tile_cols`
// portfolios x `tile_rows` periods; the inner loop runs across portfolios, so
// it is contiguous and vectorizes, and each tile is read from memory once.
// Each tile is summed in one pass about a per-column shift, with a checked
// bound on cancellation (see well_conditioned) and a two-pass or masked
// redo when it fails; tile states are merged per column through a pairwise
// cascade, as in the 1-D kernels (batch.hpp). When
// periods sit next to each other (Fortran order, or a single column), each
// column is handed to the 1-D kernel.
#pragma once

#include "detail/isa.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "batch.hpp"

namespace trackerr {
TRACKERR_ISA_BEGIN

namespace detail {

inline constexpr std::ptrdiff_t tile_cols = 128;
inline constexpr std::ptrdiff_t tile_rows = 128;

inline int tile_count(std::ptrdiff_t rows) noexcept {
    return static_cast<int>((rows + tile_rows - 1) / tile_rows);
}

// Access modes for the inner loop across portfolios: 0 = one value per row
// (broadcast benchmark), 1 = contiguous, 2 = any byte stride.
template <int Mode, class T>
inline double at(const T* row, std::ptrdiff_t j, std::ptrdiff_t stride) noexcept {
    if constexpr (Mode == 0)
        return static_cast<double>(row[0]);
    else if constexpr (Mode == 1)
        return static_cast<double>(row[j]);
    else
        return static_cast<double>(
            *reinterpret_cast<const T*>(reinterpret_cast<const char*>(row) + j * stride));
}

template <class T>
inline const T* offset(const T* base, std::ptrdiff_t bytes) noexcept {
    return reinterpret_cast<const T*>(reinterpret_cast<const char*>(base) + bytes);
}
template <class T>
inline T* offset(T* base, std::ptrdiff_t bytes) noexcept {
    return reinterpret_cast<T*>(reinterpret_cast<char*>(base) + bytes);
}

// Per-tile arithmetic shared by the row-wise kernels.
//
// A tile is one pass over tile_rows x w values with sums about a per-column
// shift K (the previous tile's mean, or the first row's value):
//   S1 = sum (a - K),  S2 = sum (a - K)^2,  M2 = S2 - S1^2 / n.
// The rounding error of M2 is about eps (1 + r) / (1 - r) relative, with
// r = S1^2 / (n S2) the share of S2 that cancels; with r <= 1/2 that is a few
// ulps. A tile where some column has r > 1/2 (the level jumped) is redone in
// two passes, about its own mean; a tile holding a NaN is redone with masks.
inline constexpr double max_cancellation = 0.5;

inline bool well_conditioned(double s1, double s2, double n) noexcept {
    return s1 * s1 <= max_cancellation * n * s2;  // false for NaN
}

template <int PMode, int BMode, class TP, class TB>
void active_rowwise(const Panel<TP>& p, const Panel<TB>& b, Accumulated<Moments>* out) {
    const std::ptrdiff_t T = p.rows, N = p.cols;
    constexpr std::ptrdiff_t W = tile_cols;
    // Per-portfolio state lives across row tiles; per-tile sums are scratch.
    CascadeSet<Moments> cascades(N, tile_count(T));
    std::vector<double> shift_all(static_cast<std::size_t>(N), nan_v);
    std::vector<double> level_all(static_cast<std::size_t>(N), nan_v);  // see centred_active
    std::vector<std::int64_t> skip_all(static_cast<std::size_t>(N), 0);
    double cnt[W], s1[W], s2[W];
    // Row tiles outside, column groups inside: the panel is read in memory order.
    for (std::ptrdiff_t r0 = 0; r0 < T; r0 += tile_rows) {
        const std::ptrdiff_t r1 = std::min(T, r0 + tile_rows);
        const double rows = static_cast<double>(r1 - r0);
        for (std::ptrdiff_t c0 = 0; c0 < N; c0 += W) {
            const std::ptrdiff_t w = std::min(W, N - c0);
            double* shift = shift_all.data() + c0;
            double* level = level_all.data() + c0;
            std::int64_t* skip = skip_all.data() + c0;
            const TP* pcol = offset(p.data, c0 * p.col_stride);
            const TB* bcol = offset(b.data, c0 * b.col_stride);
            // Sums of (a - shift) and its square over rows [r0, r1).
            auto shifted_sums = [&](std::ptrdiff_t first, std::ptrdiff_t last) {
                for (std::ptrdiff_t j = 0; j < w; ++j) s1[j] = s2[j] = 0.0;
                for (std::ptrdiff_t r = first; r < last; ++r) {
                    const TP* pr = offset(pcol, r * p.row_stride);
                    const TB* br = offset(bcol, r * b.row_stride);
                    for (std::ptrdiff_t j = 0; j < w; ++j) {
                        const double d =
                            (at<PMode>(pr, j, p.col_stride) - at<BMode>(br, j, b.col_stride)) - shift[j];
                        s1[j] += d;
                        s2[j] += d * d;
                    }
                }
            };
            {
                const TP* pr = offset(pcol, r0 * p.row_stride);
                const TB* br = offset(bcol, r0 * b.row_stride);
                for (std::ptrdiff_t j = 0; j < w; ++j)
                    if (is_nan(shift[j]))
                        shift[j] = at<PMode>(pr, j, p.col_stride) - at<BMode>(br, j, b.col_stride);
            }
            shifted_sums(r0, r1);
            bool ok = true;
            for (std::ptrdiff_t j = 0; j < w; ++j) ok &= well_conditioned(s1[j], s2[j], rows);
            if (!ok) {  // two passes: move the shift to the tile's mean, then sum again
                for (std::ptrdiff_t j = 0; j < w; ++j) shift[j] += s1[j] / rows;
                ok = true;
                for (std::ptrdiff_t j = 0; j < w; ++j) ok &= !is_nan(shift[j]);
                if (ok) shifted_sums(r0, r1);
            }
            if (ok) {
                for (std::ptrdiff_t j = 0; j < w; ++j) {
                    if (is_nan(level[j])) level[j] = shift[j];
                    Moments m;
                    m.n = rows;
                    m.mean = (shift[j] - level[j]) + s1[j] / rows;
                    m.m2 = nonneg(s2[j] - s1[j] * s1[j] / rows);
                    cascades.push(c0 + j, m);
                    shift[j] += s1[j] / rows;
                }
                continue;
            }
            // Masked path: the tile holds a NaN. Counts and sums of the valid
            // active returns, then centred sums about their mean.
            for (std::ptrdiff_t j = 0; j < w; ++j) cnt[j] = s1[j] = s2[j] = shift[j] = 0.0;
            for (std::ptrdiff_t r = r0; r < r1; ++r) {
                const TP* pr = offset(pcol, r * p.row_stride);
                const TB* br = offset(bcol, r * b.row_stride);
                for (std::ptrdiff_t j = 0; j < w; ++j) {
                    const double x = at<PMode>(pr, j, p.col_stride);
                    const double y = at<BMode>(br, j, b.col_stride);
                    const bool v = !is_nan(x) && !is_nan(y);
                    cnt[j] += v ? 1.0 : 0.0;
                    shift[j] += v ? x - y : 0.0;
                }
            }
            for (std::ptrdiff_t j = 0; j < w; ++j) shift[j] = cnt[j] > 0.0 ? shift[j] / cnt[j] : 0.0;
            for (std::ptrdiff_t r = r0; r < r1; ++r) {
                const TP* pr = offset(pcol, r * p.row_stride);
                const TB* br = offset(bcol, r * b.row_stride);
                for (std::ptrdiff_t j = 0; j < w; ++j) {
                    const double x = at<PMode>(pr, j, p.col_stride);
                    const double y = at<BMode>(br, j, b.col_stride);
                    const bool v = !is_nan(x) && !is_nan(y);
                    const double d = v ? (x - y) - shift[j] : 0.0;
                    s1[j] += d;
                    s2[j] += d * d;
                }
            }
            for (std::ptrdiff_t j = 0; j < w; ++j) {
                skip[j] += static_cast<std::int64_t>(rows - cnt[j]);
                if (cnt[j] > 0.0) {
                    if (is_nan(level[j])) level[j] = is_nan(shift[j]) ? 0.0 : shift[j];
                    Moments m;
                    m.n = cnt[j];
                    m.mean = (shift[j] - level[j]) + s1[j] / cnt[j];
                    m.m2 = nonneg(s2[j] - s1[j] * s1[j] / cnt[j]);
                    cascades.push(c0 + j, m);
                }
                // next tile: shift from this tile's mean, or from its first row when there is none
                if (!(cnt[j] > 0.0) || is_nan(shift[j]) || std::isinf(shift[j]))
                    shift[j] = nan_v;
                else
                    shift[j] += s1[j] / cnt[j];
            }
        }
    }
    for (std::ptrdiff_t j = 0; j < N; ++j) {
        out[j].state = cascades.total(j);
        if (out[j].state.n > 0.0) out[j].state.mean += level_all[static_cast<std::size_t>(j)];
        out[j].skipped = skip_all[static_cast<std::size_t>(j)];
    }
}

template <int PMode, int BMode, class TP, class TB>
void comoments_rowwise(const Panel<TP>& p, const Panel<TB>& b, Accumulated<CoMoments>* out) {
    const std::ptrdiff_t T = p.rows, N = p.cols;
    constexpr std::ptrdiff_t W = tile_cols;
    // Per-portfolio state lives across row tiles; per-tile sums are scratch.
    const auto n_cols = static_cast<std::size_t>(N);
    CascadeSet<CoMoments> cascades(N, tile_count(T));
    std::vector<double> kp_all(n_cols, nan_v), kb_all(n_cols, nan_v);  // shifts
    std::vector<double> lp_all(n_cols, nan_v), lb_all(n_cols, nan_v);  // levels: see centred_active
    std::vector<std::int64_t> skip_all(n_cols, 0);
    double cnt[W], ap[W], ab[W], app[W], abb[W], apb[W];
    // Row tiles outside, column groups inside: the panel is read in memory order.
    for (std::ptrdiff_t r0 = 0; r0 < T; r0 += tile_rows) {
        const std::ptrdiff_t r1 = std::min(T, r0 + tile_rows);
        const double rows = static_cast<double>(r1 - r0);
        for (std::ptrdiff_t c0 = 0; c0 < N; c0 += W) {
            const std::ptrdiff_t w = std::min(W, N - c0);
            double* kp = kp_all.data() + c0;
            double* kb = kb_all.data() + c0;
            double* level_p = lp_all.data() + c0;
            double* level_b = lb_all.data() + c0;
            std::int64_t* skip = skip_all.data() + c0;
            const TP* pcol = offset(p.data, c0 * p.col_stride);
            const TB* bcol = offset(b.data, c0 * b.col_stride);
            // Sums of the shifted values (masked: pairs with a NaN count as zero).
            auto shifted_sums = [&](std::ptrdiff_t first, std::ptrdiff_t last, auto masked) {
                for (std::ptrdiff_t j = 0; j < w; ++j) ap[j] = ab[j] = app[j] = abb[j] = apb[j] = 0.0;
                for (std::ptrdiff_t r = first; r < last; ++r) {
                    const TP* pr = offset(pcol, r * p.row_stride);
                    const TB* br = offset(bcol, r * b.row_stride);
                    for (std::ptrdiff_t j = 0; j < w; ++j) {
                        const double x = at<PMode>(pr, j, p.col_stride);
                        const double y = at<BMode>(br, j, b.col_stride);
                        double dx = x - kp[j], dy = y - kb[j];
                        if constexpr (decltype(masked)::value) {
                            const bool v = !is_nan(x) && !is_nan(y);
                            dx = v ? dx : 0.0;
                            dy = v ? dy : 0.0;
                        }
                        ap[j] += dx;
                        ab[j] += dy;
                        app[j] += dx * dx;
                        abb[j] += dy * dy;
                        apb[j] += dx * dy;
                    }
                }
            };
            auto push = [&](std::ptrdiff_t j, double k) {
                if (is_nan(level_p[j])) {
                    level_p[j] = is_nan(kp[j]) ? 0.0 : kp[j];
                    level_b[j] = is_nan(kb[j]) ? 0.0 : kb[j];
                }
                CoMoments m;
                m.n = k;
                m.mean_p = (kp[j] - level_p[j]) + ap[j] / k;
                m.mean_b = (kb[j] - level_b[j]) + ab[j] / k;
                m.c_pp = nonneg(app[j] - ap[j] * ap[j] / k);
                m.c_bb = nonneg(abb[j] - ab[j] * ab[j] / k);
                m.c_pb = apb[j] - ap[j] * ab[j] / k;
                cascades.push(c0 + j, m);
            };
            {
                const TP* pr = offset(pcol, r0 * p.row_stride);
                const TB* br = offset(bcol, r0 * b.row_stride);
                for (std::ptrdiff_t j = 0; j < w; ++j)
                    if (is_nan(kp[j]) || is_nan(kb[j])) {
                        kp[j] = at<PMode>(pr, j, p.col_stride);
                        kb[j] = at<BMode>(br, j, b.col_stride);
                    }
            }
            shifted_sums(r0, r1, std::false_type{});
            bool ok = true;
            for (std::ptrdiff_t j = 0; j < w; ++j)
                ok &= well_conditioned(ap[j], app[j], rows) && well_conditioned(ab[j], abb[j], rows);
            if (!ok) {  // two passes: move the shifts to the tile's means, then sum again
                for (std::ptrdiff_t j = 0; j < w; ++j) {
                    kp[j] += ap[j] / rows;
                    kb[j] += ab[j] / rows;
                }
                ok = true;
                for (std::ptrdiff_t j = 0; j < w; ++j) ok &= !is_nan(kp[j]) && !is_nan(kb[j]);
                if (ok) shifted_sums(r0, r1, std::false_type{});
            }
            if (ok) {
                for (std::ptrdiff_t j = 0; j < w; ++j) {
                    push(j, rows);
                    kp[j] += ap[j] / rows;
                    kb[j] += ab[j] / rows;
                }
                continue;
            }
            // Masked path: the tile holds a NaN. Means of the valid pairs, then
            // centred sums about them.
            for (std::ptrdiff_t j = 0; j < w; ++j) cnt[j] = kp[j] = kb[j] = 0.0;
            for (std::ptrdiff_t r = r0; r < r1; ++r) {
                const TP* pr = offset(pcol, r * p.row_stride);
                const TB* br = offset(bcol, r * b.row_stride);
                for (std::ptrdiff_t j = 0; j < w; ++j) {
                    const double x = at<PMode>(pr, j, p.col_stride);
                    const double y = at<BMode>(br, j, b.col_stride);
                    const bool v = !is_nan(x) && !is_nan(y);
                    cnt[j] += v ? 1.0 : 0.0;
                    kp[j] += v ? x : 0.0;
                    kb[j] += v ? y : 0.0;
                }
            }
            for (std::ptrdiff_t j = 0; j < w; ++j) {
                kp[j] = cnt[j] > 0.0 ? kp[j] / cnt[j] : 0.0;
                kb[j] = cnt[j] > 0.0 ? kb[j] / cnt[j] : 0.0;
            }
            shifted_sums(r0, r1, std::true_type{});
            for (std::ptrdiff_t j = 0; j < w; ++j) {
                skip[j] += static_cast<std::int64_t>(rows - cnt[j]);
                if (cnt[j] > 0.0) push(j, cnt[j]);
                if (cnt[j] > 0.0 && std::isfinite(kp[j]) && std::isfinite(kb[j])) {
                    kp[j] += ap[j] / cnt[j];
                    kb[j] += ab[j] / cnt[j];
                } else {
                    kp[j] = kb[j] = nan_v;  // next tile: shifts from its first row
                }
            }
        }
    }
    for (std::ptrdiff_t j = 0; j < N; ++j) {
        const auto u = static_cast<std::size_t>(j);
        out[j].state = cascades.total(j);
        if (out[j].state.n > 0.0) {
            out[j].state.mean_p += lp_all[u];
            out[j].state.mean_b += lb_all[u];
        }
        out[j].skipped = skip_all[u];
    }
}

inline int access_mode(std::ptrdiff_t col_stride, std::size_t itemsize) noexcept {
    if (col_stride == 0) return 0;
    return col_stride == static_cast<std::ptrdiff_t>(itemsize) ? 1 : 2;
}

// Picks the (PMode, BMode) instantiation for a row-wise kernel.
template <template <int, int> class Kernel, class TP, class TB, class Out>
void dispatch_rowwise(const Panel<TP>& p, const Panel<TB>& b, Out* out) {
    const int pm = access_mode(p.col_stride, sizeof(TP)) == 1 ? 1 : 2;
    const int bm = access_mode(b.col_stride, sizeof(TB));
    if (pm == 1) {
        if (bm == 0) return Kernel<1, 0>::run(p, b, out);
        if (bm == 1) return Kernel<1, 1>::run(p, b, out);
        return Kernel<1, 2>::run(p, b, out);
    }
    if (bm == 0) return Kernel<2, 0>::run(p, b, out);
    if (bm == 1) return Kernel<2, 1>::run(p, b, out);
    return Kernel<2, 2>::run(p, b, out);
}

template <int PM, int BM>
struct ActiveRowwise {
    template <class TP, class TB>
    static void run(const Panel<TP>& p, const Panel<TB>& b, Accumulated<Moments>* out) {
        active_rowwise<PM, BM>(p, b, out);
    }
};
template <int PM, int BM>
struct CoMomentsRowwise {
    template <class TP, class TB>
    static void run(const Panel<TP>& p, const Panel<TB>& b, Accumulated<CoMoments>* out) {
        comoments_rowwise<PM, BM>(p, b, out);
    }
};

template <class TP, class TB>
void check_panels(const Panel<TP>& p, const Panel<TB>& b) {
    if (p.rows != b.rows)
        throw std::invalid_argument("portfolio has " + std::to_string(p.rows) + " rows but benchmark has " +
                                    std::to_string(b.rows));
    if (b.col_stride != 0 && b.cols != p.cols)
        throw std::invalid_argument("portfolio has " + std::to_string(p.cols) +
                                    " columns but benchmark has " + std::to_string(b.cols));
}

// Row-wise when portfolios are closer together in memory than periods.
template <class TP>
bool prefer_rowwise(const Panel<TP>& p) noexcept {
    return p.cols > 1 && std::abs(p.col_stride) < std::abs(p.row_stride);
}

}  // namespace detail

/// Broadcasts a benchmark series across `cols` portfolios (a panel with col_stride 0).
template <class TB>
Panel<TB> broadcast(View<TB> b, std::ptrdiff_t cols) noexcept {
    return Panel<TB>(b.data, b.size, cols, b.stride, 0);
}

/// Per-column moments of the active return p[:, j] - b[:, j]; out has p.cols entries.
/// A column of tiny or huge values (see Accumulated in batch.hpp) is summed
/// again by the 1-D kernel, which scales it.
template <class TP, class TB>
void active_moments(const Panel<TP>& p, const Panel<TB>& b, Accumulated<Moments>* out) {
    detail::check_panels(p, b);
    if (!detail::prefer_rowwise(p)) {
        for (std::ptrdiff_t c = 0; c < p.cols; ++c) out[c] = active_moments(p.column(c), b.column(c));
        return;
    }
    detail::dispatch_rowwise<detail::ActiveRowwise>(p, b, out);
    for (std::ptrdiff_t c = 0; c < p.cols; ++c)
        if (!detail::ordinary(out[c].state)) out[c] = active_moments(p.column(c), b.column(c));
}

/// Per-column joint moments of p[:, j] and b[:, j]; out has p.cols entries.
/// Columns of tiny or huge values are summed scaled, as in active_moments.
template <class TP, class TB>
void comoments(const Panel<TP>& p, const Panel<TB>& b, Accumulated<CoMoments>* out) {
    detail::check_panels(p, b);
    if (!detail::prefer_rowwise(p)) {
        for (std::ptrdiff_t c = 0; c < p.cols; ++c) out[c] = comoments(p.column(c), b.column(c));
        return;
    }
    detail::dispatch_rowwise<detail::CoMomentsRowwise>(p, b, out);
    for (std::ptrdiff_t c = 0; c < p.cols; ++c)
        if (!detail::ordinary(out[c].state)) out[c] = comoments(p.column(c), b.column(c));
}

/// Per-column compounded growth of p[:, j] and b[:, j] (column by column).
template <class TP, class TB>
void growth(const Panel<TP>& p, const Panel<TB>& b, Accumulated<Growth>* out) {
    detail::check_panels(p, b);
    for (std::ptrdiff_t c = 0; c < p.cols; ++c) out[c] = growth(p.column(c), b.column(c));
}

TRACKERR_ISA_END
}  // namespace trackerr
