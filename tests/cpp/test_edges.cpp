// Edges of the kernels: exceptions and failed thread creation in the parallel
// parts, windows far longer than the series, argument limits, tiny and huge
// data (scaled sums), and the domain of compounded metrics.
#include <trackerr/trackerr.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <vector>

#include "check.hpp"

namespace {

using trackerr::OutView;
using trackerr::Panel;
using trackerr::Risk;
using trackerr::RiskParams;
using trackerr::RollingOutputs;
using trackerr::RollingParams;
using trackerr::View;
using Index = std::ptrdiff_t;
constexpr double nan_v = std::numeric_limits<double>::quiet_NaN();

std::size_t idx(Index i) {
    return static_cast<std::size_t>(i);
}

// A spawner that starts `allowed` threads, then fails as pthread_create does
// when the system is out of threads or memory.
struct FailingSpawn {
    int allowed;
    mutable int started = 0;
    template <class F>
    void operator()(std::vector<std::thread>& pool, const F& f, Index i) const {
        if (started >= allowed) throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again));
        pool.emplace_back(f, i);
        ++started;
    }
};

void test_run_parts() {
    using trackerr::detail::run_parts;
    for (int allowed : {0, 1, 2, 100}) {
        // Every part runs exactly once, whether on a thread or, when threads
        // cannot be created, on the caller's.
        std::vector<std::atomic<int>> runs(8);
        run_parts(8, [&](Index i) { runs[idx(i)] += 1; }, FailingSpawn{allowed});
        for (auto& r : runs) CHECK_EQ(r.load(), 1);
        // A part that throws: the caller gets the lowest part's exception as
        // an ordinary exception (not std::terminate), after every part ran.
        std::vector<std::atomic<int>> done(6);
        bool caught = false;
        try {
            run_parts(
                6,
                [&](Index i) {
                    done[idx(i)] += 1;
                    if (i == 2) throw std::runtime_error("part 2");
                    if (i == 4) throw std::logic_error("part 4");
                },
                FailingSpawn{allowed});
        } catch (const std::runtime_error& e) {
            caught = std::string(e.what()) == "part 2";
        }
        CHECK(caught);
        for (auto& d : done) CHECK_EQ(d.load(), 1);
    }
    // Part 0 (always on the calling thread) throwing while threads run.
    bool caught = false;
    try {
        run_parts(4, [](Index i) {
            if (i == 0) throw std::bad_alloc();
        });
    } catch (const std::bad_alloc&) {
        caught = true;
    }
    CHECK(caught);
    run_parts(0, [](Index) { throw std::logic_error("never called"); });
}

// run_parts on the pool: every part once, the lowest part's exception after
// all ran, callers on several threads at once, and a part that itself runs
// parts (the caller always helps, so nothing waits on a busy pool forever).
void test_run_parts_pool() {
    using trackerr::detail::run_parts;
    for (int round = 0; round < 50; ++round) {
        std::vector<std::atomic<int>> done(6);
        bool caught = false;
        try {
            run_parts(6, [&](Index i) {
                done[idx(i)] += 1;
                if (i == 4) throw std::logic_error("part 4");
                if (i == 2) throw std::runtime_error("part 2");
            });
        } catch (const std::runtime_error& e) {
            caught = std::string(e.what()) == "part 2";
        }
        CHECK(caught);
        for (auto& d : done) CHECK_EQ(d.load(), 1);
    }
    std::vector<std::atomic<int>> runs(4 * 16);
    std::vector<std::thread> callers;
    for (int c = 0; c < 4; ++c)
        callers.emplace_back([&runs, c] {
            for (int r = 0; r < 200; ++r)
                run_parts(16, [&runs, c](Index i) { runs[idx(16 * c + i)] += 1; });
        });
    for (std::thread& t : callers) t.join();
    for (auto& r : runs) CHECK_EQ(r.load(), 200);
    std::vector<std::atomic<int>> nested(8 * 8);
    run_parts(8, [&nested](Index i) { run_parts(8, [&nested, i](Index j) { nested[idx(8 * i + j)] += 1; }); });
    for (auto& n : nested) CHECK_EQ(n.load(), 1);
}

// More parts than threads, claimed as threads come free: every part once,
// never more pool threads at once than asked for, the lowest part's
// exception rethrown; 0 helpers runs everything on the caller.
void test_run_parts_shared() {
    using trackerr::detail::run_parts_shared;
    for (Index helpers : {0, 1, 3}) {
        for (int round = 0; round < 30; ++round) {
            std::vector<std::atomic<int>> done(20);
            std::atomic<int> now{0}, most{0};
            const std::thread::id caller = std::this_thread::get_id();
            std::atomic<int> on_caller{0};
            bool caught = false;
            try {
                run_parts_shared(20, helpers, [&](Index i) {
                    const int in = ++now;
                    int m = most.load();
                    while (in > m && !most.compare_exchange_weak(m, in)) {
                    }
                    if (std::this_thread::get_id() == caller) ++on_caller;
                    done[idx(i)] += 1;
                    std::this_thread::sleep_for(std::chrono::microseconds(50));
                    --now;
                    if (i == 13) throw std::logic_error("part 13");
                    if (i == 7) throw std::runtime_error("part 7");
                });
            } catch (const std::runtime_error& e) {
                caught = std::string(e.what()) == "part 7";
            }
            CHECK(caught);
            for (auto& d : done) CHECK_EQ(d.load(), 1);
            CHECK(most.load() <= 1 + helpers);
            CHECK(on_caller.load() >= 1);
            if (helpers == 0) CHECK_EQ(on_caller.load(), 20);
        }
    }
}

void test_threads_limits() {
    std::vector<double> p(40, 0.01), out(40);
    const Panel<double> panel(p.data(), 10, 4, 4 * sizeof(double), sizeof(double));
    RiskParams rp;
    rp.window = 3;
    RollingParams prm;
    prm.window = 3;
    trackerr::OutPanel op{};
    op.columns.tracking_error = OutView{out.data(), 4 * sizeof(double)};
    op.col_stride[0] = sizeof(double);
    for (int bad : {0, -1, trackerr::detail::max_threads + 1, std::numeric_limits<int>::max()}) {
        CHECK_THROWS(trackerr::rolling_risk(Risk::max_drawdown, panel, panel, rp, OutView{out.data(), 32}, 8, bad),
                     std::invalid_argument);
        CHECK_THROWS(trackerr::rolling(panel, trackerr::broadcast(View<double>(p.data(), 10), 4), prm, op, bad),
                     std::invalid_argument);
        CHECK_THROWS(trackerr::rolling(View<double>(p.data(), 10), View<double>(p.data(), 10), prm,
                                       op.columns, bad),
                     std::invalid_argument);
    }
    // Options a C++ caller could get wrong (the Python layer checks them too).
    for (double ddof : {-1.0, nan_v}) {
        RollingParams bad = prm;
        bad.ddof = ddof;
        CHECK_THROWS(trackerr::rolling(View<double>(p.data(), 10), View<double>(p.data(), 10), bad, op.columns, 1),
                     std::invalid_argument);
    }
    for (double periods : {0.0, -252.0, HUGE_VAL}) {
        RollingParams bad = prm;
        bad.periods = periods;
        CHECK_THROWS(trackerr::rolling(panel, trackerr::broadcast(View<double>(p.data(), 10), 4), bad, op, 1),
                     std::invalid_argument);
    }
    trackerr::rolling_risk(Risk::max_drawdown, panel, panel, rp, OutView{out.data(), 32}, 8,
                           trackerr::detail::max_threads);
    CHECK_EQ(out[39], 0.0);
}

// A window far beyond the series allocates by the rows (the two-stacks
// buffers hold min(window, rows) summaries) and gives what a window of
// rows + 1 gives, bit for bit.
void test_huge_windows() {
    const Index T = 12, N = 3;
    std::vector<double> p(idx(T * N)), b(idx(T));
    for (Index i = 0; i < T * N; ++i) p[idx(i)] = 0.01 * static_cast<double>((i * 7) % 11) - 0.04;
    for (Index i = 0; i < T; ++i) b[idx(i)] = 0.005 * static_cast<double>((i * 5) % 7) - 0.01;
    const Panel<double> panel(p.data(), T, N, N * sizeof(double), sizeof(double));
    const Panel<double> bench = trackerr::broadcast(View<double>(b.data(), T), N);
    const Index huge[] = {Index{10000000000}, Index{1} << 40, Index{1} << 61, std::numeric_limits<Index>::max()};
    for (Risk metric : {Risk::max_drawdown, Risk::sortino_ratio, Risk::omega_ratio, Risk::up_capture,
                        Risk::down_capture}) {
        RiskParams rp;
        rp.periods = 12.0;
        rp.min_periods = 1;
        rp.window = T + 1;
        std::vector<double> want(idx(T * N)), got(idx(T * N));
        trackerr::rolling_risk(metric, panel, bench, rp, OutView{want.data(), N * 8}, 8, 1);
        for (Index w : huge) {
            rp.window = w;
            for (int threads : {1, 4}) {
                trackerr::rolling_risk(metric, panel, bench, rp, OutView{got.data(), N * 8}, 8, threads);
                int same = 0;
                for (Index i = 0; i < T * N; ++i)
                    same += (got[idx(i)] == want[idx(i)]) || (got[idx(i)] != got[idx(i)] && want[idx(i)] != want[idx(i)]);
                CHECK_EQ(same, T * N);
            }
            rp.min_periods = 0;  // = window: never reached
            trackerr::rolling_risk(metric, panel, bench, rp, OutView{got.data(), N * 8}, 8, 2);
            for (double v : got) CHECK_NAN(v);
            rp.min_periods = 1;
        }
    }
    // The moment kernels, 1-D and panel (the segment length of a long 1-D
    // series is 8 windows: no overflow for any window).
    RollingParams prm;
    prm.min_periods = 2;
    prm.window = T + 1;
    std::vector<double> te_want(idx(T * N)), be_want(idx(T * N)), te(idx(T * N)), be(idx(T * N));
    auto outs = [&](std::vector<double>& a, std::vector<double>& c) {
        trackerr::OutPanel op{};
        op.columns.tracking_error = OutView{a.data(), N * 8};
        op.columns.beta = OutView{c.data(), N * 8};
        op.col_stride[0] = op.col_stride[3] = 8;
        return op;
    };
    trackerr::rolling(panel, bench, prm, outs(te_want, be_want), 1);
    for (Index w : huge) {
        prm.window = w;
        trackerr::rolling(panel, bench, prm, outs(te, be), 3);
        for (Index i = 0; i < T * N; ++i) {
            CHECK(te[idx(i)] == te_want[idx(i)] || (te[idx(i)] != te[idx(i)] && te_want[idx(i)] != te_want[idx(i)]));
            CHECK(be[idx(i)] == be_want[idx(i)] || (be[idx(i)] != be[idx(i)] && be_want[idx(i)] != be_want[idx(i)]));
        }
        std::vector<double> one(idx(T));
        RollingOutputs o{};
        o.tracking_error = OutView{one.data()};
        trackerr::rolling(View<double>(p.data(), T, N * 8), View<double>(b.data(), T), prm, o, 2);
        CHECK_NAN(one[0]);
        for (Index t = 1; t < T; ++t) CHECK_EQ(one[idx(t)], te_want[idx(t * N)]);
    }
}

// Tiny (1e-200) and huge (1e200) data: sums of squares would underflow to 0
// or overflow to inf; the kernels sum such series scaled by a power of two.
// Expected values from long double (range to 1e4932: no underflow there).
void test_scaled_data() {
    namespace m = trackerr::metrics;
    const double base[] = {1.0, 2.0, 0.0, 5.0, -3.0, 2.5, 7.0, -1.0};
    const double bench[] = {0.5, 1.0, 0.25, 2.0, -1.0, 1.0, 3.0, 0.0};
    const Index n = 8;
    for (double s : {1e-200, 1e-300, 1e200, 1e300, 1.0}) {
        for (double sb : {1.0, s}) {
            std::vector<double> p(idx(n)), b(idx(n));
            for (Index i = 0; i < n; ++i) {
                p[idx(i)] = base[i] * s;
                b[idx(i)] = bench[i] * sb;
            }
            long double mp = 0, mb = 0, ma = 0;
            for (Index i = 0; i < n; ++i) {
                mp += p[idx(i)];
                mb += b[idx(i)];
                ma += static_cast<long double>(p[idx(i)] - b[idx(i)]);
            }
            mp /= n;
            mb /= n;
            ma /= n;
            long double cpp = 0, cbb = 0, cpb = 0, caa = 0;
            for (Index i = 0; i < n; ++i) {
                const long double dp = p[idx(i)] - mp, db = b[idx(i)] - mb;
                const long double da = static_cast<long double>(p[idx(i)] - b[idx(i)]) - ma;
                cpp += dp * dp;
                cbb += db * db;
                cpb += dp * db;
                caa += da * da;
            }
            const long double corr = cpb / std::sqrt(cpp * cbb), beta = cpb / cbb;
            const long double te = std::sqrt(caa / (n - 1)), alpha = mp - beta * mb;
            const View<double> vp(p.data(), n), vb(b.data(), n);
            const auto c = trackerr::comoments(vp, vb);
            const auto a = trackerr::active_moments(vp, vb);
            CHECK_CLOSE(m::correlation(c.state), corr, 1e-14);
            CHECK_CLOSE(m::r_squared(c.state), corr * corr, 1e-14);
            CHECK_CLOSE(m::beta(c.state, c.scale_p, c.scale_b), beta, 1e-14);
            CHECK_NEAR(m::alpha(c.state, 0.0, nan_v, c.scale_p, c.scale_b), alpha, 1e-13, std::fabs(mp) + std::fabs(beta * mb));
            CHECK_CLOSE(m::tracking_error(a.state, 1.0, nan_v, a.scale_p), te, 1e-14);
            CHECK_CLOSE(m::active_return(a.state, nan_v, a.scale_p), ma, 1e-14);
            CHECK_CLOSE(m::information_ratio(a.state, 1.0, nan_v), ma / te, 1e-14);
            CHECK_CLOSE(trackerr::active_mean(vp, vb).state.mean * std::ldexp(1.0, trackerr::active_mean(vp, vb).scale_p), ma, 1e-14);
            if (s == 1.0) CHECK_EQ(c.scale_p + c.scale_b + a.scale_p, 0);  // ordinary data are not scaled
            // The same series as columns of a C-order panel, between ordinary columns.
            const Index N = 3;
            std::vector<double> pp(idx(n * N)), bb(idx(n * N));
            for (Index i = 0; i < n; ++i)
                for (Index j = 0; j < N; ++j) {
                    pp[idx(i * N + j)] = j == 1 ? p[idx(i)] : 0.01 * base[i];
                    bb[idx(i * N + j)] = j == 1 ? b[idx(i)] : 0.01 * bench[i];
                }
            const Panel<double> P(pp.data(), n, N, N * 8, 8), B(bb.data(), n, N, N * 8, 8);
            std::vector<trackerr::Accumulated<trackerr::CoMoments>> pc(idx(N));
            std::vector<trackerr::Accumulated<trackerr::Moments>> pa(idx(N));
            trackerr::comoments(P, B, pc.data());
            trackerr::active_moments(P, B, pa.data());
            CHECK_CLOSE(m::correlation(pc[1].state), corr, 1e-14);
            CHECK_CLOSE(m::beta(pc[1].state, pc[1].scale_p, pc[1].scale_b), beta, 1e-14);
            CHECK_CLOSE(m::tracking_error(pa[1].state, 1.0, nan_v, pa[1].scale_p), te, 1e-14);
            CHECK_EQ(pc[0].scale_p + pc[0].scale_b + pa[2].scale_p, 0);
        }
    }
    // The reproducer of the issue: correlation([1e-200, 2e-200, 0], [1, 2, 0]) is 1.
    const double tp[] = {1e-200, 2e-200, 0.0}, tb[] = {1.0, 2.0, 0.0};
    CHECK_CLOSE(m::correlation(trackerr::comoments(View<double>(tp, 3), View<double>(tb, 3)).state), 1.0L, 1e-15);
    // Constant and zero series stay exactly constant.
    const double z[] = {0.0, 0.0, 0.0}, k[] = {1e-250, 1e-250, 1e-250};
    const auto cz = trackerr::comoments(View<double>(z, 3), View<double>(k, 3));
    CHECK_EQ(cz.state.c_pp, 0.0);
    CHECK_EQ(cz.state.c_bb, 0.0);
    CHECK_NAN(m::beta(cz.state, cz.scale_p, cz.scale_b));
    CHECK_EQ(m::tracking_error(trackerr::active_moments(View<double>(k, 3), View<double>(z, 3)).state, 1.0, nan_v), 0.0);
}

// Rolling moments of tiny or huge series: rescaled windows (1-D and C-order
// panel), ordinary windows of a series with one huge value untouched.
void test_rolling_scaled() {
    const Index T = 12, w = 4;
    for (double s : {1e-200, 1e200, 1e-300}) {
        std::vector<double> p(idx(T)), b(idx(T)), corr(idx(T)), beta(idx(T)), te(idx(T));
        for (Index i = 0; i < T; ++i) {
            b[idx(i)] = 0.01 * static_cast<double>((i * 5) % 7) - 0.02;
            p[idx(i)] = 3.0 * s * b[idx(i)];  // beta 3 s, correlation 1
        }
        RollingParams prm;
        prm.window = w;
        RollingOutputs o{};
        o.correlation = OutView{corr.data()};
        o.beta = OutView{beta.data()};
        o.tracking_error = OutView{te.data()};
        trackerr::rolling(View<double>(p.data(), T), View<double>(b.data(), T), prm, o, 2);
        for (Index t = w - 1; t < T; ++t) {
            CHECK_CLOSE(corr[idx(t)], 1.0L, 1e-14);
            CHECK_CLOSE(beta[idx(t)], 3.0L * s, 1e-14);
            CHECK(std::isfinite(te[idx(t)]) && te[idx(t)] > 0.0);
        }
        // The same pair as column 1 of a C-order panel (row-wise kernel).
        const Index N = 3;
        std::vector<double> P(idx(T * N)), C(idx(T * N));
        for (Index i = 0; i < T; ++i)
            for (Index j = 0; j < N; ++j) P[idx(i * N + j)] = j == 1 ? p[idx(i)] : 0.5 * b[idx(i)] + 0.001 * static_cast<double>(j);
        trackerr::OutPanel op{};
        op.columns.correlation = OutView{C.data(), N * 8};
        op.col_stride[5] = 8;
        trackerr::rolling(Panel<double>(P.data(), T, N, N * 8, 8), trackerr::broadcast(View<double>(b.data(), T), N),
                          prm, op, 1);
        for (Index t = w - 1; t < T; ++t) CHECK_CLOSE(C[idx(t * N + 1)], 1.0L, 1e-14);
    }
}

// Compounded risk metrics: a return below -1 anywhere in the rows is out of
// domain (NaN), selected by the capture ratio or not, as an inf is.
void test_capture_domain() {
    const double p[] = {0.02, -1.5, 0.01, 0.03}, b[] = {0.01, -0.02, 0.02, 0.01};
    const View<double> vp(p, 4), vb(b, 4);
    CHECK_NAN(trackerr::up_capture(vp, vb, 12.0).value);    // row 1 is not an up row
    CHECK_NAN(trackerr::down_capture(vp, vb, 12.0).value);  // row 1 is a down row
    const double q[] = {0.02, 0.01, 0.01, 0.03};
    CHECK(std::isfinite(trackerr::up_capture(View<double>(q, 4), vb, 12.0).value));
    CHECK_NAN(trackerr::max_drawdown(vp).value);
}

}  // namespace

int main() {
    test_run_parts();
    test_run_parts_pool();
    test_run_parts_shared();
    test_threads_limits();
    test_huge_windows();
    test_scaled_data();
    test_rolling_scaled();
    test_capture_domain();
    return check::report("test_edges");
}
