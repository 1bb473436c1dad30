// Panel kernels (panel.hpp) against the 1-D kernels (batch.hpp) run on
// contiguous copies of each column: C-order (row-wise tiled path) and
// Fortran-order (column path) panels, a panel benchmark or a broadcast
// series, NaNs sprinkled, T not a multiple of tile_rows (32), N not a
// multiple of tile_cols (128).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <trackerr/panel.hpp>
#include <vector>

#include "check.hpp"
#include "reference.hpp"

using trackerr::Accumulated;
using trackerr::CoMoments;
using trackerr::Growth;
using trackerr::Moments;
using trackerr::Panel;
using trackerr::View;

namespace {

constexpr double nan_v = std::numeric_limits<double>::quiet_NaN();
constexpr double tol = 1e-13;

using Index = std::ptrdiff_t;
std::size_t idx(Index i) {
    return static_cast<std::size_t>(i);
}

/// A logical T x N matrix, row-major in `v`.
template <class T>
struct Matrix {
    Index rows = 0, cols = 0;
    std::vector<T> v;
    T at(Index r, Index c) const { return v[idx(r * cols + c)]; }
    std::vector<T> column(Index c) const {
        std::vector<T> out(idx(rows));
        for (Index r = 0; r < rows; ++r) out[idx(r)] = at(r, c);
        return out;
    }
};

template <class T>
Matrix<T> random_matrix(Index rows, Index cols, std::uint64_t seed, double mu, double sigma) {
    Matrix<T> m;
    m.rows = rows;
    m.cols = cols;
    m.v = ref::returns<T>(idx(rows * cols), seed, mu, sigma);
    return m;
}

enum class Layout {
    c_order,      // row_stride N, col_stride 1
    fortran,      // row_stride 1, col_stride T
    c_reversed,   // C order, rows in reverse: data at the last row, negative row_stride
    c_gap,        // C order, every other column: col_stride 2 (strided row-wise access)
    fortran_gap,  // Fortran order, every other row: row_stride 2
};
const char* name(Layout l) {
    switch (l) {
        case Layout::c_order:
            return "C";
        case Layout::fortran:
            return "F";
        case Layout::c_reversed:
            return "C-reversed";
        case Layout::c_gap:
            return "C-gap";
        case Layout::fortran_gap:
            return "F-gap";
    }
    return "?";
}

/// Owns a buffer holding a Matrix in a given layout (unused slots NaN).
template <class T>
struct Stored {
    std::vector<T> buf;
    Panel<T> panel;

    Stored(const Matrix<T>& m, Layout l) {
        const Index R = m.rows, C = m.cols, s = static_cast<Index>(sizeof(T));
        const bool gap = l == Layout::c_gap || l == Layout::fortran_gap;
        buf.assign(idx((gap ? 2 : 1) * R * C), static_cast<T>(nan_v));
        Index rs = 0, cs = 0, origin = 0;  // in elements
        switch (l) {
            case Layout::c_order:
                rs = C;
                cs = 1;
                break;
            case Layout::fortran:
                rs = 1;
                cs = R;
                break;
            case Layout::c_reversed:
                rs = -C;
                cs = 1;
                origin = (R - 1) * C;
                break;
            case Layout::c_gap:
                rs = 2 * C;
                cs = 2;
                break;
            case Layout::fortran_gap:
                rs = 2;
                cs = 2 * R;
                break;
        }
        if (R == 0) origin = 0;
        for (Index r = 0; r < R; ++r)
            for (Index c = 0; c < C; ++c) buf[idx(origin + r * rs + c * cs)] = m.at(r, c);
        panel = Panel<T>(buf.data() + origin, R, C, rs * s, cs * s);
    }
};

/// Sprinkles NaN: a scattered pattern in the first `upto` rows (later row
/// tiles stay clean, so both the fast and the masked tile paths run), plus
/// an all-NaN column when there are enough columns.
template <class T>
void sprinkle(Matrix<T>& m, std::uint64_t salt, Index upto, Index nan_column) {
    const T nan_t = static_cast<T>(nan_v);
    for (Index r = 0; r < std::min(upto, m.rows); ++r)
        for (Index c = 0; c < m.cols; ++c)
            if ((static_cast<std::uint64_t>(r * 7 + c * 13) + salt) % 23 == 0)
                m.v[idx(r * m.cols + c)] = nan_t;
    if (nan_column >= 0 && nan_column < m.cols)
        for (Index r = 0; r < m.rows; ++r) m.v[idx(r * m.cols + nan_column)] = nan_t;
}

void check_same(const Accumulated<Moments>& got, const Accumulated<Moments>& want) {
    CHECK_EQ(got.state.n, want.state.n);
    CHECK_EQ(got.skipped, want.skipped);
    CHECK_NEAR(got.state.mean, want.state.mean, tol, 2e-2);
    CHECK_NEAR(got.state.m2, want.state.m2, tol, 0.0);
}
void check_same(const Accumulated<CoMoments>& got, const Accumulated<CoMoments>& want) {
    const CoMoments& g = got.state;
    const CoMoments& w = want.state;
    CHECK_EQ(g.n, w.n);
    CHECK_EQ(got.skipped, want.skipped);
    CHECK_NEAR(g.mean_p, w.mean_p, tol, 2e-2);
    CHECK_NEAR(g.mean_b, w.mean_b, tol, 2e-2);
    CHECK_NEAR(g.c_pp, w.c_pp, tol, 0.0);
    CHECK_NEAR(g.c_bb, w.c_bb, tol, 0.0);
    CHECK_NEAR(g.c_pb, w.c_pb, tol, std::sqrt(w.c_pp * w.c_bb));
}
void check_same(const Accumulated<Growth>& got, const Accumulated<Growth>& want) {
    CHECK_EQ(got.state.n, want.state.n);
    CHECK_EQ(got.skipped, want.skipped);
    CHECK_CLOSE(got.state.growth_p(), want.state.growth_p(), tol);
    CHECK_CLOSE(got.state.growth_b(), want.state.growth_b(), tol);
}

template <class TP>
View<TP> contiguous(const std::vector<TP>& x) {
    return View<TP>(x.data(), static_cast<Index>(x.size()));
}

/// Runs the three panel kernels and compares each column with the 1-D
/// kernels on contiguous copies of (p[:, c], bcol(c)).
template <class TP, class TB, class BenchCol>
void compare(const Panel<TP>& pp, const Panel<TB>& pb, const Matrix<TP>& p, BenchCol bcol, const char* what) {
    const long failures_before = check::counters().failures;
    const Index N = p.cols;
    std::vector<Accumulated<Moments>> am(idx(N));
    std::vector<Accumulated<CoMoments>> cm(idx(N));
    std::vector<Accumulated<Growth>> gm(idx(N));
    trackerr::active_moments(pp, pb, am.data());
    trackerr::comoments(pp, pb, cm.data());
    trackerr::growth(pp, pb, gm.data());
    for (Index c = 0; c < N; ++c) {
        const std::vector<TP> x = p.column(c);
        const std::vector<TB> y = bcol(c);
        check_same(am[idx(c)], trackerr::active_moments(contiguous(x), contiguous(y)));
        check_same(cm[idx(c)], trackerr::comoments(contiguous(x), contiguous(y)));
        check_same(gm[idx(c)], trackerr::growth(contiguous(x), contiguous(y)));
    }
    if (check::counters().failures != failures_before)
        std::printf("    ^ in compare(T=%td, N=%td, %s)\n", p.rows, N, what);
}

template <class TP, class TB>
void run_shape(Index T, Index N, std::uint64_t seed) {
    Matrix<TP> p = random_matrix<TP>(T, N, seed, 1e-3, 2e-2);
    Matrix<TB> b = random_matrix<TB>(T, N, seed + 1, 5e-4, 1e-2);
    // Make the benchmark panel correlated with the portfolios.
    for (std::size_t i = 0; i < b.v.size(); ++i)
        b.v[i] = static_cast<TB>(b.v[i] + static_cast<TB>(0.5 * p.v[i]));
    Matrix<TB> s = random_matrix<TB>(T, 1, seed + 2, 5e-4, 1e-2);  // one benchmark series
    sprinkle(p, seed, 100, 5);
    sprinkle(b, seed + 3, 64, N > 140 ? 140 : -1);
    if (T > 3) s.v[3] = static_cast<TB>(nan_v);
    if (T > 700) s.v[700] = static_cast<TB>(nan_v);

    const auto panel_col = [&](Index c) { return b.column(c); };
    const auto series_col = [&](Index) { return s.column(0); };

    const Layout layouts[] = {Layout::c_order, Layout::fortran, Layout::c_reversed, Layout::c_gap,
                              Layout::fortran_gap};
    char what[128];
    for (Layout lp : layouts) {
        const Stored<TP> sp(p, lp);
        // N benchmarks, in the same layout and in the "other" one.
        for (Layout lb : {lp, lp == Layout::fortran ? Layout::c_order : Layout::fortran}) {
            const Stored<TB> sb(b, lb);
            std::snprintf(what, sizeof what, "p %s, b panel %s", name(lp), name(lb));
            compare(sp.panel, sb.panel, p, panel_col, what);
        }
        // One benchmark broadcast across the N portfolios: contiguous and strided.
        const View<TB> contiguous_s(s.v.data(), T);
        std::snprintf(what, sizeof what, "p %s, b broadcast contiguous", name(lp));
        compare(sp.panel, trackerr::broadcast(contiguous_s, N), p, series_col, what);
        const Stored<TB> gap(s, Layout::fortran_gap);  // a T x 1 matrix, every other row
        std::snprintf(what, sizeof what, "p %s, b broadcast strided", name(lp));
        compare(sp.panel, trackerr::broadcast(gap.panel.column(0), N), p, series_col, what);
    }
}

void test_shapes() {
    // (T, N): neither a multiple of the tile; several tiles each way; edge cases.
    const Index shapes[][2] = {{1000, 300}, {33, 129}, {70, 2}, {31, 127},
                               {5, 1},      {1, 3},    {0, 4},  {257, 128}};
    std::uint64_t seed = 500;
    for (const auto& sh : shapes) {
        run_shape<double, double>(sh[0], sh[1], seed += 10);
        run_shape<float, float>(sh[0], sh[1], seed += 10);
        run_shape<float, double>(sh[0], sh[1], seed += 10);
        run_shape<double, float>(sh[0], sh[1], seed += 10);
    }
}

void test_mismatch() {
    std::vector<double> x(60, 0.01);
    const Panel<double> p(x.data(), 10, 6, 6 * 8, 8);
    const Panel<double> fewer_rows(x.data(), 9, 6, 6 * 8, 8);
    const Panel<double> fewer_cols(x.data(), 10, 5, 5 * 8, 8);
    std::vector<Accumulated<Moments>> am(6);
    std::vector<Accumulated<CoMoments>> cm(6);
    std::vector<Accumulated<Growth>> gm(6);
    CHECK_THROWS(trackerr::active_moments(p, fewer_rows, am.data()), std::invalid_argument);
    CHECK_THROWS(trackerr::comoments(p, fewer_rows, cm.data()), std::invalid_argument);
    CHECK_THROWS(trackerr::growth(p, fewer_rows, gm.data()), std::invalid_argument);
    CHECK_THROWS(trackerr::active_moments(p, fewer_cols, am.data()), std::invalid_argument);
    CHECK_THROWS(trackerr::comoments(p, fewer_cols, cm.data()), std::invalid_argument);
    CHECK_THROWS(trackerr::growth(p, fewer_cols, gm.data()), std::invalid_argument);
    CHECK_THROWS(trackerr::active_moments(p, trackerr::broadcast(View<double>(x.data(), 9), 6), am.data()),
                 std::invalid_argument);
    // A broadcast benchmark of the right length is accepted whatever its `cols`.
    bool threw = false;
    try {
        trackerr::active_moments(p, trackerr::broadcast(View<double>(x.data(), 10), 1), am.data());
    } catch (...) {
        threw = true;
    }
    CHECK(!threw);
}

void test_broadcast() {
    const std::vector<double> s = {0.1, 0.2, 0.3, 0.4};
    const View<double> v(s.data() + 3, 2, -16);  // 0.4, 0.2
    const Panel<double> b = trackerr::broadcast(v, 7);
    CHECK(b.data == s.data() + 3);
    CHECK_EQ(b.rows, Index{2});
    CHECK_EQ(b.cols, Index{7});
    CHECK_EQ(b.row_stride, Index{-16});
    CHECK_EQ(b.col_stride, Index{0});
    CHECK_EQ(b(1, 6), 0.2);
    CHECK_EQ(b.column(4)[0], 0.4);
}

// Level 1e9, noise 1e-4 through the row-wise tiles (32 rows): variance to
// 1e-9 relative of the long double reference, means to a few ulp.
void test_large_level() {
    const Index T = 1000, N = 130;
    Matrix<double> p = random_matrix<double>(T, N, 77, 1e9, 1e-4);
    sprinkle(p, 3, 100, 5);
    std::vector<double> zero(idx(T), 0.0);
    const Stored<double> sp(p, Layout::c_order);
    std::vector<Accumulated<Moments>> am(idx(N));
    std::vector<Accumulated<CoMoments>> cm(idx(N));
    const auto bench = trackerr::broadcast(View<double>(zero.data(), T), N);
    trackerr::active_moments(sp.panel, bench, am.data());
    trackerr::comoments(sp.panel, bench, cm.data());
    long double worst = 0;
    for (Index c = 0; c < N; ++c) {
        if (c == 5) continue;  // all NaN
        const ref::Active r = ref::active(p.column(c), zero);
        CHECK_CLOSE(am[idx(c)].state.m2, r.m2, 1e-9);
        CHECK_CLOSE(cm[idx(c)].state.c_pp, r.m2, 1e-9);
        CHECK_CLOSE(am[idx(c)].state.mean, r.mean, 1e-15);
        CHECK_CLOSE(cm[idx(c)].state.mean_p, r.mean, 1e-15);
        worst = std::fmax(worst, std::fabs(am[idx(c)].state.m2 - r.m2) / r.m2);
        worst = std::fmax(worst, std::fabs(cm[idx(c)].state.c_pp - r.m2) / r.m2);
    }
    CHECK_EQ(am[5].state.n, 0.0);
    CHECK_EQ(am[5].skipped, std::int64_t{T});
    std::printf("panel row-wise, level 1e9, noise 1e-4, T=%td N=%td: worst variance rel err %.3Le\n", T, N,
                worst);
}

// Constant columns: exact mean and exactly zero variance on the row-wise
// path, in clean tiles and in tiles masked because of a NaN elsewhere.
void test_constant_columns() {
    const Index T = 103, N = 4;
    Matrix<double> p;
    p.rows = T;
    p.cols = N;
    p.v.assign(idx(T * N), 0.0);
    const double values[N] = {0.1, 1e9 + 0.37, -0.0123, 0.0};
    for (Index r = 0; r < T; ++r)
        for (Index c = 0; c < N; ++c)
            p.v[idx(r * N + c)] = c == 3 ? 0.001 * static_cast<double>(r % 7) : values[c];
    p.v[idx(3)] = nan_v;                // first tile masked
    p.v[idx((T - 1) * N + 3)] = nan_v;  // last (7-row) tile masked
    std::vector<double> zero(idx(T), 0.0);
    const Stored<double> sp(p, Layout::c_order);
    std::vector<Accumulated<Moments>> am(idx(N));
    std::vector<Accumulated<CoMoments>> cm(idx(N));
    trackerr::active_moments(sp.panel, trackerr::broadcast(View<double>(zero.data(), T), N), am.data());
    trackerr::comoments(sp.panel, trackerr::broadcast(View<double>(zero.data(), T), N), cm.data());
    for (Index c = 0; c < 3; ++c) {
        CHECK_EQ(am[idx(c)].state.mean, values[c]);
        CHECK_EQ(am[idx(c)].state.m2, 0.0);
        CHECK_EQ(cm[idx(c)].state.mean_p, values[c]);
        CHECK_EQ(cm[idx(c)].state.c_pp, 0.0);
        CHECK_EQ(cm[idx(c)].state.c_pb, 0.0);
    }
    CHECK_EQ(am[3].skipped, std::int64_t{2});
}

}  // namespace

int main() {
    test_shapes();
    test_mismatch();
    test_broadcast();
    test_large_level();
    test_constant_columns();
    return check::report("test_panel");
}
