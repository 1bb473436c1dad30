// stream::TimeWindow: windows of time, (t - span, t]. Checked against the
// rolling time kernel (each read-out at row t, within 1e-12: the kernel is
// free to take its rows in another order) and a long double per-window
// reference; batches of any split against one tick at a time; constant
// windows exactly 0; checkpoints (round trip bit for bit, every truncation
// and bit flip refused, forged fields under a valid checksum refused); times
// that go back; memory that follows the held ticks.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <trackerr/trackerr.hpp>
#include <vector>

#include "check.hpp"

namespace {

using trackerr::stream::Readout;
using trackerr::stream::TimeWindow;
constexpr double nan_v = std::numeric_limits<double>::quiet_NaN();

// A stream of T ticks for n portfolios at irregular times, some repeated.
struct Data {
    long T, n;
    std::vector<double> P, B;  // P[t * n + j]
    std::vector<std::int64_t> times;
};
Data make(std::mt19937_64& g, long T, long n, double nan_share, double level = 0.0) {
    std::normal_distribution<double> N(0.0, 0.01);
    std::uniform_real_distribution<double> U(0.0, 1.0);
    std::exponential_distribution<double> gap(1.0 / 60.0);
    Data d{T, n, std::vector<double>(T * n), std::vector<double>(T), std::vector<std::int64_t>(T)};
    std::int64_t clock = 1'700'000'000;
    for (long t = 0; t < T; ++t) {
        if (U(g) > 0.2) clock += 1 + static_cast<std::int64_t>(gap(g));  // a fifth share the previous time
        d.times[t] = clock;
        d.B[t] = level + N(g);
        for (long j = 0; j < n; ++j) {
            d.P[t * n + j] = 0.8 * d.B[t] + 0.2 * level + 0.3 * N(g);
            if (U(g) < nan_share) d.P[t * n + j] = nan_v;
        }
        if (U(g) < nan_share) d.B[t] = nan_v;
    }
    return d;
}

// The rolling time kernel on column j: the seven metrics at every row.
std::vector<std::vector<double>> kernel(const Data& d, long j, std::int64_t span,
                                        const trackerr::RollingParams& prm) {
    std::vector<std::vector<double>> out(7, std::vector<double>(d.T));
    trackerr::RollingOutputs o;
    trackerr::OutView* views[7] = {&o.tracking_error, &o.active_return, &o.information_ratio, &o.beta,
                                   &o.alpha,          &o.correlation,   &o.r_squared};
    for (int k = 0; k < 7; ++k) *views[k] = trackerr::OutView{out[k].data(), sizeof(double)};
    const trackerr::View<double> p(d.P.data() + j, d.T, d.n * static_cast<std::ptrdiff_t>(sizeof(double)));
    const trackerr::View<double> b(d.B.data(), d.T, sizeof(double));
    trackerr::rolling_time(p, b, d.times.data(), span, prm, o);
    return out;
}

double field(const Readout& r, int k) {
    const double v[7] = {r.tracking_error, r.active_return, r.information_ratio, r.beta,
                         r.alpha,          r.correlation,   r.r_squared};
    return v[k];
}

// Equal within `rel` of the larger magnitude, or of `floor` (NaN only where
// NaN; 0 exactly 0).
bool agree(double x, double y, double rel, double floor = 0.0) {
    if (x != x || y != y) return x != x && y != y;
    if (x == 0.0 || y == 0.0) return x == y;
    return std::fabs(x - y) <= rel * std::fmax(floor, std::fmax(std::fabs(x), std::fabs(y)));
}
// The scale below which a field's agreement is absolute: 1e-12 of its
// natural size (a mean near 0, a beta near 0, carry the rounding of the
// moments they come from). The tracking error is compared relative to itself.
constexpr double floors[7] = {0.0, 1e-2, 1e-2, 1e-2, 1e-2, 1e-2, 1e-2};
long disagreements(const TimeWindow& a, const TimeWindow& b, double rel) {
    long bad = 0;
    for (long j = 0; j < a.portfolios(); ++j) {
        const Readout x = a.read(j), y = b.read(j);
        for (int k = 0; k < 7; ++k) bad += !agree(field(x, k), field(y, k), rel, floors[k]);
        bad += x.count != y.count;
    }
    return bad;
}

// Long double tracking error of the window (t - span, t] of column j.
double exact_te(const Data& d, long j, long t, std::int64_t span) {
    std::vector<long double> a;
    for (long i = 0; i <= t; ++i) {
        if (d.times[i] <= d.times[t] - span) continue;
        const double x = d.P[i * d.n + j], y = d.B[i];
        if (x == x && y == y) a.push_back(static_cast<long double>(x) - y);
    }
    if (a.size() < 2) return nan_v;
    long double s = 0;
    for (long double v : a) s += v;
    const long double m = s / a.size();
    long double q = 0;
    for (long double v : a) q += (v - m) * (v - m);
    return static_cast<double>(std::sqrt(q / (a.size() - 1)));
}

std::string resealed(std::string bytes) {
    const std::uint32_t crc = trackerr::stream::detail::crc32(bytes.data(), bytes.size() - 4);
    std::memcpy(&bytes[bytes.size() - 4], &crc, 4);
    return bytes;
}

}  // namespace

int main() {
    std::mt19937_64 g(2024);

    // One tick at a time equals the kernel at every row, every metric, with
    // NaN and inf ticks, several portfolios, and min_periods.
    {
        Data d = make(g, 3000, 3, 0.03);
        d.P[700 * 3 + 1] = HUGE_VAL;
        d.B[1500] = -HUGE_VAL;
        const std::int64_t span = 1200;  // about 20 ticks a window
        for (long mp : {0L, 5L}) {
            trackerr::stream::Options o;
            o.min_periods = mp;
            o.periods = 252.0;
            o.risk_free = 1e-4;
            TimeWindow s(span, 3, o);
            trackerr::RollingParams prm;  // the same options for the kernel
            prm.min_periods = mp;
            prm.periods = 252.0;
            prm.risk_free = 1e-4;
            std::vector<std::vector<std::vector<double>>> want;
            for (long j = 0; j < 3; ++j) want.push_back(kernel(d, j, span, prm));
            long bad = 0, nans = 0;
            for (long t = 0; t < d.T; ++t) {
                s.update(&d.P[t * 3], d.B[t], d.times[t]);
                for (long j = 0; j < 3; ++j) {
                    const Readout r = s.read(j);
                    for (int k = 0; k < 7; ++k) {
                        bad += !agree(field(r, k), want[j][k][t], 1e-12, floors[k]);
                        nans += field(r, k) != field(r, k);
                    }
                }
            }
            CHECK_EQ(bad, 0L);
            CHECK(nans > 0);  // the inf ticks and min_periods were seen
            CHECK_EQ(s.ticks(), 3000);
            CHECK_EQ(s.last_time(), d.times.back());
        }
    }

    // A large level with tiny noise, and a regime change (huge values that
    // leave the window), against the long double reference.
    {
        Data d = make(g, 4000, 2, 0.0, 1e9);
        std::normal_distribution<double> N(0.0, 1.0);
        for (long t = 1000; t < 1200; ++t) d.P[t * 2 + 1] = 1e8 * N(g);
        for (long t = 1200; t < 4000; ++t) d.P[t * 2 + 1] = d.B[t] + 1e-4 * N(g);
        TimeWindow s(3000, 2);
        double worst = 0.0;
        for (long t = 0; t < d.T; ++t) {
            s.update(&d.P[t * 2], d.B[t], d.times[t]);
            if (t % 7 != 0) continue;
            for (long j = 0; j < 2; ++j) {
                const double want = exact_te(d, j, t, 3000), got = s.read(j).tracking_error;
                if (want == want && want > 0.0)
                    worst = std::fmax(worst, std::fabs(got - want) / want);
                else
                    CHECK(agree(got, want, 0.0));
            }
        }
        CHECK(worst <= 1e-12);
        std::printf("large levels and a regime change: worst relative error %.3g\n", worst);
    }

    // Constant windows read exactly 0, stale portfolio and benchmark alike.
    {
        TimeWindow s(10, 2);
        const double tick[2] = {0.25, 0.125};
        long zero = 0;
        for (std::int64_t t = 0; t < 50; ++t) {
            s.update(tick, 0.125, t);
            zero += s.read(0).tracking_error == 0.0 && s.read(1).tracking_error == 0.0;
        }
        CHECK_EQ(zero, 49L);  // from the second tick on
        CHECK_EQ(s.held(), 10);
        CHECK_NAN(s.read(0).beta);  // a constant benchmark
    }

    // Batches of any split agree with one tick at a time (a batch whose
    // first rows leave replays only its final window: within the guard's bound).
    {
        Data d = make(g, 2500, 2, 0.02);
        const std::int64_t span = 900;
        TimeWindow one(span, 2);
        for (long t = 0; t < d.T; ++t) one.update(&d.P[t * 2], d.B[t], d.times[t]);
        std::uniform_int_distribution<long> cut(0, 400);
        for (int trial = 0; trial < 20; ++trial) {
            TimeWindow s(span, 2);
            long t = 0;
            while (t < d.T) {
                const long k = std::min(d.T - t, trial == 0 ? d.T : cut(g));
                s.update(&d.P[t * 2], &d.B[t], &d.times[t], k);
                t += k;
            }
            CHECK_EQ(disagreements(s, one, 1e-12), 0L);
            CHECK_EQ(s.ticks(), one.ticks());
            CHECK_EQ(s.held(), one.held());
        }
    }

    // Times that go back are refused naming both, the state unchanged; a
    // batch is checked whole first.
    {
        TimeWindow s(100, 1);
        const double x[3] = {0.01, 0.02, 0.03}, y[3] = {0.0, 0.01, 0.0};
        s.update(x, 0.0, 50);
        const std::string before = s.to_bytes();
        try {
            s.update(x, 0.0, 49);
            CHECK(false);
        } catch (const std::invalid_argument& e) {
            CHECK(std::string(e.what()).find("t (=49) is before the last tick's time (=50)") !=
                  std::string::npos);
        }
        const std::int64_t back[3] = {60, 70, 65}, early[3] = {40, 60, 70};
        CHECK_THROWS(s.update(x, y, back, 3), std::invalid_argument);
        CHECK_THROWS(s.update(x, y, early, 3), std::invalid_argument);
        CHECK(s.to_bytes() == before);
        s.update(x, 0.0, 50);  // the same time is fine
        CHECK_EQ(s.held(), 2);
        s.reset();  // forgets the times too
        s.update(x, 0.0, -5);
        CHECK_EQ(s.ticks(), 1);
        CHECK_THROWS(TimeWindow(0), std::invalid_argument);
        CHECK_THROWS(TimeWindow(-3), std::invalid_argument);
        trackerr::stream::Options o;
        o.min_periods = -1;
        CHECK_THROWS(TimeWindow(10, 1, o), std::invalid_argument);
        CHECK_THROWS(TimeWindow(10, 0), std::invalid_argument);
        // the clamp of t - span at the bottom of the int64 range, as the kernel's
        constexpr std::int64_t lowest = std::numeric_limits<std::int64_t>::min();
        TimeWindow low(1000, 1);
        low.update(x, 0.0, lowest);
        low.update(x + 1, 0.0, lowest + 10);
        CHECK_EQ(low.held(), 1);  // the tick at the lowest time left: the kernel's edge
        CHECK(TimeWindow::from_bytes(low.to_bytes()).to_bytes() == low.to_bytes());
    }

    // Memory follows the held ticks: a burst, then a sparse stream.
    {
        TimeWindow s(1000, 4);
        const double tick[4] = {0.01, 0.02, 0.03, 0.04};
        for (std::int64_t t = 0; t < 100000; ++t) s.update(tick, 0.0, t / 100);  // 100 ticks an instant
        CHECK_EQ(s.held(), 100000);
        for (std::int64_t t = 0; t < 20; ++t) s.update(tick, 0.0, 10000 + 600 * t);
        CHECK_EQ(s.held(), 2);
        CHECK(s.capacity() <= 8);  // the ring shrank with the window
    }

    // Checkpoints: a round trip keeps every bit and the stream goes on the same.
    {
        Data d = make(g, 600, 3, 0.05);
        d.P[590 * 3] = HUGE_VAL;
        TimeWindow s(1500, 3);
        s.update(d.P.data(), d.B.data(), d.times.data(), 500);
        std::uint32_t flags = 0;
        TimeWindow back = TimeWindow::from_bytes(s.to_bytes(TimeWindow::flag_aware), &flags);
        CHECK_EQ(flags, TimeWindow::flag_aware);
        CHECK(back.to_bytes() == s.to_bytes());
        for (long t = 500; t < 600; ++t) {
            s.update(&d.P[t * 3], d.B[t], d.times[t]);
            back.update(&d.P[t * 3], d.B[t], d.times[t]);
        }
        CHECK(back.to_bytes() == s.to_bytes());

        // every truncation and every single-bit flip is refused
        TimeWindow small(300, 2);
        small.update(d.P.data(), d.B.data(), d.times.data(), 0);  // an empty batch: nothing
        CHECK_EQ(small.ticks(), 0);
        std::vector<double> p2;
        for (long t = 0; t < 12; ++t)
            for (long j = 0; j < 2; ++j) p2.push_back(d.P[t * 3 + j]);
        small.update(p2.data(), d.B.data(), d.times.data(), 12);
        const std::string good = small.to_bytes();
        long loaded = 0;
        for (std::size_t cut = 0; cut < good.size(); ++cut) try {
                TimeWindow::from_bytes(good.substr(0, cut));
                ++loaded;
            } catch (const std::invalid_argument&) {
            }
        for (std::size_t i = 0; i < good.size(); ++i)
            for (int bit = 0; bit < 8; ++bit) {
                std::string bad = good;
                bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
                try {
                    TimeWindow::from_bytes(bad);
                    ++loaded;
                } catch (const std::invalid_argument&) {
                }
            }
        CHECK_EQ(loaded, 0L);
        CHECK_THROWS(TimeWindow::from_bytes(small.to_bytes(1)),
                     std::invalid_argument);  // scalar, 2 portfolios
        CHECK_THROWS(TimeWindow::from_bytes(small.to_bytes(6)), std::invalid_argument);  // naive and aware
        CHECK_THROWS(trackerr::stream::Window::from_bytes(good), std::invalid_argument);

        // forged fields under a valid checksum: times out of order, a time
        // outside the window, a count that is not the held ticks'
        const std::size_t held = static_cast<std::size_t>(small.held());
        const std::size_t times_at = 16 + 4 * 8 + 4 * 8 + 2 * 30 * 8;
        auto forge = [&](std::size_t at, std::int64_t v) {
            std::string b = good;
            std::memcpy(&b[at], &v, 8);
            return resealed(b);
        };
        std::int64_t t0, t1;
        std::memcpy(&t0, &good[times_at], 8);
        std::memcpy(&t1, &good[times_at + 8 * (held - 1)], 8);
        CHECK_THROWS(TimeWindow::from_bytes(forge(times_at, t1 + 1)), std::invalid_argument);  // out of order
        CHECK_THROWS(TimeWindow::from_bytes(forge(times_at, t1 - 300)),
                     std::invalid_argument);                                    // left already
        CHECK(TimeWindow::from_bytes(forge(times_at, t0)).to_bytes() == good);  // the same bytes load
        std::string count = good;
        const double n1 = small.read(0).count + 1.0;
        std::memcpy(&count[16 + 8 * 8], &n1, 8);  // the first state's n
        CHECK_THROWS(TimeWindow::from_bytes(resealed(count)), std::invalid_argument);
        CHECK_THROWS(TimeWindow::from_bytes(forge(16 + 3 * 8, 0)),
                     std::invalid_argument);  // held 0, ticks > 0
    }
    return check::report("test_stream_time");
}
