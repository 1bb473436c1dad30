// Streaming states: Window against an exact per-window reference over a long
// run (no drift), Cumulative merges, checkpoint round trips and hostile bytes.
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <trackerr/trackerr.hpp>
#include <vector>

#include "check.hpp"

namespace {

long double exact_std(const std::vector<double>& a) {
    long double s = 0;
    for (double x : a) s += x;
    const long double m = s / a.size();
    long double q = 0;
    for (double x : a) q += (x - m) * (x - m);
    return std::sqrt(q / (a.size() - 1));
}

}  // namespace

int main() {
    using trackerr::stream::Cumulative;
    using trackerr::stream::Window;
    std::mt19937_64 g(99);
    std::normal_distribution<double> N(0.0, 1.0);

    // Long run: TRACKERR_LONG_TICKS ticks (1e8 in optimized builds) through a
    // window at a large level; the last window must match an exact reference.
#if defined(NDEBUG) && !defined(TRACKERR_SANITIZED)
    const long ticks = 100000000;
#else
    const long ticks = 1000000;
#endif
    const long w = 252;
    Window win(w);
    std::vector<double> last_a;
    for (long t = 0; t < ticks; ++t) {
        const double b = 1000.0 + N(g);
        const double p = b + 0.01 * N(g);
        win.update(&p, b);
        if (t >= ticks - w) last_a.push_back(p - b);
    }
    const long double want = exact_std(last_a);
    CHECK_CLOSE(win.read(0).tracking_error, (double)want, 1e-12);
    std::printf("long run: %ld ticks, relative error %.3g\n", ticks,
                (double)std::fabs((win.read(0).tracking_error - want) / want));

    // Cumulative: merge of chunks equals one pass; checkpoints round-trip.
    Cumulative whole, a, b2;
    std::vector<double> ps, bs;
    for (int t = 0; t < 5000; ++t) {
        const double b = 0.01 * N(g), p = 0.9 * b + 0.003 * N(g);
        whole.update(&p, b);
        (t < 1700 ? a : b2).update(&p, b);
    }
    a += b2;
    CHECK_CLOSE(a.read(0).tracking_error, whole.read(0).tracking_error, 1e-13);
    CHECK_CLOSE(a.read(0).beta, whole.read(0).beta, 1e-12);
    const Cumulative back = Cumulative::from_bytes(whole.to_bytes());
    CHECK_EQ(back.read(0).tracking_error, whole.read(0).tracking_error);
    const Window wback = Window::from_bytes(win.to_bytes());
    CHECK_EQ(wback.read(0).tracking_error, win.read(0).tracking_error);

    // Batches: a Window batch longer than the window replays its last window;
    // a Cumulative batch runs the blocked kernels; both match tick by tick.
    {
        std::vector<double> P, B;
        for (int t = 0; t < 3000; ++t) {
            B.push_back(0.01 * N(g));
            P.push_back(0.8 * B.back() + 0.002 * N(g));
        }
        Window wt(63), wb(63);
        Cumulative ct, cb;
        for (std::size_t t = 0; t < P.size(); ++t) {
            wt.update(&P[t], B[t]);
            ct.update(&P[t], B[t]);
        }
        wb.update(P.data(), B.data(), 10);
        wb.update(P.data() + 10, B.data() + 10, 2990);
        cb.update(P.data(), B.data(), 3000);
        CHECK_CLOSE(wb.read(0).tracking_error, wt.read(0).tracking_error, 1e-13);
        CHECK_CLOSE(wb.read(0).beta, wt.read(0).beta, 1e-13);
        CHECK_EQ(wb.read(0).count, 63.0);
        CHECK_CLOSE(cb.read(0).tracking_error, ct.read(0).tracking_error, 1e-13);
        CHECK_CLOSE(cb.read(0).correlation, ct.read(0).correlation, 1e-13);

        // Exponential: appending a chunk's state equals one pass.
        using trackerr::stream::Exponential;
        Exponential e1(0.05), e2(0.05), whole_e(0.05);
        whole_e.update(P.data(), B.data(), 3000);
        e1.update(P.data(), B.data(), 1234);
        e2.update(P.data() + 1234, B.data() + 1234, 3000 - 1234);
        e1 += e2;
        CHECK_CLOSE(e1.read(0).tracking_error, whole_e.read(0).tracking_error, 1e-12);
        CHECK_CLOSE(e1.read(0).beta, whole_e.read(0).beta, 1e-12);
        CHECK_THROWS(e1 += Exponential(0.06), std::invalid_argument);
    }

    // Hostile bytes: truncations and single-bit flips either throw or load a usable state.
    const std::string good = Window(10, 2).to_bytes();
    for (std::size_t cut = 0; cut < good.size(); cut += 7)
        CHECK_THROWS(Window::from_bytes(good.substr(0, cut)), std::invalid_argument);
    for (std::size_t i = 0; i < good.size(); ++i)
        for (int bit = 0; bit < 8; bit += 3) {
            std::string bad = good;
            bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
            try {
                Window s = Window::from_bytes(bad);
                std::vector<double> tick(static_cast<std::size_t>(s.portfolios()), 0.01);
                for (int t = 0; t < 20; ++t) s.update(tick.data(), 0.0);
                (void)s.read(0);
            } catch (const std::invalid_argument&) {
            }
        }
    CHECK_THROWS(Cumulative::from_bytes(good), std::invalid_argument);
    return check::report("test_stream");
}
