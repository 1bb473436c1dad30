// Streaming states: Window against an exact per-window reference over a long
// run (no drift), Cumulative merges, checkpoint round trips and hostile bytes
// (every bit flip refused: CRC-32), size overflow checks, Exponential times.
#include <cmath>
#include <cstdio>
#include <cstring>
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

// The scalar algorithm the structure-of-arrays Window must reproduce bit for
// bit: one WindowMoments and one WindowCoMoments per portfolio, the general
// step of the rolling kernels, then settle_constant and the guard's rebuild
// from the history's last `w` ticks (the block sums of batch.hpp, as the
// rolling kernels rebuild contiguous windows, or the scalar recompute when
// the window holds a missing or non-finite value).
struct ScalarWindow {
    long w, n, ticks = 0;
    std::vector<double> hp, hb;
    std::vector<trackerr::WindowMoments> a;
    std::vector<trackerr::WindowCoMoments> c;
    ScalarWindow(long w_, long n_) : w(w_), n(n_), a(n_), c(n_) {}
    static double coded(double x, double y) {
        if (x != x || y != y) return trackerr::detail::nan_v;
        const double d = x - y;
        return d == d ? d : HUGE_VAL;
    }
    void update(const double* p, double b) {
        const double nan = trackerr::detail::nan_v;
        for (long j = 0; j < n; ++j) {
            const double xo = ticks >= w ? hp[(ticks - w) * n + j] : nan, yo = ticks >= w ? hb[ticks - w] : nan;
            trackerr::detail::update(a[j], coded(p[j], b), coded(xo, yo));
            trackerr::detail::update(c[j], p[j], b, xo, yo);
        }
        for (long j = 0; j < n; ++j) hp.push_back(p[j]);
        hb.push_back(b);
        ++ticks;
        const long first = ticks > w ? ticks - w : 0, k = ticks - first;
        const double eps = trackerr::detail::eps;
        for (long j = 0; j < n; ++j) {
            std::vector<double> x, y;  // the window, oldest first
            for (long i = first; i < ticks; ++i) {
                x.push_back(hp[i * n + j]);
                y.push_back(hb[i]);
            }
            auto pa = [&](std::ptrdiff_t i) { return x[i]; };
            auto ba = [&](std::ptrdiff_t i) { return y[i]; };
            auto aa = [&](std::ptrdiff_t i) { return coded(x[i], y[i]); };
            trackerr::WindowMoments& s = a[j];
            if (!s.settle_constant() && s.needs_recompute()) {  // the block sums, else the scalar rebuild
                const double m = trackerr::detail::mean_active(x.data(), y.data(), k);
                const trackerr::Moments r = trackerr::detail::centred_active(x.data(), y.data(), k, m, m);
                if (std::isfinite(m) && s.n == double(k) && std::isfinite(r.m2)) {
                    s.level = m;
                    s.mean = r.mean;
                    s.m2 = r.m2;
                    s.err = 2.0 * eps * r.m2;
                    s.err_mean = 0.0;
                } else {
                    s.recompute(aa, 0, k);
                }
            }
            trackerr::WindowCoMoments& q = c[j];
            if (!q.settle_constant() && q.needs_recompute()) {
                double mx = 0.0, my = 0.0;
                trackerr::detail::mean_pair(x.data(), y.data(), k, mx, my);
                const trackerr::CoMoments r = trackerr::detail::centred_pair(x.data(), y.data(), k, mx, my, mx, my);
                if (std::isfinite(mx) && std::isfinite(my) && q.n == double(k) && std::isfinite(r.c_pp) &&
                    std::isfinite(r.c_bb) && std::isfinite(r.c_pb)) {
                    q.level_p = mx;
                    q.level_b = my;
                    q.mean_p = r.mean_p;
                    q.mean_b = r.mean_b;
                    q.c_pp = r.c_pp;
                    q.c_bb = r.c_bb;
                    q.c_pb = r.c_pb;
                    q.err_p = 2.0 * eps * r.c_pp;
                    q.err_b = 2.0 * eps * r.c_bb;
                    q.err_mp = q.err_mb = 0.0;
                } else {
                    q.recompute(pa, ba, 0, k);
                }
            }
        }
    }
    trackerr::stream::Readout read(long j) const {
        trackerr::RollingParams prm;
        prm.window = w;
        const trackerr::detail::Emit em(prm);
        double va[3], vc[4];
        em.active(a[j], a[j].count() >= double(w) && a[j].n_bad == 0.0, va);
        em.pair(c[j], c[j].count() >= double(w) && c[j].n_bad == 0.0, vc);
        return {va[0], va[1], va[2], vc[0], vc[1], vc[2], vc[3], a[j].count()};
    }
};

// The states as a checkpoint writes them (every field, the error bounds
// and runs included), for the reference; and the same bytes of a Window's
// checkpoint (after its 16-byte prefix, 4 sizes and 4 options).
std::string states_of(const ScalarWindow& r) {
    trackerr::stream::detail::Writer out(2, 0);
    for (long j = 0; j < r.n; ++j) {
        trackerr::stream::detail::write(out, r.a[j]);
        trackerr::stream::detail::write(out, r.c[j]);
    }
    const std::string all = out.take();
    return all.substr(16, all.size() - 20);
}
std::string states_of(const trackerr::stream::Window& s) {
    return s.to_bytes().substr(80, static_cast<std::size_t>(s.portfolios()) * 26 * 8);
}

bool same_bits(double x, double y) {
    return std::memcmp(&x, &y, sizeof x) == 0;
}
bool same_readout(const trackerr::stream::Readout& x, const trackerr::stream::Readout& y) {
    return same_bits(x.tracking_error, y.tracking_error) && same_bits(x.active_return, y.active_return) &&
           same_bits(x.information_ratio, y.information_ratio) && same_bits(x.beta, y.beta) &&
           same_bits(x.alpha, y.alpha) && same_bits(x.correlation, y.correlation) &&
           same_bits(x.r_squared, y.r_squared) && same_bits(x.count, y.count);
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
    // The structure-of-arrays Window (one pass of steady ticks across the
    // portfolios, the scalar step elsewhere) against the scalar algorithm, bit
    // for bit at every tick, on adversarial columns: a large level, constant
    // runs on each side, a huge value entering and leaving, NaN and inf ticks
    // (in one portfolio, and in the benchmark for all), tiny and huge
    // magnitudes; then through a checkpoint.
    {
        const long wl = 16, n = 7, T = 600;
        const double nan = trackerr::detail::nan_v, inf = HUGE_VAL;
        std::vector<double> P(T * n), B(T);
        for (long t = 0; t < T; ++t) {
            B[t] = 0.01 * N(g);
            if (t >= 200 && t < 240) B[t] = 0.25;  // the benchmark constant for longer than a window
            for (long j = 0; j < n; ++j) P[t * n + j] = 0.9 * B[t] + 0.003 * N(g);
            P[t * n + 0] += 1e9;                                  // a large level
            if (t >= 100 && t < 130) P[t * n + 1] = 0.5;          // a constant run in one portfolio
            if (t == 150) P[t * n + 2] = 1e150;                   // a huge value enters, then leaves
            if (t % 97 == 5) P[t * n + 3] = nan;                  // a missing tick
            if (t == 300) P[t * n + 3] = inf;                     // a non-finite one
            P[t * n + 4] = 1e-150 * P[t * n + 4];                 // tiny
            P[t * n + 5] = 1e150 * P[t * n + 5];                  // huge
            if (t >= 400 && t < 450) P[t * n + 6] = B[t] = 0.125;  // both constant: TE exactly 0
        }
        B[350] = nan;  // the benchmark missing for every portfolio
        B[360] = inf;
        Window soa(wl, n);
        ScalarWindow ref(wl, n);
        std::vector<Window> single;
        for (long j = 0; j < n; ++j) single.emplace_back(wl, 1);
        long mismatches = 0, zero_te = 0;
        for (long t = 0; t < T; ++t) {
            soa.update(&P[t * n], B[t]);
            ref.update(&P[t * n], B[t]);
            for (long j = 0; j < n; ++j) {
                single[j].update(&P[t * n + j], B[t]);
                if (!same_readout(soa.read(j), ref.read(j)) || !same_readout(single[j].read(0), ref.read(j)))
                    ++mismatches;
            }
            if (states_of(soa) != states_of(ref)) ++mismatches;  // every field, bit for bit
            if (t >= 400 + wl - 1 && t < 450 && soa.read(6).tracking_error == 0.0) ++zero_te;
        }
        CHECK_EQ(mismatches, 0L);
        CHECK_EQ(zero_te, 50L - wl + 1);
        // a checkpoint reloads the same state: the next ticks agree bit for bit
        Window reloaded = Window::from_bytes(soa.to_bytes());
        CHECK(reloaded.to_bytes() == soa.to_bytes());
        for (long t = 0; t < 100; ++t) {
            std::vector<double> p(n);
            for (long j = 0; j < n; ++j) p[j] = 0.01 * N(g);
            const double b = 0.01 * N(g);
            reloaded.update(p.data(), b);
            ref.update(p.data(), b);
            for (long j = 0; j < n; ++j) CHECK(same_readout(reloaded.read(j), ref.read(j)));
        }
        // a record whose ticks give portfolios different benchmark values is refused
        std::string bytes = reloaded.to_bytes();
        const std::size_t last_b = bytes.size() - 4 - 8;  // the last portfolio's copy of the last slot's b
        bytes[last_b] = static_cast<char>(bytes[last_b] ^ 1);
        const std::uint32_t crc = trackerr::stream::detail::crc32(bytes.data(), bytes.size() - 4);
        std::memcpy(&bytes[bytes.size() - 4], &crc, 4);
        CHECK_THROWS(Window::from_bytes(bytes), std::invalid_argument);
    }
    return check::report("test_stream");
}
