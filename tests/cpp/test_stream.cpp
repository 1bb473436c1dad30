// Streaming states: Window against an exact per-window reference over a long
// run (no drift), Cumulative merges, checkpoint round trips and hostile bytes
// (every bit flip refused: CRC-32), size overflow checks, Exponential times.
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

    // CRC-32: zlib's check value and chaining.
    {
        using trackerr::stream::detail::crc32;
        const std::string nine = "123456789";
        CHECK_EQ(crc32(nine.data(), nine.size()), 0xCBF43926u);
        CHECK_EQ(crc32(nine.data(), 0), 0u);
        CHECK_EQ(crc32(nine.data() + 4, 5, crc32(nine.data(), 4)), 0xCBF43926u);
    }

    // Hostile bytes: every truncation and every single-bit flip of real
    // checkpoints is refused (the checksum covers the whole record).
    {
        using trackerr::stream::Exponential;
        std::vector<double> P, B, T;
        for (int t = 0; t < 12; ++t) {
            B.push_back(0.01 * N(g));
            for (int j = 0; j < 2; ++j) P.push_back(B.back() + 0.003 * N(g));
            T.push_back(0.5 * t);
        }
        Window wn(5, 2);
        wn.update(P.data(), B.data(), 12);
        Cumulative cn(2);
        cn.update(P.data(), B.data(), 12);
        Exponential et(0.0, 2, {}, 3.0, true), ef(0.2, 2, {}, trackerr::detail::nan_v, false);
        et.update(P.data(), B.data(), T.data(), 12);
        ef.update(P.data(), B.data(), 12);
        auto all_refused = [](const std::string& good, auto load) {
            long loaded = 0;
            for (std::size_t cut = 0; cut < good.size(); ++cut) try {
                    load(good.substr(0, cut));
                    ++loaded;
                } catch (const std::invalid_argument&) {
                }
            for (std::size_t i = 0; i < good.size(); ++i)
                for (int bit = 0; bit < 8; ++bit) {
                    std::string bad = good;
                    bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
                    try {
                        load(bad);
                        ++loaded;
                    } catch (const std::invalid_argument&) {
                    }
                }
            return loaded;
        };
        CHECK_EQ(all_refused(wn.to_bytes(), [](const std::string& x) { return Window::from_bytes(x); }), 0);
        CHECK_EQ(all_refused(cn.to_bytes(), [](const std::string& x) { return Cumulative::from_bytes(x); }), 0);
        CHECK_EQ(all_refused(et.to_bytes(), [](const std::string& x) { return Exponential::from_bytes(x); }), 0);
        CHECK_EQ(all_refused(ef.to_bytes(), [](const std::string& x) { return Exponential::from_bytes(x); }), 0);
        // round trips keep everything, the flags included
        std::uint32_t flags = 7;
        const Window wb = Window::from_bytes(wn.to_bytes(), &flags);
        CHECK_EQ(flags, 0u);
        CHECK_EQ(wb.read(1).tracking_error, wn.read(1).tracking_error);
        CHECK(wb.to_bytes() == wn.to_bytes());
        CHECK_THROWS(Window::from_bytes(wn.to_bytes(1)), std::invalid_argument);  // scalar flag, 2 portfolios
        CHECK_THROWS(Cumulative::from_bytes(wn.to_bytes()), std::invalid_argument);
        // an older format is refused by name
        std::string old = Window(5).to_bytes();
        old[4] = 2;
        try {
            Window::from_bytes(old);
            CHECK(false);
        } catch (const std::invalid_argument& e) {
            CHECK(std::string(e.what()).find("format 2 was written by an older trackerr") != std::string::npos);
        }
    }

    // Sizes: products that overflow are refused before anything is formed;
    // a huge window allocates only for the ticks it holds.
    {
        const std::ptrdiff_t big = std::ptrdiff_t{1} << 62;
        CHECK_THROWS(Window(big, 4), std::invalid_argument);
        CHECK_THROWS(Cumulative(big), std::invalid_argument);
        CHECK_THROWS(trackerr::stream::Exponential(0.5, big), std::invalid_argument);
        Window huge(1000000000000, 3);
        const double tick[3] = {0.01, 0.02, 0.03};
        huge.update(tick, 0.0);
        huge.update(tick, 0.01);
        CHECK_EQ(huge.read(0).count, 2.0);
        CHECK(huge.to_bytes().size() < 1000);
        Cumulative c3(3);
        CHECK_THROWS(c3.update(tick, tick, big), std::invalid_argument);  // rows x 3 overflows: nothing read
        CHECK_THROWS(c3.update(tick, tick, -1), std::invalid_argument);
        CHECK_EQ(c3.read(0).count, 0.0);
    }

    // Exponential with times: equal times are one instant, going back or a
    // non-finite time is refused and leaves the state unchanged.
    {
        using trackerr::stream::Exponential;
        trackerr::stream::Options o0;
        o0.ddof = 0.0;
        Exponential e(0.0, 1, o0, 1.0, true);
        const double x[3] = {1.0, 3.0, 9.0}, zero[3] = {0.0, 0.0, 0.0}, t[3] = {5.0, 5.0, 4.0};
        e.update(x, zero, t, 2);
        CHECK_EQ(e.read(0).active_return, 2.0);  // full weight each, no decay
        CHECK_EQ(e.read(0).tracking_error, 1.0);
        const std::string before = e.to_bytes();
        CHECK_THROWS(e.update(x + 2, 0.0, 4.0), std::invalid_argument);
        CHECK_THROWS(e.update(x + 2, 0.0, trackerr::detail::nan_v), std::invalid_argument);
        const double t2[2] = {6.0, trackerr::detail::nan_v};
        CHECK_THROWS(e.update(x, zero, t2, 2), std::invalid_argument);
        CHECK(e.to_bytes() == before);
        CHECK_THROWS(e.update(x, zero, 2), std::invalid_argument);  // times needed
        // adjust = false keeps the recursive form: merges still equal one pass
        std::vector<double> P, B;
        for (int i = 0; i < 500; ++i) {
            B.push_back(0.01 * N(g));
            P.push_back(0.7 * B.back() + 0.004 * N(g));
        }
        for (bool adjust : {true, false}) {
            Exponential one(0.1, 1, {}, trackerr::detail::nan_v, adjust), a1 = one, a2 = one;
            one.update(P.data(), B.data(), 500);
            a1.update(P.data(), B.data(), 321);
            a2.update(P.data() + 321, B.data() + 321, 179);
            a1 += a2;
            CHECK_CLOSE(a1.read(0).tracking_error, one.read(0).tracking_error, 1e-12);
            CHECK_CLOSE(a1.read(0).beta, one.read(0).beta, 1e-12);
            CHECK_CLOSE(a1.read(0).active_return, one.read(0).active_return, 1e-11);
        }
    }
    return check::report("test_stream");
}
