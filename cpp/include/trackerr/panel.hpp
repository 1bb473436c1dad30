// Full-sample kernels over T x N panels: N portfolios against one benchmark
// (a length-T column broadcast across portfolios: a Panel whose col_stride
// is 0) or against N benchmarks (a T x N panel).
//
// Layout decides the loop order. When portfolios sit next to each other in
// memory (C order), the panel is read row by row in tiles of `tile_cols`
// portfolios x `tile_rows` periods; the inner loop runs across portfolios, so
// it is contiguous and vectorizes, and each tile is read from memory once.
// The per-tile arithmetic is the same two-pass block scheme as the 1-D
// kernels (batch.hpp), merged per column through a pairwise cascade. When
// periods sit next to each other (Fortran order, or a single column), each
// column is handed to the 1-D kernel.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "batch.hpp"

namespace trackerr {

namespace detail {

inline constexpr std::ptrdiff_t tile_cols = 128;
inline constexpr std::ptrdiff_t tile_rows = 32;

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

template <int PMode, int BMode, class TP, class TB>
void active_rowwise(const Panel<TP>& p, const Panel<TB>& b, Accumulated<Moments>* out) {
    const std::ptrdiff_t T = p.rows, N = p.cols;
    constexpr std::ptrdiff_t W = tile_cols;
    std::vector<Cascade<Moments>> cascades(static_cast<std::size_t>(std::min(W, N)));
    double cnt[W], sum[W], mean[W], s1[W], s2[W], level[W];  // level: see centred_active
    std::int64_t skip[W];
    for (std::ptrdiff_t c0 = 0; c0 < N; c0 += W) {
        const std::ptrdiff_t w = std::min(W, N - c0);
        for (std::ptrdiff_t j = 0; j < w; ++j) {
            cascades[static_cast<std::size_t>(j)] = Cascade<Moments>{};
            skip[j] = 0;
            level[j] = nan_v;
        }
        const TP* pcol = offset(p.data, c0 * p.col_stride);
        const TB* bcol = offset(b.data, c0 * b.col_stride);
        for (std::ptrdiff_t r0 = 0; r0 < T; r0 += tile_rows) {
            const std::ptrdiff_t r1 = std::min(T, r0 + tile_rows);
            const double rows = static_cast<double>(r1 - r0);
            // Fast path: sums relative to the tile's first row (exact means for
            // constant columns); a NaN anywhere in a column shows up in its sum.
            {
                const TP* pr = offset(pcol, r0 * p.row_stride);
                const TB* br = offset(bcol, r0 * b.row_stride);
                for (std::ptrdiff_t j = 0; j < w; ++j) {
                    mean[j] = at<PMode>(pr, j, p.col_stride) - at<BMode>(br, j, b.col_stride);
                    sum[j] = s1[j] = s2[j] = 0.0;
                }
            }
            for (std::ptrdiff_t r = r0; r < r1; ++r) {
                const TP* pr = offset(pcol, r * p.row_stride);
                const TB* br = offset(bcol, r * b.row_stride);
                for (std::ptrdiff_t j = 0; j < w; ++j)
                    sum[j] += (at<PMode>(pr, j, p.col_stride) - at<BMode>(br, j, b.col_stride)) - mean[j];
            }
            bool clean = true;
            for (std::ptrdiff_t j = 0; j < w; ++j) clean &= !is_nan(sum[j]);
            if (clean) {
                for (std::ptrdiff_t j = 0; j < w; ++j) mean[j] += sum[j] / rows;
                for (std::ptrdiff_t r = r0; r < r1; ++r) {
                    const TP* pr = offset(pcol, r * p.row_stride);
                    const TB* br = offset(bcol, r * b.row_stride);
                    for (std::ptrdiff_t j = 0; j < w; ++j) {
                        const double d =
                            (at<PMode>(pr, j, p.col_stride) - at<BMode>(br, j, b.col_stride)) - mean[j];
                        s1[j] += d;
                        s2[j] += d * d;
                    }
                }
                for (std::ptrdiff_t j = 0; j < w; ++j) {
                    Moments m;
                    m.n = rows;
                    if (is_nan(level[j])) level[j] = mean[j];
                    m.mean = (mean[j] - level[j]) + s1[j] / rows;
                    m.m2 = nonneg(s2[j] - s1[j] * s1[j] / rows);
                    cascades[static_cast<std::size_t>(j)].push(m);
                }
                continue;
            }
            for (std::ptrdiff_t j = 0; j < w; ++j) cnt[j] = sum[j] = 0.0;
            // Masked path: counts and sums of the valid active returns.
            for (std::ptrdiff_t r = r0; r < r1; ++r) {
                const TP* pr = offset(pcol, r * p.row_stride);
                const TB* br = offset(bcol, r * b.row_stride);
                for (std::ptrdiff_t j = 0; j < w; ++j) {
                    const double x = at<PMode>(pr, j, p.col_stride);
                    const double y = at<BMode>(br, j, b.col_stride);
                    const bool v = !is_nan(x) && !is_nan(y);
                    cnt[j] += v ? 1.0 : 0.0;
                    sum[j] += v ? x - y : 0.0;
                }
            }
            for (std::ptrdiff_t j = 0; j < w; ++j) mean[j] = cnt[j] > 0.0 ? sum[j] / cnt[j] : 0.0;
            // Pass 2 (tile still in cache): centred sums with the correction term.
            for (std::ptrdiff_t r = r0; r < r1; ++r) {
                const TP* pr = offset(pcol, r * p.row_stride);
                const TB* br = offset(bcol, r * b.row_stride);
                for (std::ptrdiff_t j = 0; j < w; ++j) {
                    const double x = at<PMode>(pr, j, p.col_stride);
                    const double y = at<BMode>(br, j, b.col_stride);
                    const bool v = !is_nan(x) && !is_nan(y);
                    const double d = v ? (x - y) - mean[j] : 0.0;
                    s1[j] += d;
                    s2[j] += d * d;
                }
            }
            for (std::ptrdiff_t j = 0; j < w; ++j) {
                skip[j] += static_cast<std::int64_t>(rows - cnt[j]);
                if (cnt[j] > 0.0) {
                    Moments m;
                    m.n = cnt[j];
                    if (is_nan(level[j])) level[j] = is_nan(mean[j]) ? 0.0 : mean[j];
                    m.mean = (mean[j] - level[j]) + s1[j] / cnt[j];
                    m.m2 = nonneg(s2[j] - s1[j] * s1[j] / cnt[j]);
                    cascades[static_cast<std::size_t>(j)].push(m);
                }
            }
        }
        for (std::ptrdiff_t j = 0; j < w; ++j) {
            out[c0 + j].state = cascades[static_cast<std::size_t>(j)].total();
            if (out[c0 + j].state.n > 0.0) out[c0 + j].state.mean += level[j];
            out[c0 + j].skipped = skip[j];
        }
    }
}

template <int PMode, int BMode, class TP, class TB>
void comoments_rowwise(const Panel<TP>& p, const Panel<TB>& b, Accumulated<CoMoments>* out) {
    const std::ptrdiff_t T = p.rows, N = p.cols;
    constexpr std::ptrdiff_t W = tile_cols;
    std::vector<Cascade<CoMoments>> cascades(static_cast<std::size_t>(std::min(W, N)));
    double cnt[W], sp[W], sb[W], mp[W], mb[W], ap[W], ab[W], app[W], abb[W], apb[W];
    double level_p[W], level_b[W];  // reference levels: see centred_active
    std::int64_t skip[W];
    for (std::ptrdiff_t c0 = 0; c0 < N; c0 += W) {
        const std::ptrdiff_t w = std::min(W, N - c0);
        for (std::ptrdiff_t j = 0; j < w; ++j) {
            cascades[static_cast<std::size_t>(j)] = Cascade<CoMoments>{};
            skip[j] = 0;
            level_p[j] = level_b[j] = nan_v;
        }
        const TP* pcol = offset(p.data, c0 * p.col_stride);
        const TB* bcol = offset(b.data, c0 * b.col_stride);
        for (std::ptrdiff_t r0 = 0; r0 < T; r0 += tile_rows) {
            const std::ptrdiff_t r1 = std::min(T, r0 + tile_rows);
            const double rows = static_cast<double>(r1 - r0);
            // Fast path: sums relative to the tile's first row (exact means for
            // constant columns); a NaN anywhere in a column shows up in its sums.
            {
                const TP* pr = offset(pcol, r0 * p.row_stride);
                const TB* br = offset(bcol, r0 * b.row_stride);
                for (std::ptrdiff_t j = 0; j < w; ++j) {
                    mp[j] = at<PMode>(pr, j, p.col_stride);
                    mb[j] = at<BMode>(br, j, b.col_stride);
                    sp[j] = sb[j] = ap[j] = ab[j] = app[j] = abb[j] = apb[j] = 0.0;
                }
            }
            for (std::ptrdiff_t r = r0; r < r1; ++r) {
                const TP* pr = offset(pcol, r * p.row_stride);
                const TB* br = offset(bcol, r * b.row_stride);
                for (std::ptrdiff_t j = 0; j < w; ++j) {
                    sp[j] += at<PMode>(pr, j, p.col_stride) - mp[j];
                    sb[j] += at<BMode>(br, j, b.col_stride) - mb[j];
                }
            }
            bool clean = true;
            for (std::ptrdiff_t j = 0; j < w; ++j) clean &= !is_nan(sp[j]) && !is_nan(sb[j]);
            if (clean) {
                for (std::ptrdiff_t j = 0; j < w; ++j) {
                    mp[j] += sp[j] / rows;
                    mb[j] += sb[j] / rows;
                }
                for (std::ptrdiff_t r = r0; r < r1; ++r) {
                    const TP* pr = offset(pcol, r * p.row_stride);
                    const TB* br = offset(bcol, r * b.row_stride);
                    for (std::ptrdiff_t j = 0; j < w; ++j) {
                        const double dx = at<PMode>(pr, j, p.col_stride) - mp[j];
                        const double dy = at<BMode>(br, j, b.col_stride) - mb[j];
                        ap[j] += dx;
                        ab[j] += dy;
                        app[j] += dx * dx;
                        abb[j] += dy * dy;
                        apb[j] += dx * dy;
                    }
                }
                for (std::ptrdiff_t j = 0; j < w; ++j) cnt[j] = rows;
            } else {
            for (std::ptrdiff_t j = 0; j < w; ++j)
                cnt[j] = sp[j] = sb[j] = ap[j] = ab[j] = app[j] = abb[j] = apb[j] = 0.0;
            for (std::ptrdiff_t r = r0; r < r1; ++r) {
                const TP* pr = offset(pcol, r * p.row_stride);
                const TB* br = offset(bcol, r * b.row_stride);
                for (std::ptrdiff_t j = 0; j < w; ++j) {
                    const double x = at<PMode>(pr, j, p.col_stride);
                    const double y = at<BMode>(br, j, b.col_stride);
                    const bool v = !is_nan(x) && !is_nan(y);
                    cnt[j] += v ? 1.0 : 0.0;
                    sp[j] += v ? x : 0.0;
                    sb[j] += v ? y : 0.0;
                }
            }
            for (std::ptrdiff_t j = 0; j < w; ++j) {
                mp[j] = cnt[j] > 0.0 ? sp[j] / cnt[j] : 0.0;
                mb[j] = cnt[j] > 0.0 ? sb[j] / cnt[j] : 0.0;
            }
            for (std::ptrdiff_t r = r0; r < r1; ++r) {
                const TP* pr = offset(pcol, r * p.row_stride);
                const TB* br = offset(bcol, r * b.row_stride);
                for (std::ptrdiff_t j = 0; j < w; ++j) {
                    const double x = at<PMode>(pr, j, p.col_stride);
                    const double y = at<BMode>(br, j, b.col_stride);
                    const bool v = !is_nan(x) && !is_nan(y);
                    const double dx = v ? x - mp[j] : 0.0;
                    const double dy = v ? y - mb[j] : 0.0;
                    ap[j] += dx;
                    ab[j] += dy;
                    app[j] += dx * dx;
                    abb[j] += dy * dy;
                    apb[j] += dx * dy;
                }
            }
            }
            for (std::ptrdiff_t j = 0; j < w; ++j) {
                skip[j] += static_cast<std::int64_t>(rows - cnt[j]);
                if (cnt[j] > 0.0) {
                    const double k = cnt[j];
                    CoMoments m;
                    m.n = k;
                    if (is_nan(level_p[j])) {
                        level_p[j] = is_nan(mp[j]) ? 0.0 : mp[j];
                        level_b[j] = is_nan(mb[j]) ? 0.0 : mb[j];
                    }
                    m.mean_p = (mp[j] - level_p[j]) + ap[j] / k;
                    m.mean_b = (mb[j] - level_b[j]) + ab[j] / k;
                    m.c_pp = nonneg(app[j] - ap[j] * ap[j] / k);
                    m.c_bb = nonneg(abb[j] - ab[j] * ab[j] / k);
                    m.c_pb = apb[j] - ap[j] * ab[j] / k;
                    cascades[static_cast<std::size_t>(j)].push(m);
                }
            }
        }
        for (std::ptrdiff_t j = 0; j < w; ++j) {
            out[c0 + j].state = cascades[static_cast<std::size_t>(j)].total();
            if (out[c0 + j].state.n > 0.0) {
                out[c0 + j].state.mean_p += level_p[j];
                out[c0 + j].state.mean_b += level_b[j];
            }
            out[c0 + j].skipped = skip[j];
        }
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
template <class TP, class TB>
void active_moments(const Panel<TP>& p, const Panel<TB>& b, Accumulated<Moments>* out) {
    detail::check_panels(p, b);
    if (detail::prefer_rowwise(p)) return detail::dispatch_rowwise<detail::ActiveRowwise>(p, b, out);
    for (std::ptrdiff_t c = 0; c < p.cols; ++c) out[c] = active_moments(p.column(c), b.column(c));
}

/// Per-column joint moments of p[:, j] and b[:, j]; out has p.cols entries.
template <class TP, class TB>
void comoments(const Panel<TP>& p, const Panel<TB>& b, Accumulated<CoMoments>* out) {
    detail::check_panels(p, b);
    if (detail::prefer_rowwise(p)) return detail::dispatch_rowwise<detail::CoMomentsRowwise>(p, b, out);
    for (std::ptrdiff_t c = 0; c < p.cols; ++c) out[c] = comoments(p.column(c), b.column(c));
}

/// Per-column compounded growth of p[:, j] and b[:, j] (column by column).
template <class TP, class TB>
void growth(const Panel<TP>& p, const Panel<TB>& b, Accumulated<Growth>* out) {
    detail::check_panels(p, b);
    for (std::ptrdiff_t c = 0; c < p.cols; ++c) out[c] = growth(p.column(c), b.column(c));
}

}  // namespace trackerr
