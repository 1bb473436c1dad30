// Risk kernels (risk.hpp) against long double references written from the
// definitions: max drawdown from the wealth path, Sortino / Omega / capture
// from plain sums; rolling == full sample on every window; strided, float and
// panel layouts; NaN, inf and out-of-domain rows; bad arguments.
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <trackerr/trackerr.hpp>
#include <vector>

#include "check.hpp"

namespace {

using trackerr::OutView;
using trackerr::Panel;
using trackerr::Risk;
using trackerr::RiskParams;
using trackerr::View;

constexpr double nan_v = std::numeric_limits<double>::quiet_NaN();

// Wealth path in long double, NaN rows skipped.
double ref_mdd(const std::vector<double>& r, long lo, long hi) {
    long double w = 1, peak = 1, worst = 0;
    long n = 0;
    for (long i = lo; i < hi; ++i) {
        if (std::isnan(r[i])) continue;
        if (!std::isfinite(r[i]) || r[i] < -1) return nan_v;
        ++n;
        w *= 1.0L + r[i];
        peak = std::fmax(peak, w);
        worst = std::fmin(worst, w / peak - 1);
    }
    return n ? (double)worst : nan_v;
}

double ref_sortino(const std::vector<double>& r, long lo, long hi, double target) {
    long double s1 = 0, s2 = 0;
    long n = 0;
    for (long i = lo; i < hi; ++i) {
        if (std::isnan(r[i])) continue;
        const long double d = (long double)r[i] - target;
        s1 += d;
        if (d < 0) s2 += d * d;
        ++n;
    }
    if (n == 0 || s2 == 0) return nan_v;
    return (double)(s1 / n / std::sqrt(s2 / n));
}

double ref_omega(const std::vector<double>& r, long lo, long hi, double thr) {
    long double g = 0, l = 0;
    for (long i = lo; i < hi; ++i) {
        if (std::isnan(r[i])) continue;
        const long double d = (long double)r[i] - thr;
        if (d > 0) g += d;
        if (d < 0) l -= d;
    }
    return l > 0 ? (double)(g / l) : nan_v;
}

double ref_capture(const std::vector<double>& p, const std::vector<double>& b, long lo, long hi, double sign,
                   double periods) {
    long double lp = 0, lb = 0;
    long k = 0;
    for (long i = lo; i < hi; ++i) {
        if (std::isnan(p[i]) || std::isnan(b[i]) || !(sign * b[i] > 0)) continue;
        lp += std::log1p((long double)p[i]);
        lb += std::log1p((long double)b[i]);
        ++k;
    }
    if (k == 0) return nan_v;
    return (double)(std::expm1(lp * periods / k) / std::expm1(lb * periods / k));
}

std::vector<double> series(std::mt19937_64& gen, long n, double sd, double nan_frac) {
    std::normal_distribution<double> nd(2e-4, sd);
    std::uniform_real_distribution<double> u(0, 1);
    std::vector<double> r(n);
    for (auto& x : r) x = u(gen) < nan_frac ? nan_v : nd(gen);
    return r;
}

void test_full_sample(std::mt19937_64& gen) {
    const auto r = series(gen, 3000, 0.02, 0.02);
    const View<double> v(r.data(), (std::ptrdiff_t)r.size());
    const long n = (long)r.size();
    long nan_rows = 0;
    for (double x : r) nan_rows += std::isnan(x);
    const auto m = trackerr::max_drawdown(v);
    CHECK_CLOSE(m.value, ref_mdd(r, 0, n), 1e-13);
    CHECK_EQ(m.skipped, nan_rows);
    CHECK_CLOSE(trackerr::sortino_ratio(v, 1e-4).value, ref_sortino(r, 0, n, 1e-4), 1e-13);
    CHECK_CLOSE(trackerr::sortino_ratio(v, 0.0, 252.0).value, ref_sortino(r, 0, n, 0.0) * std::sqrt(252.0),
                1e-13);
    CHECK_CLOSE(trackerr::omega_ratio(v, -1e-3).value, ref_omega(r, 0, n, -1e-3), 1e-13);
    const auto b = series(gen, 3000, 0.015, 0.0);
    const View<double> bv(b.data(), (std::ptrdiff_t)b.size());
    CHECK_CLOSE(trackerr::up_capture(v, bv, 252.0).value, ref_capture(r, b, 0, n, 1, 252), 1e-11);
    CHECK_CLOSE(trackerr::down_capture(v, bv, 12.0).value, ref_capture(r, b, 0, n, -1, 12), 1e-11);

    // Every other element read in place, and float input.
    const View<double> odd(r.data() + 1, n / 2, 2 * (std::ptrdiff_t)sizeof(double));
    std::vector<double> every_other;
    for (long i = 1; i < n; i += 2) every_other.push_back(r[i]);
    CHECK_CLOSE(trackerr::max_drawdown(odd).value, ref_mdd(every_other, 0, (long)every_other.size()), 1e-13);
    std::vector<float> f(r.begin(), r.end());
    std::vector<double> fd(f.begin(), f.end());
    CHECK_CLOSE(trackerr::omega_ratio(View<float>(f.data(), n)).value, ref_omega(fd, 0, n, 0.0), 1e-13);
}

void test_edge_cases() {
    const double first_loss[] = {-0.1, 0.05};
    CHECK_CLOSE(trackerr::max_drawdown(View<double>(first_loss, 2)).value, -0.1, 1e-15);
    const double ruin[] = {0.1, -1.0, 0.3};
    CHECK_EQ(trackerr::max_drawdown(View<double>(ruin, 3)).value, -1.0);
    const double negative[] = {0.1, -1.5, 0.3};
    CHECK_NAN(trackerr::max_drawdown(View<double>(negative, 3)).value);
    const double inf[] = {0.1, std::numeric_limits<double>::infinity()};
    CHECK_NAN(trackerr::sortino_ratio(View<double>(inf, 2)).value);
    const double gains[] = {0.01, 0.02};
    CHECK_NAN(trackerr::omega_ratio(View<double>(gains, 2)).value);
    CHECK_NAN(trackerr::sortino_ratio(View<double>(gains, 2)).value);
    CHECK_EQ(trackerr::max_drawdown(View<double>(gains, 2)).value, 0.0);
    const double all_nan[] = {nan_v, nan_v};
    const auto empty = trackerr::max_drawdown(View<double>(all_nan, 2));
    CHECK_NAN(empty.value);
    CHECK_EQ(empty.skipped, 2);
}

void test_rolling(std::mt19937_64& gen) {
    auto r = series(gen, 700, 0.03, 0.05);
    r[300] = std::numeric_limits<double>::infinity();
    auto b = series(gen, 700, 0.02, 0.0);
    const long n = (long)r.size();
    const View<double> v(r.data(), n), bv(b.data(), n);
    for (long w : {2L, 9L, 64L, 700L}) {
        RiskParams prm;
        prm.window = w;
        prm.min_periods = 1;
        prm.periods = 252;
        std::vector<double> mdd(n), sortino(n), omega(n), up(n), down(n);
        trackerr::rolling_risk(Risk::max_drawdown, v, v, prm, OutView{mdd.data()});
        trackerr::rolling_risk(Risk::sortino_ratio, v, v, prm, OutView{sortino.data()});
        trackerr::rolling_risk(Risk::omega_ratio, v, v, prm, OutView{omega.data()});
        trackerr::rolling_risk(Risk::up_capture, v, bv, prm, OutView{up.data()});
        trackerr::rolling_risk(Risk::down_capture, v, bv, prm, OutView{down.data()});
        for (long t = 0; t < n; ++t) {
            const long lo = t - w + 1 > 0 ? t - w + 1 : 0;
            const bool has_inf = lo <= 300 && 300 <= t;
            CHECK_NEAR(mdd[t], has_inf ? nan_v : ref_mdd(r, lo, t + 1), 1e-13, 1e-3);
            CHECK_CLOSE(sortino[t], has_inf ? nan_v : ref_sortino(r, lo, t + 1, 0.0) * std::sqrt(252.0),
                        1e-12);
            CHECK_CLOSE(omega[t], has_inf ? nan_v : ref_omega(r, lo, t + 1, 0.0), 1e-13);
            CHECK_CLOSE(up[t], has_inf ? nan_v : ref_capture(r, b, lo, t + 1, 1, 252), 1e-10);
            CHECK_CLOSE(down[t], has_inf ? nan_v : ref_capture(r, b, lo, t + 1, -1, 252), 1e-10);
            // Each window equals the full-sample kernel on its rows.
            const View<double> chunk(r.data() + lo, t + 1 - lo);
            CHECK_CLOSE(mdd[t], trackerr::max_drawdown(chunk).value, 1e-14);
        }
    }
}

void test_panel(std::mt19937_64& gen) {
    const long T = 400, N = 5;
    std::vector<double> data(T * N);  // row-major T x N
    auto s = series(gen, T * N, 0.02, 0.03);
    data = s;
    const Panel<double> p(data.data(), T, N, N * (long)sizeof(double), sizeof(double));
    std::vector<double> out(T * N), one(T);
    RiskParams prm;
    prm.window = 30;
    for (int threads : {1, 4}) {
        trackerr::rolling_risk(Risk::max_drawdown, p, p, prm, OutView{out.data(), N * (long)sizeof(double)},
                               sizeof(double), threads);
        for (long c = 0; c < N; ++c) {
            trackerr::rolling_risk(Risk::max_drawdown, p.column(c), p.column(c), prm, OutView{one.data()});
            for (long t = 0; t < T; ++t) {
                const double a = out[t * N + c], e = one[t];
                CHECK((std::isnan(a) && std::isnan(e)) || a == e);
            }
        }
    }
    std::vector<double> values(N);
    std::vector<std::int64_t> skipped(N);
    trackerr::risk(Risk::omega_ratio, p, p, prm, values.data(), skipped.data());
    for (long c = 0; c < N; ++c) CHECK_EQ(values[c], trackerr::omega_ratio(p.column(c)).value);
}

// Windows of time: each value is the full-sample metric of the rows with
// times in (t - span, t] (irregular times with ties and a long gap), and
// times that go back or a span <= 0 are refused.
void test_time_windows(std::mt19937_64& gen) {
    const long T = 300;
    auto r = series(gen, T, 0.0005, 0.01);
    auto b = series(gen, T, 0.0003, 0.01);
    std::vector<std::int64_t> times(T);
    std::int64_t now = 0;
    for (long t = 0; t < T; ++t) {
        now += (t % 7 == 3) ? 0 : 1 + static_cast<std::int64_t>(gen() % 50);
        if (t == 150) now += 1000;  // a gap: row 150's window holds only its own time
        times[t] = now;
    }
    RiskParams prm;
    prm.times = times.data();
    prm.span = 120;
    std::vector<double> out(T);
    for (Risk metric : {Risk::max_drawdown, Risk::sortino_ratio, Risk::omega_ratio, Risk::up_capture}) {
        if (metric == Risk::up_capture) prm.periods = 1.0;
        const View<double> p(r.data(), T), bv(b.data(), T);
        trackerr::rolling_risk(metric, p, bv, prm, OutView{out.data()});
        long first = 0;
        for (long t = 0; t < T; ++t) {
            while (times[first] <= times[t] - prm.span) ++first;
            const double want = trackerr::risk(metric, View<double>(r.data() + first, t + 1 - first),
                                               View<double>(b.data() + first, t + 1 - first), prm)
                                    .value;
            CHECK((std::isnan(out[t]) && std::isnan(want)) ||
                  std::fabs(out[t] - want) <= 1e-12 * std::fabs(want) + 1e-15);
        }
    }
    std::swap(times[10], times[11]);
    if (times[10] != times[11])
        CHECK_THROWS(trackerr::rolling_risk(Risk::omega_ratio, View<double>(r.data(), T), View<double>(r.data(), T),
                                            prm, OutView{out.data()}),
                     std::invalid_argument);
    std::swap(times[10], times[11]);
    prm.span = 0;
    CHECK_THROWS(trackerr::rolling_risk(Risk::omega_ratio, View<double>(r.data(), T), View<double>(r.data(), T), prm,
                                        OutView{out.data()}),
                 std::invalid_argument);
}

// A piece of a series run with the whole series' cuts (segment, origin: how
// trackerr.dask runs a block) gives the whole run's bits from the piece's
// first kept row on, for the risk slide and the pair kernels over time
// windows. The piece starts at the window before the cut preceding row s.
void test_time_pieces(std::mt19937_64& gen) {
    const long T = 5000, L = 700;
    auto r = series(gen, T, 0.0005, 0.01);
    auto b = series(gen, T, 0.0003, 0.01);
    r[1234] = nan_v;
    std::vector<std::int64_t> times(T);
    std::int64_t now = 0;
    for (long t = 0; t < T; ++t) {
        now += (t % 5 == 2) ? 0 : 1 + static_cast<std::int64_t>(gen() % 40);
        if (t == 2500) now += 5000;  // a gap longer than the span
        times[t] = now;
    }
    const std::int64_t span = 600;
    auto same = [](double x, double y) { return (std::isnan(x) && std::isnan(y)) || x == y; };
    for (long s : {1L, 699L, 700L, 701L, 2501L, 3333L, 4999L}) {
        const long c = s - s % L;
        long h = 0;
        if (c > 0)
            while (times[h] <= times[c - 1] - span) ++h;
        const long n = T - h;
        RiskParams whole, piece;
        whole.times = times.data();
        whole.span = piece.span = span;
        whole.segment = piece.segment = L;
        piece.times = times.data() + h;
        piece.origin = c - h;
        for (Risk metric : {Risk::max_drawdown, Risk::sortino_ratio, Risk::omega_ratio, Risk::down_capture}) {
            whole.periods = piece.periods = metric == Risk::down_capture ? 1.0 : nan_v;
            std::vector<double> all(T), part(n);
            trackerr::rolling_risk(metric, View<double>(r.data(), T), View<double>(b.data(), T), whole,
                                   OutView{all.data()});
            trackerr::rolling_risk(metric, View<double>(r.data() + h, n), View<double>(b.data() + h, n), piece,
                                   OutView{part.data()});
            for (long t = s; t < T; ++t) CHECK(same(all[t], part[t - h]));
        }
        trackerr::RollingParams pw, pp;
        pw.segment = pp.segment = L;
        pp.origin = c - h;
        std::vector<double> te(T), beta(T), te_p(n), beta_p(n);
        trackerr::RollingOutputs ow, op;
        ow.tracking_error = OutView{te.data()};
        ow.beta = OutView{beta.data()};
        op.tracking_error = OutView{te_p.data()};
        op.beta = OutView{beta_p.data()};
        trackerr::rolling_time(View<double>(r.data(), T), View<double>(b.data(), T), times.data(), span, pw, ow);
        trackerr::rolling_time(View<double>(r.data() + h, n), View<double>(b.data() + h, n), times.data() + h, span,
                               pp, op);
        for (long t = s; t < T; ++t) CHECK(same(te[t], te_p[t - h]) && same(beta[t], beta_p[t - h]));
    }
    // the default cuts: one segment for a short series, then 2^16 rows or more
    CHECK_EQ(trackerr::detail::time_segment_length(0, 100, 101, 10), 101L);
    CHECK_EQ(trackerr::detail::time_segment_length(0, 999999, 1000000, 1), 65536L);
    CHECK_EQ(trackerr::detail::time_segment_length(0, 999999, 1000000, 100000), 200000L);
}

void test_bad_arguments() {
    const double r[] = {0.1, 0.2, 0.3};
    const View<double> v(r, 3), short_b(r, 2);
    std::vector<double> out(3);
    RiskParams prm;
    prm.window = 0;
    CHECK_THROWS(trackerr::rolling_risk(Risk::omega_ratio, v, v, prm, OutView{out.data()}),
                 std::invalid_argument);
    prm.window = 2;
    prm.min_periods = 3;
    CHECK_THROWS(trackerr::rolling_risk(Risk::omega_ratio, v, v, prm, OutView{out.data()}),
                 std::invalid_argument);
    CHECK_THROWS(trackerr::up_capture(v, v, nan_v), std::invalid_argument);
    CHECK_THROWS(trackerr::up_capture(v, short_b, 252.0), std::invalid_argument);
    CHECK_THROWS(trackerr::sortino_ratio(v, std::numeric_limits<double>::infinity()), std::invalid_argument);
    CHECK_THROWS(trackerr::sortino_ratio(v, 0.0, -1.0), std::invalid_argument);
}


// The full-sample fast paths against `fold` (the per-row log / Sum2 path) on
// adversarial series, and which of them answered at the hand-over boundaries.
template <class M>
trackerr::RiskResult folded(const M& m, long n) {
    return trackerr::detail::fold(m, n);
}

void test_fast_paths(std::mt19937_64& gen) {
    using trackerr::detail::DrawdownOf;
    using trackerr::detail::OmegaOf;
    using trackerr::detail::SortinoOf;
    std::normal_distribution<double> nd(0.0, 1.0);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    auto normal = [&](long n, double mu, double sd) {
        std::vector<double> r(n);
        for (auto& x : r) x = mu + sd * nd(gen);
        return r;
    };
    std::vector<std::vector<double>> cases;
    cases.push_back(normal(5000, 3e-4, 0.01));
    cases.push_back(normal(5000, 1e-10, 1e-9));
    auto huge = normal(3000, 0.0, 1.0);
    for (auto& x : huge) x = std::fmax(x * std::pow(10.0, 2 + 6 * u(gen)), -0.999);
    cases.push_back(huge);
    auto crash = normal(3000, 0.0, 0.3);
    for (auto& x : crash) x = std::fmax(x, -0.99 + 1e-3 * u(gen));
    cases.push_back(crash);
    auto odd = normal(3000, 0.0, 0.01);
    odd[10] = -1.0 + 0x1p-53;
    odd[11] = -0.5;
    odd[12] = 65536.0;
    odd[13] = -0.75;
    odd[14] = 0x1p64;
    odd[15] = nan_v;
    odd[2999] = nan_v;
    cases.push_back(odd);
    auto pairs = normal(3000, 0.0, 0.02);
    for (long i = 1; i < 3000; i += 2) pairs[i] = -pairs[i - 1] / (1.0 + pairs[i - 1]);
    cases.push_back(pairs);
    cases.push_back(std::vector<double>(1000, -2.5e-4));
    cases.push_back(std::vector<double>(1000, 0.0));
    auto nans = normal(4099, -1e-4, 0.02);
    for (auto& x : nans)
        if (u(gen) < 0.3) x = nan_v;
    cases.push_back(nans);
    for (const auto& r : cases) {
        const long n = (long)r.size();
        const View<double> v(r.data(), n);
        const DrawdownOf<double> mdd{v};
        trackerr::RiskResult fast;
        CHECK(trackerr::detail::drawdown_fast(mdd, fast));
        const auto slow = folded(mdd, n);
        CHECK_CLOSE(fast.value, slow.value, 1e-14);
        CHECK_EQ(fast.skipped, slow.skipped);
        for (double target : {0.0, 1e-3}) {
            const SortinoOf<double> so{v, target, 1.0};
            CHECK(trackerr::detail::sortino_fast(so, fast));
            CHECK_CLOSE(fast.value, folded(so, n).value, 1e-15);
            CHECK_EQ(fast.skipped, folded(so, n).skipped);
            const OmegaOf<double> om{v, target};
            CHECK(trackerr::detail::omega_fast(om, fast));
            CHECK_CLOSE(fast.value, folded(om, n).value, 1e-15);
        }
        // the public entry point takes the fast path's answer
        CHECK_EQ(trackerr::max_drawdown(v).value, trackerr::detail::drawdown_fast(mdd, fast) ? fast.value : 0.0);
    }

    // Hand-over: a return above 2^64, a drawdown below the second-order bound
    // 64 (n + 4) eps, squares that overflow: `fold` answers, and so the entry point.
    std::vector<double> r = normal(100, 0.0, 0.01);
    r[50] = 0x1p64 * (1 + 0x1p-50);
    trackerr::RiskResult res;
    CHECK(!trackerr::detail::drawdown_fast(DrawdownOf<double>{View<double>(r.data(), 100)}, res));
    CHECK_EQ(trackerr::max_drawdown(View<double>(r.data(), 100)).value,
             folded(DrawdownOf<double>{View<double>(r.data(), 100)}, 100).value);
    const double bound = 64.0 * (1000 + 4) * 0x1p-53;
    for (double scale : {0.5, 2.0}) {
        std::vector<double> rise(1000, 1e-3);
        rise.back() = -scale * bound;
        const View<double> v(rise.data(), 1000);
        const bool answered = trackerr::detail::drawdown_fast(DrawdownOf<double>{v}, res);
        CHECK(answered == (scale > 1.0));
        CHECK_CLOSE(trackerr::max_drawdown(v).value, -scale * bound, 1e-13);
    }
    std::vector<double> sq = normal(100, 0.0, 0.01);
    sq[7] = -1e200;
    const View<double> sv(sq.data(), 100);
    CHECK(!trackerr::detail::sortino_fast(SortinoOf<double>{sv, 0.0, 1.0}, res));
    const double public_value = trackerr::sortino_ratio(sv).value;
    const double fold_value = folded(SortinoOf<double>{sv, 0.0, 1.0}, 100).value;
    CHECK((std::isnan(public_value) && std::isnan(fold_value)) || public_value == fold_value);
    // Known without arithmetic: ruin (-1), then a row out of domain (NaN); rows counted.
    std::vector<double> ru = normal(100, 0.0, 0.01);
    ru[10] = -1.0;
    ru[20] = nan_v;
    const View<double> rv(ru.data(), 100);
    CHECK(trackerr::detail::drawdown_fast(DrawdownOf<double>{rv}, res));
    CHECK_EQ(res.value, -1.0);
    CHECK_EQ(res.skipped, 1);
    ru[30] = std::numeric_limits<double>::infinity();
    CHECK(trackerr::detail::drawdown_fast(DrawdownOf<double>{rv}, res));
    CHECK_NAN(res.value);
    // Capture ratios: fast == fold to 1e-14 on the cases above (as portfolio,
    // against a noisy copy as benchmark), and the hand-over of tiny log sums.
    using trackerr::detail::CaptureOf;
    for (const auto& port : cases) {
        const long n = (long)port.size();
        std::vector<double> bench(port);
        for (auto& x : bench)
            if (!std::isnan(x)) x = std::fmax(x + 1e-3 * nd(gen), -0.999);
        const View<double> pv(port.data(), n), bv(bench.data(), n);
        for (double sign : {1.0, -1.0})
            for (double periods : {1.0, 252.0}) {
                const CaptureOf<double, double> cap{pv, bv, sign, periods};
                trackerr::RiskResult fast;
                const bool answered = trackerr::detail::capture_fast(cap, fast);
                const auto slow = folded(cap, n);
                CHECK(answered || port.size() == 1000);  // the constant cases' log sums may be tiny
                if (answered) {
                    CHECK_CLOSE(fast.value, slow.value, 1e-13);
                    CHECK_EQ(fast.skipped, slow.skipped);
                }
            }
    }
    std::vector<double> tiny_b(1000, 3e-16), tiny_p(1000, 1e-16);
    for (long i = 0; i < 1000; i += 2) tiny_b[i] = -7e-16;
    const View<double> tp(tiny_p.data(), 1000), tb(tiny_b.data(), 1000);
    const CaptureOf<double, double> tiny_cap{tp, tb, 1.0, 1.0};
    CHECK(!trackerr::detail::capture_fast(tiny_cap, res));
    CHECK_EQ(trackerr::up_capture(tp, tb, 1.0).value, folded(tiny_cap, 1000).value);

    // Saturated: T / M below 2^-300 is -1 to double precision.
    std::vector<double> sat(200, -0.999);
    CHECK_EQ(trackerr::max_drawdown(View<double>(sat.data(), 200)).value, -1.0);
}
}  // namespace

// Summaries of parts merged in order give the whole's value (to rounding of
// the full-sample function, which may take a fast path), whatever the cuts,
// and the bytes survive a copy (as across a transport).
void test_mergeable_summaries(std::mt19937_64& gen) {
    std::normal_distribution<double> ret(0.0004, 0.02);
    const long n = 20000;
    std::vector<double> p(n), b(n);
    for (long i = 0; i < n; ++i) p[i] = ret(gen), b[i] = ret(gen);
    p[77] = nan_v;
    b[5000] = nan_v;
    const View<double> pv(p.data(), n), bv(b.data(), n);
    const Risk metrics[] = {Risk::max_drawdown, Risk::sortino_ratio, Risk::omega_ratio, Risk::up_capture,
                            Risk::down_capture};
    std::uniform_int_distribution<long> cut(1, n - 1);
    for (Risk metric : metrics) {
        RiskParams prm;
        prm.periods = 252.0;
        prm.target = 0.0001;
        const trackerr::RiskResult whole = trackerr::risk(metric, pv, bv, prm);
        const std::size_t size = trackerr::risk_summary_size(metric);
        for (int trial = 0; trial < 5; ++trial) {
            long cuts[3] = {cut(gen), cut(gen), cut(gen)};
            std::sort(cuts, cuts + 3);
            long edges[5] = {0, cuts[0], cuts[1], cuts[2], n};
            std::vector<unsigned char> acc(size), part(size), merged(size);
            for (int k = 0; k < 4; ++k) {
                const long lo = edges[k], hi = edges[k + 1];
                trackerr::risk_summary(metric, View<double>(p.data() + lo, hi - lo),
                                       View<double>(b.data() + lo, hi - lo), prm, part.data());
                if (k == 0) {
                    acc = part;
                } else {
                    trackerr::risk_merge(metric, acc.data(), part.data(), merged.data());
                    acc = merged;
                }
            }
            const trackerr::RiskResult got = trackerr::risk_summary_value(metric, acc.data(), prm, n);
            CHECK_CLOSE(got.value, whole.value, 4e-16);
            CHECK_EQ(got.skipped, whole.skipped);
        }
    }
}

int main() {
    std::mt19937_64 gen(20261124);
    test_full_sample(gen);
    test_edge_cases();
    test_rolling(gen);
    test_panel(gen);
    test_time_windows(gen);
    test_time_pieces(gen);
    test_bad_arguments();
    test_fast_paths(gen);
    test_mergeable_summaries(gen);
    return check::report("test_risk");
}
