// 1-D full-sample kernels (batch.hpp) over strided views, against a long
// double two-pass reference computed here (reference.hpp).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <trackerr/batch.hpp>
#include <trackerr/metrics.hpp>
#include <vector>

#include "check.hpp"
#include "reference.hpp"

using trackerr::View;

namespace {

constexpr double nan_v = std::numeric_limits<double>::quiet_NaN();
constexpr double tol = 1e-13;

// How a logical series x[0..n) is laid out in memory.
enum class Layout {
    contiguous,    // stride sizeof(T)
    every_other,   // x[i] at buf[2 i]: stride 2 sizeof(T), the gaps hold NaN
    reversed,      // x[i] at buf[n - 1 - i]: data at the last element, stride -sizeof(T)
    reversed_gap,  // x[i] at buf[2 (n - 1 - i)]: stride -2 sizeof(T)
};
const char* name(Layout l) {
    switch (l) {
        case Layout::contiguous:
            return "contiguous";
        case Layout::every_other:
            return "every_other";
        case Layout::reversed:
            return "reversed";
        case Layout::reversed_gap:
            return "reversed_gap";
    }
    return "?";
}

// Owns the memory a View reads. The unused slots hold NaN: a kernel that reads
// one by mistake counts it as skipped and the check of `.skipped` fails.
template <class T>
struct Stored {
    std::vector<T> buf;
    Layout layout;
    std::ptrdiff_t n;

    Stored(const std::vector<T>& x, Layout l) : layout(l), n(static_cast<std::ptrdiff_t>(x.size())) {
        const std::size_t size = x.size();
        const bool gap = l == Layout::every_other || l == Layout::reversed_gap;
        buf.assign(gap ? 2 * size : size, static_cast<T>(nan_v));
        for (std::size_t i = 0; i < size; ++i) {
            switch (l) {
                case Layout::contiguous:
                    buf[i] = x[i];
                    break;
                case Layout::every_other:
                    buf[2 * i] = x[i];
                    break;
                case Layout::reversed:
                    buf[size - 1 - i] = x[i];
                    break;
                case Layout::reversed_gap:
                    buf[2 * (size - 1 - i)] = x[i];
                    break;
            }
        }
    }
    View<T> view() const {
        const std::ptrdiff_t item = static_cast<std::ptrdiff_t>(sizeof(T));
        if (n == 0) return View<T>(buf.data(), 0, item);
        switch (layout) {
            case Layout::contiguous:
                return View<T>(buf.data(), n, item);
            case Layout::every_other:
                return View<T>(buf.data(), n, 2 * item);
            case Layout::reversed:
                return View<T>(buf.data() + (n - 1), n, -item);
            case Layout::reversed_gap:
                return View<T>(buf.data() + 2 * (n - 1), n, -2 * item);
        }
        return {};
    }
};

template <class T>
std::vector<T> with_nans(std::vector<T> x, int pattern) {
    const std::size_t n = x.size();
    const T nan_t = static_cast<T>(nan_v);
    for (std::size_t i = 0; i < n; ++i) {
        if (pattern == 1 && i % 37 == 5) x[i] = nan_t;
        if (pattern == 2 && i % 53 == 7) x[i] = nan_t;
        if ((pattern == 1 || pattern == 2) && i % 101 == 3) x[i] = nan_t;          // both sides NaN
        if (pattern == 3 && ((i >= 256 && i < 512) || i % 41 == 0)) x[i] = nan_t;  // a whole block
    }
    return x;
}

// Runs the three kernels on (p, b) stored in the given layouts and compares
// every field with the reference.
template <class TP, class TB>
void compare(const std::vector<TP>& p, const std::vector<TB>& b, Layout lp, Layout lb, double scale) {
    const Stored<TP> sp(p, lp);
    const Stored<TB> sb(b, lb);
    const long failures_before = check::counters().failures;

    const ref::Active ra = ref::active(p, b);
    const auto a = trackerr::active_moments(sp.view(), sb.view());
    CHECK_EQ(a.state.n, static_cast<double>(ra.n));
    CHECK_EQ(a.skipped, ra.skipped);
    CHECK_NEAR(a.state.mean, ra.mean, tol, scale);
    CHECK_NEAR(a.state.m2, ra.m2, tol, 0.0);

    const ref::Pair rc = ref::pair(p, b);
    const auto c = trackerr::comoments(sp.view(), sb.view());
    CHECK_EQ(c.state.n, static_cast<double>(rc.n));
    CHECK_EQ(c.skipped, rc.skipped);
    CHECK_NEAR(c.state.mean_p, rc.mean_p, tol, scale);
    CHECK_NEAR(c.state.mean_b, rc.mean_b, tol, scale);
    CHECK_NEAR(c.state.c_pp, rc.c_pp, tol, 0.0);
    CHECK_NEAR(c.state.c_bb, rc.c_bb, tol, 0.0);
    CHECK_NEAR(c.state.c_pb, rc.c_pb, tol, std::sqrt(rc.c_pp * rc.c_bb));

    const ref::Prod rg = ref::prod(p, b);
    const auto g = trackerr::growth(sp.view(), sb.view());
    CHECK_EQ(g.state.n, static_cast<double>(rg.n));
    CHECK_EQ(g.skipped, rg.skipped);
    if (rg.n > 0) {
        CHECK_CLOSE(g.state.growth_p(), rg.g_p, tol);
        CHECK_CLOSE(g.state.growth_b(), rg.g_b, tol);
    } else {
        CHECK_NAN(g.state.growth_p());
        CHECK_NAN(g.state.growth_b());
    }

    if (check::counters().failures != failures_before)
        std::printf("    ^ in compare(n=%zu, p %s %s, b %s %s)\n", p.size(),
                    sizeof(TP) == 4 ? "float" : "double", name(lp), sizeof(TB) == 4 ? "float" : "double",
                    name(lb));
}

template <class TP, class TB>
void test_layouts_and_types() {
    const Layout pairs[][2] = {
        {Layout::contiguous, Layout::contiguous},    {Layout::every_other, Layout::every_other},
        {Layout::reversed, Layout::reversed},        {Layout::reversed_gap, Layout::reversed_gap},
        {Layout::contiguous, Layout::every_other},   {Layout::reversed, Layout::contiguous},
        {Layout::every_other, Layout::reversed_gap},
    };
    std::uint64_t seed = 100;
    for (std::size_t n : {0, 1, 2, 7, 8, 9, 255, 256, 257, 1000, 3001}) {
        for (int pattern = 0; pattern < 4; ++pattern) {
            const auto p = with_nans(ref::returns<TP>(n, ++seed, 1e-3, 2e-2), pattern == 3 ? 3 : pattern);
            const auto b = with_nans(ref::returns<TB>(n, ++seed, 5e-4, 1e-2), pattern == 1 ? 2 : 0);
            for (const auto& l : pairs) compare(p, b, l[0], l[1], 2e-2);
        }
    }
    // A long series: many blocks, a deep cascade.
    const std::size_t n = 200000;
    const auto p = with_nans(ref::returns<TP>(n, 7, 1e-3, 2e-2), 1);
    const auto b = with_nans(ref::returns<TB>(n, 8, 5e-4, 1e-2), 2);
    compare(p, b, Layout::contiguous, Layout::contiguous, 2e-2);
    compare(p, b, Layout::reversed_gap, Layout::every_other, 2e-2);
}

void test_all_nan() {
    const std::size_t n = 700;
    const std::vector<double> p(n, nan_v);
    const auto b = ref::returns<double>(n, 3);
    for (Layout l : {Layout::contiguous, Layout::every_other}) {
        const Stored<double> sp(p, l), sb(b, l);
        const auto a = trackerr::active_moments(sp.view(), sb.view());
        CHECK_EQ(a.state.n, 0.0);
        CHECK_EQ(a.skipped, std::int64_t{700});
        CHECK_NAN(a.state.variance());
        CHECK_NAN(a.state.mean_or_nan());
        const auto c = trackerr::comoments(sb.view(), sp.view());
        CHECK_EQ(c.state.n, 0.0);
        CHECK_EQ(c.skipped, std::int64_t{700});
        CHECK_NAN(c.state.beta());
        const auto g = trackerr::growth(sp.view(), sb.view());
        CHECK_EQ(g.skipped, std::int64_t{700});
        CHECK_NAN(g.state.growth_b());
    }
}

void test_length_mismatch() {
    const std::vector<double> p(10, 0.01);
    const std::vector<float> b(10, 0.01f);
    const View<double> vp(p.data(), 10);
    const View<float> vb(b.data(), 9);
    CHECK_THROWS(trackerr::active_moments(vp, vb), std::invalid_argument);
    CHECK_THROWS(trackerr::comoments(vp, vb), std::invalid_argument);
    CHECK_THROWS(trackerr::growth(vp, vb), std::invalid_argument);
    CHECK_THROWS(trackerr::active_moments(vb, vp), std::invalid_argument);
    CHECK_THROWS(trackerr::comoments(View<double>(p.data(), 0), View<double>(p.data(), 1)),
                 std::invalid_argument);
    // Equal lengths do not throw.
    bool threw = false;
    try {
        static_cast<void>(trackerr::active_moments(View<double>(p.data(), 9), vb));
    } catch (...) {
        threw = true;
    }
    CHECK(!threw);
}

template <class T>
void identical_series(const std::vector<T>& x, Layout lp, Layout lb) {
    const Stored<T> sp(x, lp), sb(x, lb);
    const auto a = trackerr::active_moments(sp.view(), sb.view());
    CHECK_EQ(a.state.mean, 0.0);
    CHECK_EQ(a.state.m2, 0.0);
    CHECK_EQ(a.state.variance(), 0.0);
    CHECK_EQ(trackerr::metrics::tracking_error(a.state, 1.0, nan_v), 0.0);
    CHECK_EQ(trackerr::metrics::tracking_error(a.state, 1.0, 252.0), 0.0);
    CHECK_NAN(trackerr::metrics::information_ratio(a.state, 1.0, 252.0));
    const auto c = trackerr::comoments(sp.view(), sb.view());
    CHECK_CLOSE(c.state.beta(), 1.0, 1e-14);
    CHECK_CLOSE(c.state.correlation(), 1.0, 1e-14);
}

void test_identical_series() {
    for (Layout l : {Layout::contiguous, Layout::every_other, Layout::reversed, Layout::reversed_gap}) {
        identical_series(ref::returns<double>(3001, 21), l, l);
        identical_series(ref::returns<float>(3001, 22), l, l);
        identical_series(with_nans(ref::returns<double>(1000, 23), 3), l, Layout::contiguous);
        identical_series(ref::returns<double>(1000, 24, 1e9, 1e-4), l, Layout::reversed);  // large level
    }
    // Same buffer passed twice.
    const auto x = ref::returns<double>(5000, 25);
    const View<double> v(x.data(), 5000);
    const auto a = trackerr::active_moments(v, v);
    CHECK_EQ(a.state.variance(), 0.0);
    CHECK_EQ(a.state.n, 5000.0);
}

// A level of 1e9 with noise of 1e-4: the variance must keep 1e-9 relative
// accuracy against the long double reference, within one block and across
// many (block states keep their means relative to a reference level; before
// that, merging blocks lost ~1e-5 relative here). The worst figure is printed.
void test_large_level() {
    constexpr double level = 1e9, noise = 1e-4, rel = 1e-9;
    long double worst = 0;
    std::uint64_t seed = 300;
    for (std::size_t n : {std::size_t{100}, std::size_t{256}, std::size_t{257}, std::size_t{512},
                          std::size_t{100000}, std::size_t{1000000}}) {
        for (int pattern : {0, 1}) {
            const auto p = with_nans(ref::returns<double>(n, ++seed, level, noise), pattern);
            const auto q = with_nans(ref::returns<double>(n, ++seed, level, noise), 2 * pattern);
            const std::vector<double> zero(n, 0.0);
            for (Layout l : {Layout::contiguous, Layout::every_other}) {
                const Stored<double> sp(p, l), sq(q, l), sz(zero, l);
                const long failures_before = check::counters().failures;

                const ref::Active ra = ref::active(p, zero);
                const auto a = trackerr::active_moments(sp.view(), sz.view());
                CHECK_CLOSE(a.state.m2, ra.m2, rel);
                CHECK_CLOSE(a.state.mean, ra.mean, 1e-15);  // the level itself: to a few ulp
                const ref::Pair rc = ref::pair(p, q);
                const auto c = trackerr::comoments(sp.view(), sq.view());
                CHECK_CLOSE(c.state.c_pp, rc.c_pp, rel);
                CHECK_CLOSE(c.state.c_bb, rc.c_bb, rel);
                CHECK_NEAR(c.state.c_pb, rc.c_pb, rel, std::sqrt(rc.c_pp * rc.c_bb));

                for (long double e :
                     {std::fabs(a.state.m2 - ra.m2) / ra.m2, std::fabs(c.state.c_pp - rc.c_pp) / rc.c_pp,
                      std::fabs(c.state.c_bb - rc.c_bb) / rc.c_bb})
                    worst = std::fmax(worst, e);
                if (check::counters().failures != failures_before)
                    std::printf("    ^ in test_large_level(n=%zu, nan pattern %d, %s)\n", n, pattern,
                                name(l));
            }
        }
    }
    std::printf("large level 1e9, noise 1e-4, n up to 1e6: worst variance rel err %.3Le (bound %.0e)\n",
                worst, rel);

    // A tracker at level 1e9 against a benchmark at level 1e9: the active
    // return is formed first, so the level cancels exactly.
    const std::size_t n = 100000;
    const std::ptrdiff_t ni = static_cast<std::ptrdiff_t>(n);
    const auto p = ref::returns<double>(n, 33, level, noise);
    const auto b = ref::returns<double>(n, 34, level, noise);
    const ref::Active ra = ref::active(p, b);
    const auto a = trackerr::active_moments(View<double>(p.data(), ni), View<double>(b.data(), ni));
    CHECK_CLOSE(a.state.m2, ra.m2, 1e-13);
}

// Constant series: exact mean, exactly zero variance, through both the fast
// and the NaN-compacting block paths.
void test_constant() {
    for (double v : {0.1, -0.0123, 1e9 + 0.37, 3.0}) {
        std::vector<double> p(1000, v);
        const std::vector<double> zero(1000, 0.0);
        for (int pattern : {0, 1}) {
            if (pattern == 1) p = with_nans(p, 1);
            for (Layout l : {Layout::contiguous, Layout::reversed_gap}) {
                const Stored<double> sp(p, l), sz(zero, l);
                const auto a = trackerr::active_moments(sp.view(), sz.view());
                CHECK_EQ(a.state.mean, v);
                CHECK_EQ(a.state.m2, 0.0);
                CHECK_EQ(trackerr::metrics::tracking_error(a.state, 1.0, 252.0), 0.0);
                const auto c = trackerr::comoments(sz.view(), sp.view());
                CHECK_EQ(c.state.mean_b, v);
                CHECK_EQ(c.state.c_bb, 0.0);
                CHECK_EQ(c.state.c_pb, 0.0);
                CHECK_NAN(c.state.beta());
                CHECK_NAN(c.state.correlation());
            }
        }
    }
}

}  // namespace

int main() {
    test_layouts_and_types<double, double>();
    test_layouts_and_types<float, float>();
    test_layouts_and_types<float, double>();
    test_layouts_and_types<double, float>();
    test_all_nan();
    test_length_mismatch();
    test_identical_series();
    test_large_level();
    test_constant();
    return check::report("test_batch");
}
