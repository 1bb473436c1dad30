// Rolling metrics over T x N panels: every column of the portfolio against
// its benchmark (a broadcast length-T column, or a T x N panel).
//
// Column c of the result is, bit for bit, what the 1-D kernel (rolling.hpp)
// computes on column c: the column is cut into the same segments
// (segment_length), each segment starts from the same rebuild of the window
// before it (SeriesSteps::begin), and every row of a column takes the same
// step as in the 1-D kernel, whatever else shares its vector:
//   - the window is steady (w finite values) and the entering value finite:
//     the replace step (MomentLanes / CoMomentLanes::replace of window.hpp),
//     then, when its guard is not quiet, the general step's finish (constant
//     window, rebuild from the window) on that column alone;
//   - otherwise the general step of the column (SeriesSteps::step).
// Neither the lanes' width (the instruction set), nor the neighbouring
// columns, nor the split of columns across threads enters any column's
// arithmetic.
//
// Why rows. When portfolios sit next to each other in memory (C order),
// walking each column down its rows touches a new cache line (and, for a wide
// panel, a new page) for every value read and written: the hardware
// prefetchers do not follow such strides, and the panel runs at the speed of
// memory latency. Here the loop runs along rows instead: the per-column window
// states are kept as structure-of-arrays over groups of W neighbouring
// columns (the fields of MomentLanes<V> side by side), and each row is one
// sequential sweep that loads a group's state, the entering row slice, the
// leaving one (row t - w, still in cache) and the benchmark (one value for a
// broadcast column, or a slice), steps, and stores the state and the output
// slice. The states of 2000 columns (7 doubles each for the tracking error)
// stay in the core's L2 cache, and every array is read and written in memory
// order. Layouts where periods are adjacent (Fortran order), and panels of
// fewer than 4 W columns, keep the lane driver of rolling.hpp.
//
// This header is included at the end of rolling.hpp (and includes it), so a
// user of either gets the panel kernel.
#pragma once

#include "detail/isa.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "detail/parallel.hpp"
#include "detail/simd.hpp"
#include "panel.hpp"
#include "rolling.hpp"
#include "view.hpp"
#include "window.hpp"

namespace trackerr {
TRACKERR_ISA_BEGIN

namespace detail {

/// Values of W neighbouring columns of one row (W = lanes of V), from the
/// first one's address and the columns' byte stride: one vector load when the
/// columns are adjacent doubles, one value repeated for a broadcast column
/// (stride 0), else one value per lane.
template <class V, class T>
TRACKERR_HOT V row_lanes(const T* at, std::ptrdiff_t col_stride) noexcept {
    if constexpr (std::is_same_v<V, double>) {
        (void)col_stride;
        return static_cast<double>(*at);
    } else {
        constexpr int W = simd::width<V>;
        if (col_stride == 0) return simd::splat<V>(static_cast<double>(*at));
        if constexpr (std::is_same_v<T, double>) {
            if (col_stride == static_cast<std::ptrdiff_t>(sizeof(double))) return simd::load<V>(at);
        }
        V v{};
        for (int j = 0; j < W; ++j) v[j] = static_cast<double>(*offset(at, j * col_stride));
        return v;
    }
}

/// Writes W lanes to W neighbouring columns of an output row. (A vector type
/// of alignment 8 rather than memcpy: GCC copies memory to memory in 16-byte
/// pieces, and this stores one register.)
template <class V>
TRACKERR_HOT void store_row_lanes(double* at, std::ptrdiff_t col_stride, const V& v) noexcept {
    if constexpr (std::is_same_v<V, double>) {
        (void)col_stride;
        *at = v;
    } else {
        if (col_stride == static_cast<std::ptrdiff_t>(sizeof(double))) {
            typedef double U __attribute__((vector_size(sizeof(V)), aligned(alignof(double)), may_alias));
            *reinterpret_cast<U*>(at) = v;
            return;
        }
        for (int j = 0; j < simd::width<V>; ++j) *offset(at, j * col_stride) = v[j];
    }
}

// Field-by-field copies of lane states: an assignment of the whole struct is
// a memory copy in 16-byte pieces, which the next vector load of a field then
// waits for (a failed store-to-load forward, each step).
template <class V>
TRACKERR_HOT MomentLanes<V> copied(const MomentLanes<V>& s) noexcept {
    return MomentLanes<V>{s.level, s.mean, s.m2, s.err, s.err_mean, s.run, s.last};
}
template <class V>
TRACKERR_HOT CoMomentLanes<V> copied(const CoMomentLanes<V>& s) noexcept {
    return CoMomentLanes<V>{s.level_p, s.level_b, s.mean_p, s.mean_b, s.c_pp,  s.c_bb,   s.c_pb,  s.err_p,
                            s.err_b,   s.err_mp,  s.err_mb, s.run_p,  s.run_b, s.last_p, s.last_b};
}
template <class V>
TRACKERR_HOT void assign(MomentLanes<V>& d, const MomentLanes<V>& s) noexcept {
    d.level = s.level;
    d.mean = s.mean;
    d.m2 = s.m2;
    d.err = s.err;
    d.err_mean = s.err_mean;
    d.run = s.run;
    d.last = s.last;
}
template <class V>
TRACKERR_HOT void assign(CoMomentLanes<V>& d, const CoMomentLanes<V>& s) noexcept {
    d.level_p = s.level_p;
    d.level_b = s.level_b;
    d.mean_p = s.mean_p;
    d.mean_b = s.mean_b;
    d.c_pp = s.c_pp;
    d.c_bb = s.c_bb;
    d.c_pb = s.c_pb;
    d.err_p = s.err_p;
    d.err_b = s.err_b;
    d.err_mp = s.err_mp;
    d.err_mb = s.err_mb;
    d.run_p = s.run_p;
    d.run_b = s.run_b;
    d.last_p = s.last_p;
    d.last_b = s.last_b;
}

/// A pointer to `count` objects of type T in `storage`, aligned for T's
/// vectors (plain doubles underneath: no std::vector of wide vectors, whose
/// library code is compiled for the baseline instruction set).
template <class T>
T* aligned_in(std::vector<double>& storage, std::size_t count) {
    constexpr std::size_t align = 64;
    storage.assign(count * sizeof(T) / sizeof(double) + align / sizeof(double), 0.0);
    const auto address = reinterpret_cast<std::uintptr_t>(storage.data());
    return reinterpret_cast<T*>(storage.data() + ((align - address % align) % align) / sizeof(double));
}

/// The window states of columns [c0, c0 + groups * W) of a panel, W = lanes
/// of V, kept as one MomentLanes<V> / CoMomentLanes<V> per group of W columns,
/// and the row-by-row sweep over them (see the top of this file).
template <class V, bool Act, bool Pair, class TP, class TB>
class PanelRows {
public:
    static constexpr int W = simd::width<V>;
    using Steps = SeriesSteps<Act, Pair, false, TP, TB>;

    PanelRows(const Panel<TP>& p, const Panel<TB>& b, const RollingParams& prm, const OutPanel& out,
              std::ptrdiff_t c0, std::ptrdiff_t groups)
        : p_(p),
          b_(b),
          out_(out),
          c0_(c0),
          groups_(groups),
          w_(prm.window),
          wd_(static_cast<double>(prm.window)),
          st_(p.column(c0), b.column(c0), prm, out.column(c0)) {
        const std::ptrdiff_t n = groups * W;
        const auto un = static_cast<std::size_t>(n), ug = static_cast<std::size_t>(groups);
        if constexpr (Act) {
            act_ = aligned_in<MomentLanes<V>>(act_storage_, ug);
            n_act_.assign(un, 0.0);
            bad_act_.assign(un, 0.0);
        }
        if constexpr (Pair) {
            pair_ = aligned_in<CoMomentLanes<V>>(pair_storage_, ug);
            n_pair_.assign(un, 0.0);
            bad_pair_.assign(un, 0.0);
        }
        tops_ = aligned_in<V>(tops_storage_, 2 * ug);
        scalar_tops_.assign(2 * un, 0.0);
        steady_.assign(ug, 0);
        scratch_.resize(static_cast<std::size_t>(2 * std::min(w_, p.rows)));
        st_.scratch = scratch_.data();
        // The outputs this sweep writes as vectors: every requested one but a
        // geometric alpha (a scalar formula per column, see row()).
        const OutView* views[7] = {&out.columns.tracking_error, &out.columns.active_return,
                                   &out.columns.information_ratio, &out.columns.beta,
                                   &out.columns.alpha,          &out.columns.correlation,
                                   &out.columns.r_squared};
        o_ = aligned_in<V>(o_storage_, 7);
        for (int f = 0; f < 7; ++f) {
            if (!*views[f]) continue;
            if (f == 4 && st_.em.geometric_alpha) {
                geo_alpha_ = Pair;
                continue;
            }
            dst_[f] = o_ + f;
            src_[n_fields_] = o_ + f;
            base_[n_fields_] = views[f]->data;
            row_stride_[n_fields_] = views[f]->stride;
            col_stride_[n_fields_] = out.col_stride[f];
            unit_out_ = unit_out_ && out.col_stride[f] == static_cast<std::ptrdiff_t>(sizeof(double));
            ++n_fields_;
        }
    }

    PanelRows(const PanelRows&) = delete;
    PanelRows& operator=(const PanelRows&) = delete;

    /// Starts every column at row `from` of a segment ending at `end`
    /// (SeriesSteps::begin); returns the first row still to step.
    std::ptrdiff_t start(std::ptrdiff_t from, std::ptrdiff_t end) {
        std::ptrdiff_t next = from;
        for (std::ptrdiff_t g = 0; g < groups_; ++g) {
            for (int j = 0; j < W; ++j) {
                const std::ptrdiff_t c = g * W + j;
                WindowMoments wa;
                WindowCoMoments wc;
                at_column(c);
                next = st_.begin(wa, wc, from, end);  // the same row for every column
                // the rows begin() stepped over count for the largest |p|, |b|
                for (std::ptrdiff_t t = from; t < next; ++t) top_scalar(c, t);
                put(g, j, wa, wc);
            }
            steady_[static_cast<std::size_t>(g)] = group_steady(g);
        }
        return next;
    }

    /// One row: every group's step, outputs written.
    void row(std::ptrdiff_t t) noexcept {
        if (b_.col_stride == 0)
            row_in<true>(t);
        else
            row_in<false>(t);
    }

    /// Folds the largest finite |p|, |b| of each column into tops (two
    /// doubles per column, from column c0).
    void fold_tops(double* tops) const noexcept {
        // A broadcast benchmark is the same column for all: its largest value
        // is taken once, here, rather than per column in the row sweep.
        double top_b = 0.0;
        if (b_.col_stride == 0 && groups_ > 0)
            for (std::ptrdiff_t t = 0; t < b_.rows; ++t) top_b = std::max(top_b, finite_abs(static_cast<double>(b_(t, 0))));
        for (std::ptrdiff_t g = 0; g < groups_; ++g)
            for (int j = 0; j < W; ++j) {
                const std::ptrdiff_t c = g * W + j;
                const auto u = static_cast<std::size_t>(2 * c);
                tops[2 * c] = std::max(scalar_tops_[u], simd::get(tops_[2 * g], j));
                tops[2 * c + 1] = std::max({scalar_tops_[u + 1], simd::get(tops_[2 * g + 1], j), top_b});
            }
    }

private:
    /// row(t); Bcast: the benchmark is one column broadcast (col_stride 0),
    /// read once per row.
    template <bool Bcast>
    TRACKERR_HOT void row_in(std::ptrdiff_t t) noexcept {
        const V inv_n = simd::splat<V>(1.0 / wd_), nv = simd::splat<V>(wd_);
        const std::ptrdiff_t pcs = p_.col_stride, bcs = b_.col_stride;
        const TP* pn_row = offset(p_.row(t), c0_ * pcs);
        const TB* bn_row = offset(b_.row(t), c0_ * bcs);
        // The leaving row (only read by steady groups, which exist from row w on).
        const std::ptrdiff_t t_old = t >= w_ ? t - w_ : t;
        const TP* po_row = offset(p_.row(t_old), c0_ * pcs);
        const TB* bo_row = offset(b_.row(t_old), c0_ * bcs);
        double* out_row[7];
        for (int i = 0; i < n_fields_; ++i) out_row[i] = offset(base_[i], t * row_stride_[i] + c0_ * col_stride_[i]);
        const V bn_all = simd::splat<V>(static_cast<double>(*bn_row));
        const V bo_all = simd::splat<V>(static_cast<double>(*bo_row));
        // Where the sweep will be about 30 groups on: the rows are long
        // sequential runs, but the loads come too late for the hardware
        // prefetchers to hide memory latency behind the arithmetic.
        const std::ptrdiff_t ahead = 1024;
        const char* pf_out = n_fields_ > 0 ? reinterpret_cast<const char*>(out_row[0]) : nullptr;
        for (std::ptrdiff_t g = 0; g < groups_; ++g) {
            const std::ptrdiff_t jp = g * W * pcs, jb = g * W * bcs;
            const V pn = row_lanes<V>(offset(pn_row, jp), pcs);
            const V bn = Bcast ? bn_all : row_lanes<V>(offset(bn_row, jb), bcs);
            __builtin_prefetch(reinterpret_cast<const char*>(pn_row) + jp + ahead, 0, 3);
            __builtin_prefetch(reinterpret_cast<const char*>(po_row) + jp + ahead, 0, 3);
            if (pf_out) __builtin_prefetch(pf_out + g * W * sizeof(double) + ahead, 1, 3);
            // A steady window holds w finite values, so the values leaving are
            // finite: only the entering ones are checked (the same checks as
            // the 1-D lane driver).
            bool fast = steady_[static_cast<std::size_t>(g)] != 0;
            V xn{};
            if constexpr (Act) {
                xn = pn - bn;
                fast = fast && simd::all<V>(simd::finite<V>(xn));
            }
            if constexpr (Pair) fast = fast && simd::all<V>(simd::finite<V>(pn) & simd::finite<V>(bn));
            if (!fast) {
                general(g, t);
                continue;
            }
            V* tops = tops_ + 2 * g;
            tops[0] = simd::max<V>(tops[0], simd::abs(pn));
            if (!Bcast) tops[1] = simd::max<V>(tops[1], simd::abs(bn));
            const V po = row_lanes<V>(offset(po_row, jp), pcs);
            const V bo = Bcast ? bo_all : row_lanes<V>(offset(bo_row, jb), bcs);
            bool quiet = true;
            simd::mask<V> qa{}, qc{};
            MomentLanes<V> sa{};
            CoMomentLanes<V> sc{};
            if constexpr (Act) {
                sa = copied(act_[g]);
                sa.replace(xn, po - bo, inv_n);
                qa = sa.quiet(nv) & (sa.run < nv);
                quiet = simd::all<V>(qa);
                emit_lanes(st_.em, sa, dst_, 0);
                assign(act_[g], sa);
            }
            if constexpr (Pair) {
                sc = copied(pair_[g]);
                sc.replace(pn, bn, po, bo, inv_n);
                qc = sc.quiet(nv) & (sc.run_p < nv) & (sc.run_b < nv);
                quiet = quiet & simd::all<V>(qc);
                emit_lanes(st_.em, sc, dst_, 0);
                assign(pair_[g], sc);
            }
            if (!quiet) fix(g, t, lane_bits(qa), lane_bits(qc));
            if (unit_out_) {
                for (int i = 0; i < n_fields_; ++i)
                    store_row_lanes<V>(out_row[i] + g * W, sizeof(double), *src_[i]);
            } else {
                for (int i = 0; i < n_fields_; ++i)
                    store_row_lanes<V>(offset(out_row[i], g * W * col_stride_[i]), col_stride_[i], *src_[i]);
            }
            if constexpr (Pair) {
                if (geo_alpha_) geometric_alpha(g, t, c0_ + g * W);
            }
        }
    }

    /// Points the general machinery at column c (index from c0).
    void at_column(std::ptrdiff_t c) noexcept {
        st_.p = p_.column(c0_ + c);
        st_.b = b_.column(c0_ + c);
        st_.out = out_.column(c0_ + c);
    }

    void top_scalar(std::ptrdiff_t c, std::ptrdiff_t t) noexcept {
        const auto u = static_cast<std::size_t>(2 * c);
        scalar_tops_[u] = std::max(scalar_tops_[u], finite_abs(st_.p_at(t)));
        scalar_tops_[u + 1] = std::max(scalar_tops_[u + 1], finite_abs(st_.b_at(t)));
    }

    void get(std::ptrdiff_t g, int j, WindowMoments& wa, WindowCoMoments& wc) const noexcept {
        const auto u = static_cast<std::size_t>(g * W + j);
        if constexpr (Act) {
            get_lane(act_[g], j, wa);
            wa.n = n_act_[u];
            wa.n_bad = bad_act_[u];
        }
        if constexpr (Pair) {
            get_lane(pair_[g], j, wc);
            wc.n = n_pair_[u];
            wc.n_bad = bad_pair_[u];
        }
    }

    void put(std::ptrdiff_t g, int j, const WindowMoments& wa, const WindowCoMoments& wc) noexcept {
        const auto u = static_cast<std::size_t>(g * W + j);
        if constexpr (Act) {
            set_lane(act_[g], j, wa);
            n_act_[u] = wa.n;
            bad_act_[u] = wa.n_bad;
        }
        if constexpr (Pair) {
            set_lane(pair_[g], j, wc);
            n_pair_[u] = wc.n;
            bad_pair_[u] = wc.n_bad;
        }
    }

    /// Every column of group g holds a full window of finite values.
    bool group_steady(std::ptrdiff_t g) const noexcept {
        bool ok = true;
        for (int j = 0; j < W; ++j) {
            const auto u = static_cast<std::size_t>(g * W + j);
            if constexpr (Act) ok = ok && n_act_[u] == wd_ && bad_act_[u] == 0.0;
            if constexpr (Pair) ok = ok && n_pair_[u] == wd_ && bad_pair_[u] == 0.0;
        }
        return ok;
    }

    /// The general step of every column of group g at row t (for a steady
    /// column with a finite entering value it computes exactly what the
    /// vector step would).
    TRACKERR_COLD void general(std::ptrdiff_t g, std::ptrdiff_t t) noexcept {
        for (int j = 0; j < W; ++j) {
            const std::ptrdiff_t c = g * W + j;
            WindowMoments wa;
            WindowCoMoments wc;
            get(g, j, wa, wc);
            at_column(c);
            st_.step(wa, wc, t);
            top_scalar(c, t);
            put(g, j, wa, wc);
        }
        steady_[static_cast<std::size_t>(g)] = group_steady(g);
    }

    /// The lanes of group g whose replace step at row t was not quiet: the
    /// general step's finish (constant window, rebuild from the window) and
    /// the scalar read-out, as the 1-D lane driver does.
    TRACKERR_COLD void fix(std::ptrdiff_t g, std::ptrdiff_t t, unsigned quiet_a, unsigned quiet_c) noexcept {
        const std::ptrdiff_t first = t - w_ + 1;
        for (int j = 0; j < W; ++j) {
            const bool fix_a = Act && !((quiet_a >> j) & 1u), fix_c = Pair && !((quiet_c >> j) & 1u);
            if (!fix_a && !fix_c) continue;
            at_column(g * W + j);
            if constexpr (Act) {
                if (fix_a) {
                    double v[3];
                    fix_lane(st_, act_[g], j, wd_, first, t + 1, v);
                    for (int f = 0; f < 3; ++f)
                        if (dst_[f]) simd::set(*dst_[f], j, v[f]);
                }
            }
            if constexpr (Pair) {
                if (fix_c) {
                    double v[4];
                    fix_lane(st_, pair_[g], j, wd_, first, t + 1, v);
                    for (int f = 0; f < 4; ++f)
                        if (dst_[3 + f]) simd::set(*dst_[3 + f], j, v[f]);
                }
            }
        }
    }

    /// Bit j set when lane j of m is.
    static TRACKERR_HOT unsigned lane_bits(const simd::mask<V>& m) noexcept {
        unsigned bits = 0;
        for (int j = 0; j < W; ++j) bits |= static_cast<unsigned>(simd::lane<V>(m, j)) << j;
        return bits;
    }

    /// Geometric alpha of each lane of a steady step (as the 1-D lane driver
    /// computes it, from the lane's state after any fix).
    TRACKERR_COLD void geometric_alpha(std::ptrdiff_t g, std::ptrdiff_t t, std::ptrdiff_t c) const noexcept {
        const CoMomentLanes<V>& s = pair_[g];
        for (int j = 0; j < W; ++j) {
            CoMoments m;
            m.n = wd_;
            m.mean_p = simd::get(s.level_p, j) + simd::get(s.mean_p, j);
            m.mean_b = simd::get(s.level_b, j) + simd::get(s.mean_b, j);
            m.c_pp = simd::get(s.c_pp, j);
            m.c_bb = simd::get(s.c_bb, j);
            m.c_pb = simd::get(s.c_pb, j);
            out_.column(c + j).alpha.set(t, metrics::alpha_geometric(m, st_.em.risk_free, st_.em.periods));
        }
    }

    Panel<TP> p_;
    Panel<TB> b_;
    OutPanel out_;
    std::ptrdiff_t c0_, groups_, w_;
    double wd_;
    Steps st_;
    std::vector<double> act_storage_, pair_storage_, tops_storage_, scratch_;
    MomentLanes<V>* act_ = nullptr;
    CoMomentLanes<V>* pair_ = nullptr;
    V* tops_ = nullptr;  // largest |p|, |b| of the steady steps, per group
    std::vector<double> n_act_, bad_act_, n_pair_, bad_pair_;  // per column
    std::vector<double> scalar_tops_;                          // |p|, |b| of the general steps, per column
    std::vector<unsigned char> steady_;                        // per group: every column steady
    // The outputs written as vectors: emit_lanes writes field f to *dst_[f]
    // (null: not wanted), and the n_fields_ wanted ones are stored from
    // src_[i] to base_[i] + t * row_stride_[i] + c * col_stride_[i].
    std::vector<double> o_storage_;
    V* o_ = nullptr;
    V* dst_[7] = {};
    const V* src_[7] = {};
    double* base_[7] = {};
    std::ptrdiff_t row_stride_[7] = {}, col_stride_[7] = {};
    int n_fields_ = 0;
    bool unit_out_ = true;  // every output's columns are adjacent doubles
    bool geo_alpha_ = false;
};

/// Rolling metrics of columns [c0, c1) of a panel, row by row. tops gets the
/// largest finite |p|, |b| of each column (two doubles per column from c0).
template <bool Act, bool Pair, class TP, class TB>
void rolling_rows(const Panel<TP>& p, const Panel<TB>& b, const RollingParams& prm, const OutPanel& out,
                  std::ptrdiff_t c0, std::ptrdiff_t c1, double* tops) {
    using PV = lane_t;
    constexpr int W = simd::width<PV>;
    const std::ptrdiff_t T = p.rows, full = (c1 - c0) / W;
    // Whole groups in this build's lanes, the last columns one at a time.
    PanelRows<PV, Act, Pair, TP, TB> wide(p, b, prm, out, c0, full);
    PanelRows<double, Act, Pair, TP, TB> rest(p, b, prm, out, c0 + full * W, c1 - c0 - full * W);
    const Cuts cuts = cuts_of(T, prm);
    for (std::ptrdiff_t s = 0; s < cuts.count(); ++s) {
        const auto [from, end] = cuts.at(s);
        // Both are `from`, or the row after the first full window (see
        // SeriesSteps::begin); a side without columns returns `from`.
        const std::ptrdiff_t first = std::max(wide.start(from, end), rest.start(from, end));
        for (std::ptrdiff_t t = first; t < end; ++t) {
            wide.row(t);
            rest.row(t);
        }
    }
    wide.fold_tops(tops);
    rest.fold_tops(tops + 2 * full * W);
}

/// Whether a panel runs row by row (rolling_rows) rather than in the lane
/// driver: when portfolios are closer together in memory than periods, and
/// the panel is wide enough that whole vectors of columns do most of the work
/// (the last N mod W columns run one lane wide; a narrower panel is better
/// served by the lane driver, whose lanes also take a column's segments).
template <class TP>
bool rolling_by_rows(const Panel<TP>& p) noexcept {
    return prefer_rowwise(p) && p.cols >= 4 * simd::width<lane_t>;
}

}  // namespace detail

/// Rolling metrics of every column of a T x N panel against its benchmark
/// (a broadcast column, see `broadcast`, or a T x N panel). Column c's values
/// are bit for bit those of the 1-D kernel on column c, whatever the layout,
/// the instruction set and `threads`. Wide C-order panels run row by row (see
/// the top of this file), others in the lanes of the lane driver. Columns are split into ranges across `threads` threads (1 = the
/// calling thread only); no column's result depends on the split.
template <class TP, class TB>
void rolling(const Panel<TP>& p, const Panel<TB>& b, const RollingParams& prm, const OutPanel& out,
             int threads = 1) {
    detail::check_panels(p, b);
    check_rolling(prm, p.rows, b.rows);
    detail::check_rolling_options(prm);
    detail::check_threads(threads);
    const bool act = out.columns.any_active(), pair = out.columns.any_pair();
    if (!act && !pair) return;
    const std::ptrdiff_t T = p.rows, N = p.cols;
    if (N == 0 || T == 0) return;
    const detail::Cuts cuts = detail::cuts_of(T, prm);
    const std::ptrdiff_t S = cuts.count();
    const bool contiguous = p.column(0).contiguous() && b.column(0).contiguous();
    const bool rows = !contiguous && detail::rolling_by_rows(p);
    // Else, in the lane driver, neighbouring columns of a C-order panel share
    // a vector's lanes (rows read as vectors).
    const bool by_row = !contiguous && detail::prefer_rowwise(p);
    auto run_columns = [&](std::ptrdiff_t c0, std::ptrdiff_t c1) {
        const std::ptrdiff_t n = c1 - c0;
        std::vector<double> tops(static_cast<std::size_t>(2 * n), 0.0);  // |p|, |b| per column
        if (rows) {
            if (act && pair) detail::rolling_rows<true, true>(p, b, prm, out, c0, c1, tops.data());
            else if (act) detail::rolling_rows<true, false>(p, b, prm, out, c0, c1, tops.data());
            else detail::rolling_rows<false, true>(p, b, prm, out, c0, c1, tops.data());
        } else {
            detail::SegmentTasks<TP, TB> tasks;
            tasks.p = p;
            tasks.b = b;
            tasks.out = out;
            tasks.c0 = c0;
            tasks.n_cols = n;
            tasks.n_segs = S;
            tasks.cuts = cuts;
            tasks.by_row = by_row;
            tasks.tops = tops.data();
            detail::run_tasks(prm, tasks);
        }
        // Tiny or huge columns, as in the 1-D kernel.
        for (std::ptrdiff_t c = c0; c < c1; ++c)
            detail::rolling_rescaled(p.column(c), b.column(c), prm, out.column(c), 1,
                                     tops[static_cast<std::size_t>(2 * (c - c0))],
                                     tops[static_cast<std::size_t>(2 * (c - c0) + 1)]);
    };
    // Ranges of whole blocks of 32 columns (whole cache lines of a C-order
    // row, and whole groups of the widest lanes).
    constexpr std::ptrdiff_t G = 32;
    const std::ptrdiff_t groups = (N + G - 1) / G;
    const std::ptrdiff_t k = std::max<std::ptrdiff_t>(1, std::min<std::ptrdiff_t>(threads, groups));
    auto bound = [&](std::ptrdiff_t i) { return std::min(N, (groups * i / k) * G); };
    detail::run_parts(k, [&](std::ptrdiff_t i) { run_columns(bound(i), bound(i + 1)); });
}

TRACKERR_ISA_END
}  // namespace trackerr
