// Streaming states: tick-by-tick tracking error and the metrics around it for
// one or many portfolios against one benchmark, with checkpoints.
//
//   Cumulative  every tick seen: Welford relative to a reference level, merged
//               with Chan's formulas (a monoid: chunks, threads, checkpoints).
//   Window      the last `window` ticks: the guarded window states of
//               window.hpp on a ring buffer, O(1) a tick, O(window) memory;
//               the same arithmetic as the rolling kernels' general step.
//
// Thread safety: a state is a plain value. Concurrent reads are safe;
// updates need one state per thread (merge Cumulative states afterwards) or
// the caller's own lock.
//
// Checkpoints: to_bytes() writes a versioned, self-describing record;
// from_bytes() validates every field and the exact length and throws
// std::invalid_argument on truncated, corrupted or foreign input.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "rolling.hpp"
#include "window.hpp"

namespace trackerr::stream {

/// Options shared by the streaming states.
struct Options {
    double ddof = 1.0;
    double periods = detail::nan_v;  // periods per year; NaN = per period
    std::ptrdiff_t min_periods = 0;  // observations needed; 0 = the default of the state
    double risk_free = 0.0;          // per period, for alpha
};

/// The metrics of one portfolio at the current tick (NaN where undefined).
struct Readout {
    double tracking_error, active_return, information_ratio;
    double beta, alpha, correlation, r_squared;
    double count;  // observations (valid pairs) in the state
};

namespace detail {

inline double coded_active(double x, double y) noexcept {
    if (x != x || y != y) return trackerr::detail::nan_v;
    const double a = x - y;
    return a == a ? a : HUGE_VAL;
}

inline void check_options(const Options& o) {
    if (!(o.ddof >= 0.0) || !std::isfinite(o.ddof))
        throw std::invalid_argument("ddof must be a finite number >= 0");
    if (o.periods == o.periods && !(o.periods > 0.0 && std::isfinite(o.periods)))
        throw std::invalid_argument("periods_per_year must be positive and finite");
    if (o.min_periods < 0) throw std::invalid_argument("min_periods must be >= 0");
    if (!std::isfinite(o.risk_free)) throw std::invalid_argument("risk_free must be finite");
}

// Checkpoint record: "TRKR", format version, kind, then fixed fields and
// the states, all little-endian 8-byte values.
inline constexpr char magic[4] = {'T', 'R', 'K', 'R'};
inline constexpr std::uint32_t format_version = 2;  // 2: Exponential keeps its first tick's time

class Writer {
public:
    explicit Writer(std::uint32_t kind) {
        out_.append(magic, 4);
        u32(format_version);
        u32(kind);
    }
    void u32(std::uint32_t v) { out_.append(reinterpret_cast<const char*>(&v), 4); }
    void i64(std::int64_t v) { out_.append(reinterpret_cast<const char*>(&v), 8); }
    void f64(double v) { out_.append(reinterpret_cast<const char*>(&v), 8); }
    std::string take() { return std::move(out_); }

private:
    std::string out_;
};

class Reader {
public:
    Reader(const std::string& bytes, std::uint32_t kind, const char* what) : s_(bytes), what_(what) {
        if (s_.size() < 12 || std::memcmp(s_.data(), magic, 4) != 0)
            fail("not a trackerr checkpoint (bad magic)");
        pos_ = 4;
        const std::uint32_t version = u32();
        if (version != format_version) fail("unsupported checkpoint version " + std::to_string(version));
        if (u32() != kind) fail("the checkpoint holds another kind of state");
    }
    std::uint32_t u32() { return take<std::uint32_t>(); }
    std::int64_t i64() { return take<std::int64_t>(); }
    double f64() { return take<double>(); }
    std::size_t remaining() const noexcept { return s_.size() - pos_; }
    [[noreturn]] void fail(const std::string& why) const {
        throw std::invalid_argument(std::string(what_) + ".from_bytes: " + why);
    }

private:
    template <class T>
    T take() {
        if (remaining() < sizeof(T)) fail("truncated checkpoint");
        T v;
        std::memcpy(&v, s_.data() + pos_, sizeof(T));
        pos_ += sizeof(T);
        return v;
    }
    const std::string& s_;
    const char* what_;
    std::size_t pos_ = 0;
};

inline void write(Writer& w, const WindowMoments& s) {
    for (double v : {s.n, s.n_bad, s.level, s.mean, s.m2, s.err, s.err_mean, s.run, s.last}) w.f64(v);
}
inline void write(Writer& w, const WindowCoMoments& s) {
    for (double v : {s.n, s.n_bad, s.level_p, s.level_b, s.mean_p, s.mean_b, s.c_pp, s.c_bb, s.c_pb, s.err_p,
                     s.err_b, s.err_mp, s.err_mb, s.run_p, s.run_b, s.last_p, s.last_b})
        w.f64(v);
}
inline void check_count(Reader& r, double n, double cap) {
    if (!(n >= 0.0 && n <= cap && n == std::floor(n))) r.fail("corrupted checkpoint (bad count)");
}
inline WindowMoments read_moments(Reader& r, double cap) {
    WindowMoments s;
    for (double* v : {&s.n, &s.n_bad, &s.level, &s.mean, &s.m2, &s.err, &s.err_mean, &s.run, &s.last})
        *v = r.f64();
    check_count(r, s.n, cap);
    check_count(r, s.n_bad, cap);
    check_count(r, s.n + s.n_bad, cap);
    return s;
}
inline WindowCoMoments read_comoments(Reader& r, double cap) {
    WindowCoMoments s;
    for (double* v : {&s.n, &s.n_bad, &s.level_p, &s.level_b, &s.mean_p, &s.mean_b, &s.c_pp, &s.c_bb, &s.c_pb,
                      &s.err_p, &s.err_b, &s.err_mp, &s.err_mb, &s.run_p, &s.run_b, &s.last_p, &s.last_b})
        *v = r.f64();
    check_count(r, s.n, cap);
    check_count(r, s.n_bad, cap);
    check_count(r, s.n + s.n_bad, cap);
    return s;
}
inline void write_options(Writer& w, const Options& o) {
    w.f64(o.ddof);
    w.f64(o.periods);
    w.i64(o.min_periods);
    w.f64(o.risk_free);
}
inline Options read_options(Reader& r) {
    Options o;
    o.ddof = r.f64();
    o.periods = r.f64();
    o.min_periods = r.i64();
    o.risk_free = r.f64();
    try {
        check_options(o);
    } catch (const std::invalid_argument& e) {
        r.fail(std::string("corrupted checkpoint (") + e.what() + ")");
    }
    return o;
}

}  // namespace detail

namespace detail {
// A block kernel of batch.hpp whose reference level is given and whose
// merged state stays relative to it.
template <class Block>
struct Relative : Block {
    template <class State>
    void finish(State&) const noexcept {}
};
}  // namespace detail

/// Metrics over every tick seen, for `portfolios` portfolios.
class Cumulative {
public:
    explicit Cumulative(std::ptrdiff_t portfolios = 1, Options o = {}) : n_(portfolios), o_(o) {
        if (portfolios < 1) throw std::invalid_argument("n_portfolios must be at least 1");
        detail::check_options(o_);
        a_.resize(static_cast<std::size_t>(n_));
        c_.resize(static_cast<std::size_t>(n_));
    }

    /// One tick: p[j] for each portfolio, one benchmark value. NaN pairs are skipped.
    void update(const double* p, double b) noexcept {
        for (std::ptrdiff_t j = 0; j < n_; ++j) update_one(j, p[j], b);
    }
    void update_one(std::ptrdiff_t j, double x, double y) noexcept {
        if (x != x || y != y) return;
        WindowMoments& a = a_[static_cast<std::size_t>(j)];
        WindowCoMoments& c = c_[static_cast<std::size_t>(j)];
        const double av = detail::coded_active(x, y);
        if (a.count() == 0.0 && std::isfinite(av)) a.level = av;  // keep the mean relative to the data
        a.add(av);
        if (c.count() == 0.0 && std::isfinite(x) && std::isfinite(y)) {
            c.level_p = x;
            c.level_b = y;
        }
        c.add(x, y);
    }

    /// `rows` ticks at once: tick t is p[t * portfolios + j] and b[t]. Each
    /// portfolio's column goes through the blocked two-pass kernels of the
    /// full-sample functions and is merged in (Chan); a column holding an
    /// infinity takes the tick-by-tick path, which counts it.
    void update(const double* p, const double* b, std::ptrdiff_t rows) noexcept {
        if (rows < 64) {
            for (std::ptrdiff_t t = 0; t < rows; ++t) update(p + t * n_, b[t]);
            return;
        }
        const View<double> bv(b, rows, static_cast<std::ptrdiff_t>(sizeof(double)));
        for (std::ptrdiff_t j = 0; j < n_; ++j) {
            WindowMoments& a = a_[static_cast<std::size_t>(j)];
            WindowCoMoments& c = c_[static_cast<std::size_t>(j)];
            auto tick_by_tick = [&] {
                for (std::ptrdiff_t t = 0; t < rows; ++t) update_one(j, p[t * n_ + j], b[t]);
            };
            // The batch's means are kept relative to the state's levels (or,
            // for an empty state, to its first finite pair, as update_one does).
            WindowMoments wa;
            WindowCoMoments wc;
            wa.level = a.level;
            wc.level_p = c.level_p;
            wc.level_b = c.level_b;
            if (c.count() == 0.0 || a.count() == 0.0) {
                std::ptrdiff_t t = 0;
                while (t < rows && !(std::isfinite(p[t * n_ + j]) && std::isfinite(b[t]))) ++t;
                if (t == rows) {
                    tick_by_tick();
                    continue;
                }
                if (a.count() == 0.0) wa.level = p[t * n_ + j] - b[t];
                if (c.count() == 0.0) {
                    wc.level_p = p[t * n_ + j];
                    wc.level_b = b[t];
                }
            }
            const View<double> pv(p + j, rows, n_ * static_cast<std::ptrdiff_t>(sizeof(double)));
            trackerr::detail::ActiveBlock ab;
            ab.level = wa.level;
            trackerr::detail::PairBlock pb;
            pb.level_p = wc.level_p;
            pb.level_b = wc.level_b;
            const Moments m =
                trackerr::detail::run_blocks<detail::Relative<trackerr::detail::ActiveBlock>, Moments>(
                    pv, bv, detail::Relative<trackerr::detail::ActiveBlock>{ab})
                    .state;
            const CoMoments k =
                trackerr::detail::run_blocks<detail::Relative<trackerr::detail::PairBlock>, CoMoments>(
                    pv, bv, detail::Relative<trackerr::detail::PairBlock>{pb})
                    .state;
            const bool finite = std::isfinite(m.mean) && std::isfinite(m.m2) && std::isfinite(k.mean_p) &&
                                std::isfinite(k.mean_b) && std::isfinite(k.c_pp) && std::isfinite(k.c_bb) &&
                                std::isfinite(k.c_pb);
            if (!finite) {  // an infinity: counted by the tick path
                tick_by_tick();
                continue;
            }
            wa.n = m.n;
            wa.mean = m.mean;
            wa.m2 = m.m2;
            wc.n = k.n;
            wc.mean_p = k.mean_p;
            wc.mean_b = k.mean_b;
            wc.c_pp = k.c_pp;
            wc.c_bb = k.c_bb;
            wc.c_pb = k.c_pb;
            merge(a, wa);
            merge(c, wc);
        }
    }

    /// Chan's merge: the state of the two streams concatenated.
    Cumulative& operator+=(const Cumulative& o) {
        if (o.n_ != n_) throw std::invalid_argument("cannot merge states of different n_portfolios");
        if (o.o_.ddof != o_.ddof || !same(o.o_.periods, o_.periods) || o.o_.min_periods != o_.min_periods ||
            o.o_.risk_free != o_.risk_free)
            throw std::invalid_argument("cannot merge states with different options");
        for (std::size_t j = 0; j < a_.size(); ++j) {
            merge(a_[j], o.a_[j]);
            merge(c_[j], o.c_[j]);
        }
        return *this;
    }

    Readout read(std::ptrdiff_t j) const noexcept {
        const WindowMoments& a = a_[static_cast<std::size_t>(j)];
        const WindowCoMoments& c = c_[static_cast<std::size_t>(j)];
        const double need = static_cast<double>(o_.min_periods > 0 ? o_.min_periods : 1);
        const trackerr::detail::Emit em(params());
        double va[3], vc[4];
        em.active(a, a.count() >= need && a.n_bad == 0.0, va);
        em.pair(c, c.count() >= need && c.n_bad == 0.0, vc);
        return Readout{va[0], va[1], va[2], vc[0], vc[1], vc[2], vc[3], a.count()};
    }

    void reset() noexcept {
        for (auto& s : a_) s = WindowMoments{};
        for (auto& s : c_) s = WindowCoMoments{};
    }
    std::ptrdiff_t portfolios() const noexcept { return n_; }
    const Options& options() const noexcept { return o_; }

    std::string to_bytes() const {
        detail::Writer w(1);
        w.i64(n_);
        detail::write_options(w, o_);
        for (std::size_t j = 0; j < a_.size(); ++j) {
            detail::write(w, a_[j]);
            detail::write(w, c_[j]);
        }
        return w.take();
    }
    static Cumulative from_bytes(const std::string& bytes) {
        detail::Reader r(bytes, 1, "Cumulative");
        const std::int64_t n = r.i64();
        const Options o = detail::read_options(r);
        constexpr std::size_t per = (9 + 17) * 8;
        if (n < 1 || static_cast<std::uint64_t>(n) > r.remaining() / per ||
            r.remaining() != static_cast<std::size_t>(n) * per)
            r.fail("corrupted or truncated checkpoint (size does not match n_portfolios)");
        Cumulative s(static_cast<std::ptrdiff_t>(n), o);
        const double cap = 9.007199254740992e15;  // counts are exact integers in a double
        for (std::size_t j = 0; j < s.a_.size(); ++j) {
            s.a_[j] = detail::read_moments(r, cap);
            s.c_[j] = detail::read_comoments(r, cap);
        }
        return s;
    }

private:
    static bool same(double a, double b) noexcept { return a == b || (a != a && b != b); }
    RollingParams params() const noexcept {
        RollingParams prm;
        prm.window = 0;
        prm.ddof = o_.ddof;
        prm.periods = o_.periods;
        prm.risk_free = o_.risk_free;
        return prm;
    }
    // Chan's merge of states kept relative to different levels: the level
    // difference is applied before the means, so no digits are lost to it.
    static void merge(WindowMoments& a, const WindowMoments& b) noexcept {
        const double bad = a.n_bad + b.n_bad;
        if (b.n == 0.0) {
            a.n_bad = bad;
            return;
        }
        if (a.n == 0.0) {
            a = b;
            a.n_bad = bad;
            return;
        }
        const double n = a.n + b.n, f = b.n / n;
        const double delta = (b.level - a.level) + (b.mean - a.mean);
        a.mean += delta * f;
        a.m2 += b.m2 + delta * delta * a.n * f;
        a.n = n;
        a.n_bad = bad;
        a.err += b.err;
        a.err_mean += b.err_mean;
        a.run = b.run;
        a.last = b.last;
    }
    static void merge(WindowCoMoments& a, const WindowCoMoments& b) noexcept {
        const double bad = a.n_bad + b.n_bad;
        if (b.n == 0.0) {
            a.n_bad = bad;
            return;
        }
        if (a.n == 0.0) {
            a = b;
            a.n_bad = bad;
            return;
        }
        const double n = a.n + b.n, f = b.n / n, wgt = a.n * f;
        const double dp = (b.level_p - a.level_p) + (b.mean_p - a.mean_p);
        const double db = (b.level_b - a.level_b) + (b.mean_b - a.mean_b);
        a.mean_p += dp * f;
        a.mean_b += db * f;
        a.c_pp += b.c_pp + dp * dp * wgt;
        a.c_bb += b.c_bb + db * db * wgt;
        a.c_pb += b.c_pb + dp * db * wgt;
        a.n = n;
        a.n_bad = bad;
        a.run_p = b.run_p;
        a.run_b = b.run_b;
        a.last_p = b.last_p;
        a.last_b = b.last_b;
    }

    std::ptrdiff_t n_;
    Options o_;
    std::vector<WindowMoments> a_;
    std::vector<WindowCoMoments> c_;
};

/// Metrics over the last `window` ticks, for `portfolios` portfolios.
class Window {
public:
    Window(std::ptrdiff_t window, std::ptrdiff_t portfolios = 1, Options o = {})
        : w_(window), n_(portfolios), o_(o) {
        if (portfolios < 1) throw std::invalid_argument("n_portfolios must be at least 1");
        RollingParams prm = params();
        check_rolling(prm, 0, 0);
        detail::check_options(o_);
        const auto cells = static_cast<std::size_t>(w_) * static_cast<std::size_t>(n_);
        ring_p_.assign(cells, trackerr::detail::nan_v);
        ring_b_.assign(cells, trackerr::detail::nan_v);
        a_.resize(static_cast<std::size_t>(n_));
        c_.resize(static_cast<std::size_t>(n_));
    }

    /// One tick: p[j] for each portfolio, one benchmark value.
    void update(const double* p, double b) noexcept {
        const std::ptrdiff_t slot = slot_;  // ticks_ % w_, kept without a division
        const bool full = ticks_ >= w_;
        double* rp = ring_p_.data() + slot * n_;
        double* rb = ring_b_.data() + slot * n_;
        for (std::ptrdiff_t j = 0; j < n_; ++j) {
            const double x = p[j];
            const double xo = full ? rp[j] : trackerr::detail::nan_v,
                         yo = full ? rb[j] : trackerr::detail::nan_v;
            trackerr::detail::update(a_[static_cast<std::size_t>(j)], detail::coded_active(x, b),
                                     detail::coded_active(xo, yo));
            trackerr::detail::update(c_[static_cast<std::size_t>(j)], x, b, xo, yo);
            rp[j] = x;
            rb[j] = b;
        }
        ++ticks_;
        if (++slot_ == w_) slot_ = 0;
        const std::int64_t first = ticks_ > w_ ? ticks_ - w_ : 0;
        for (std::ptrdiff_t j = 0; j < n_; ++j) settle(j, first, ticks_);
    }

    /// `rows` ticks at once: tick t is p[t * portfolios + j] and b[t]. The
    /// state after them depends only on the last `window` ticks, so a batch at
    /// least a window long forgets the ring and replays just those, the same
    /// steps as a fresh state fed them: O(window) work for any batch length.
    void update(const double* p, const double* b, std::ptrdiff_t rows) noexcept {
        std::ptrdiff_t start = 0;
        if (rows >= w_) {
            start = rows - w_;
            const std::int64_t ticks = ticks_ + start;
            reset();
            ticks_ = ticks;
            slot_ = static_cast<std::ptrdiff_t>(ticks_ % w_);
        }
        for (std::ptrdiff_t t = start; t < rows; ++t) update(p + t * n_, b[t]);
    }

    Readout read(std::ptrdiff_t j) const noexcept {
        const WindowMoments& a = a_[static_cast<std::size_t>(j)];
        const WindowCoMoments& c = c_[static_cast<std::size_t>(j)];
        const double need = static_cast<double>(o_.min_periods > 0 ? o_.min_periods : w_);
        const trackerr::detail::Emit em(params());
        double va[3], vc[4];
        em.active(a, a.count() >= need && a.n_bad == 0.0, va);
        em.pair(c, c.count() >= need && c.n_bad == 0.0, vc);
        return Readout{va[0], va[1], va[2], vc[0], vc[1], vc[2], vc[3], a.count()};
    }

    void reset() noexcept {
        ring_p_.assign(ring_p_.size(), trackerr::detail::nan_v);
        ring_b_.assign(ring_b_.size(), trackerr::detail::nan_v);
        for (auto& s : a_) s = WindowMoments{};
        for (auto& s : c_) s = WindowCoMoments{};
        ticks_ = 0;
        slot_ = 0;
    }
    std::ptrdiff_t window() const noexcept { return w_; }
    std::ptrdiff_t portfolios() const noexcept { return n_; }
    std::int64_t ticks() const noexcept { return ticks_; }
    const Options& options() const noexcept { return o_; }

    std::string to_bytes() const {
        detail::Writer w(2);
        w.i64(w_);
        w.i64(n_);
        w.i64(ticks_);
        detail::write_options(w, o_);
        for (std::size_t j = 0; j < a_.size(); ++j) {
            detail::write(w, a_[j]);
            detail::write(w, c_[j]);
        }
        for (double v : ring_p_) w.f64(v);
        for (double v : ring_b_) w.f64(v);
        return w.take();
    }
    static Window from_bytes(const std::string& bytes) {
        detail::Reader r(bytes, 2, "Window");
        const std::int64_t w = r.i64(), n = r.i64(), ticks = r.i64();
        const Options o = detail::read_options(r);
        // ticks stays far from overflow: a checkpoint claiming more than 2^62 ticks is not ours
        if (w < 2 || n < 1 || ticks < 0 || ticks > (std::int64_t{1} << 62))
            r.fail("corrupted checkpoint (window, n_portfolios or ticks)");
        const std::uint64_t rest = r.remaining();
        // the exact size, checked without overflow before anything is allocated
        const std::uint64_t per_portfolio = (9 + 17) * 8 + 2 * 8 * static_cast<std::uint64_t>(w);
        if (static_cast<std::uint64_t>(w) > rest / 16 ||
            static_cast<std::uint64_t>(n) > rest / per_portfolio ||
            rest != static_cast<std::uint64_t>(n) * per_portfolio)
            r.fail("corrupted or truncated checkpoint (size does not match window and n_portfolios)");
        if (o.min_periods > w || static_cast<double>(w) <= o.ddof)
            r.fail("corrupted checkpoint (min_periods or ddof do not fit the window)");
        Window s(static_cast<std::ptrdiff_t>(w), static_cast<std::ptrdiff_t>(n), o);
        s.ticks_ = ticks;
        s.slot_ = static_cast<std::ptrdiff_t>(ticks % w);
        const double cap = static_cast<double>(w);
        for (std::size_t j = 0; j < s.a_.size(); ++j) {
            s.a_[j] = detail::read_moments(r, cap);
            s.c_[j] = detail::read_comoments(r, cap);
        }
        for (double& v : s.ring_p_) v = r.f64();
        for (double& v : s.ring_b_) v = r.f64();
        return s;
    }

private:
    RollingParams params() const noexcept {
        RollingParams prm;
        prm.window = w_;
        prm.min_periods = o_.min_periods;
        prm.ddof = o_.ddof;
        prm.periods = o_.periods;
        prm.risk_free = o_.risk_free;
        return prm;
    }
    // Constant windows and the guard, rebuilding from the ring when it fires.
    void settle(std::ptrdiff_t j, std::int64_t first, std::int64_t last) noexcept {
        auto at = [&](const std::vector<double>& ring, std::ptrdiff_t i) {
            return ring[static_cast<std::size_t>((i % w_) * n_ + j)];
        };
        WindowMoments& a = a_[static_cast<std::size_t>(j)];
        if (!a.settle_constant() && a.needs_recompute())
            a = trackerr::detail::rebuilt(
                a, [&](std::ptrdiff_t i) { return detail::coded_active(at(ring_p_, i), at(ring_b_, i)); },
                static_cast<std::ptrdiff_t>(first), static_cast<std::ptrdiff_t>(last));
        WindowCoMoments& c = c_[static_cast<std::size_t>(j)];
        if (!c.settle_constant() && c.needs_recompute())
            c = trackerr::detail::rebuilt(
                c, [&](std::ptrdiff_t i) { return at(ring_p_, i); },
                [&](std::ptrdiff_t i) { return at(ring_b_, i); }, static_cast<std::ptrdiff_t>(first),
                static_cast<std::ptrdiff_t>(last));
    }

    std::ptrdiff_t w_, n_;
    Options o_;
    std::int64_t ticks_ = 0;
    std::ptrdiff_t slot_ = 0;  // ring slot of the next tick
    std::vector<double> ring_p_, ring_b_;  // slot-major: value of portfolio j at slot s is [s * n + j]
    std::vector<WindowMoments> a_;
    std::vector<WindowCoMoments> c_;
};

/// Exponentially weighted metrics: Finch's recurrences (2009), seeded with
/// the first observation and kept relative to it,
///   d = x - mean;  mean += alpha d;  S = (1 - alpha)(S + alpha d^2),
/// (and the same with dx dy for co-moments), with pandas' bias correction
/// from the sum of squared weights W2 (W2 <- (1 - alpha)^2 W2 + alpha^2):
/// var = S / (1 - W2) for ddof = 1, S for ddof = 0. With a time scale the
/// weight of each step follows the time elapsed: alpha = 1 - 2^(-dt / halflife).
/// A non-finite value keeps a positive weight forever, so it makes the state
/// NaN until reset.
class Exponential {
public:
    /// `alpha` in (0, 1]; or, when `halflife_time` > 0, time-based decay with
    /// that half-life (alpha is then unused).
    Exponential(double alpha, std::ptrdiff_t portfolios = 1, Options o = {},
                double halflife_time = trackerr::detail::nan_v)
        : alpha_(alpha), halflife_(halflife_time), n_(portfolios), o_(o) {
        if (portfolios < 1) throw std::invalid_argument("n_portfolios must be at least 1");
        const bool timed = halflife_ == halflife_;
        if (timed && !(halflife_ > 0.0 && std::isfinite(halflife_)))
            throw std::invalid_argument("halflife must be positive and finite");
        if (!timed && !(alpha_ > 0.0 && alpha_ <= 1.0))
            throw std::invalid_argument("alpha must be in (0, 1]");
        detail::check_options(o_);
        if (o_.ddof != 0.0 && o_.ddof != 1.0)
            throw std::invalid_argument("ddof must be 0 or 1 for exponential weights");
        s_.resize(static_cast<std::size_t>(n_));
    }

    bool timed() const noexcept { return halflife_ == halflife_; }

    /// One tick (time is required with time-based decay, ignored otherwise).
    void update(const double* p, double b, double time = trackerr::detail::nan_v) noexcept {
        for (std::ptrdiff_t j = 0; j < n_; ++j) update_one(s_[static_cast<std::size_t>(j)], p[j], b, time);
    }

    /// `rows` ticks at once (untimed states): tick t is p[t * portfolios + j]
    /// and b[t]. The recurrence is sequential, so this is the tick loop.
    void update(const double* p, const double* b, std::ptrdiff_t rows) noexcept {
        for (std::ptrdiff_t t = 0; t < rows; ++t) update(p + t * n_, b[t]);
    }

    /// Merge: this stream followed by `o`'s ticks, as one pass over both.
    /// Over the concatenation the weights of this stream's ticks decay by
    /// kappa, the product of (1 - alpha) over o's ticks, and o's first tick
    /// (its seed, which o alone weighs D = kappa / (1 - alpha_1)) weighs
    /// alpha_1 D instead; alpha_1 is the weight o's first tick gets after this
    /// stream's last one. The merged weights are o's plus kappa times
    /// (this stream's minus a unit weight at o's seed), so with mu the merged
    /// mean and m, s the means and seed relative to o's seed level,
    ///   mu = m_o + kappa (m_this - s_o),  S = S_o + (m_o - mu)^2
    ///        + kappa (S_this + (m_this - mu)^2 - (s_o - mu)^2),
    /// likewise for co-moments, and W2 = W2_o - D^2 + (alpha_1 D)^2 + kappa^2 W2_this.
    /// With time-based decay, o's ticks must not start before this state's
    /// last tick.
    Exponential& operator+=(const Exponential& o) {
        if (o.n_ != n_) throw std::invalid_argument("cannot merge states of different n_portfolios");
        if (!same(o.alpha_, alpha_) || !same(o.halflife_, halflife_) || o.o_.ddof != o_.ddof ||
            !same(o.o_.periods, o_.periods) || o.o_.min_periods != o_.min_periods ||
            o.o_.risk_free != o_.risk_free)
            throw std::invalid_argument("cannot merge exponential states with different parameters");
        if (timed())
            for (std::size_t j = 0; j < s_.size(); ++j)
                if (s_[j].n > 0.0 && o.s_[j].n > 0.0 && o.s_[j].t_first < s_[j].t_last)
                    throw std::invalid_argument(
                        "cannot merge: the other state's ticks start before this state's last tick");
        for (std::size_t j = 0; j < s_.size(); ++j) merge(s_[j], o.s_[j]);
        return *this;
    }

    Readout read(std::ptrdiff_t j) const noexcept {
        const State& s = s_[static_cast<std::size_t>(j)];
        const double nan = trackerr::detail::nan_v;
        const double need = static_cast<double>(o_.min_periods > 0 ? o_.min_periods : 1);
        Readout r{nan, nan, nan, nan, nan, nan, nan, s.n};
        if (!(s.n >= need) || s.bad != 0.0) return r;
        const double corr = o_.ddof == 1.0 ? 1.0 / (1.0 - s.w2) : 1.0;  // inf when one observation
        const double per_year = o_.periods == o_.periods ? o_.periods : 1.0, sp = std::sqrt(per_year);
        const double var_a = s.va * corr, mean_a = s.la + s.ma;
        const double sd = std::isfinite(var_a) ? std::sqrt(var_a > 0.0 ? var_a : 0.0) : nan;
        r.tracking_error = sd * sp;
        r.active_return = mean_a * per_year;
        r.information_ratio = sd > 0.0 ? mean_a / sd * sp : nan;
        r.beta = s.vb > 0.0 ? s.cpb / s.vb : nan;
        const double a1 = ((s.lp + s.mp) - o_.risk_free) - r.beta * ((s.lb + s.mb) - o_.risk_free);
        r.alpha = a1 * per_year;
        if (s.vp > 0.0 && s.vb > 0.0) {
            const double c = s.cpb / std::sqrt(s.vp * s.vb);
            r.correlation = c > 1.0 ? 1.0 : (c < -1.0 ? -1.0 : c);
            r.r_squared = r.correlation * r.correlation;
        }
        return r;
    }

    void reset() noexcept {
        for (auto& s : s_) s = State{};
    }
    std::ptrdiff_t portfolios() const noexcept { return n_; }
    double alpha() const noexcept { return alpha_; }
    double halflife() const noexcept { return halflife_; }
    const Options& options() const noexcept { return o_; }

    std::string to_bytes() const {
        detail::Writer w(3);
        w.i64(n_);
        w.f64(alpha_);
        w.f64(halflife_);
        detail::write_options(w, o_);
        for (const State& s : s_)
            for (double v : s.fields()) w.f64(v);
        return w.take();
    }
    static Exponential from_bytes(const std::string& bytes) {
        detail::Reader r(bytes, 3, "Exponential");
        const std::int64_t n = r.i64();
        const double alpha = r.f64(), halflife = r.f64();
        const Options o = detail::read_options(r);
        constexpr std::size_t per = State::count * 8;
        if (n < 1 || static_cast<std::uint64_t>(n) > r.remaining() / per ||
            r.remaining() != static_cast<std::size_t>(n) * per)
            r.fail("corrupted or truncated checkpoint (size does not match n_portfolios)");
        try {
            Exponential e(alpha, static_cast<std::ptrdiff_t>(n), o, halflife);
            for (State& s : e.s_) {
                double v[State::count];
                for (double& x : v) x = r.f64();
                s.set(v);
                if (!(s.n >= 0.0 && s.n == std::floor(s.n)) || !(s.bad == 0.0 || s.bad == 1.0))
                    r.fail("corrupted checkpoint (bad count)");
            }
            return e;
        } catch (const std::invalid_argument& e) {
            const std::string what = e.what();
            if (what.rfind("Exponential.from_bytes", 0) == 0) throw;
            r.fail("corrupted checkpoint (" + what + ")");
        }
    }

private:
    struct State {
        static constexpr int count = 15;
        double n = 0.0, bad = 0.0, w2 = 0.0, t_first = trackerr::detail::nan_v,
               t_last = trackerr::detail::nan_v;
        double la = 0.0, ma = 0.0, va = 0.0;                                // active return
        double lp = 0.0, lb = 0.0, mp = 0.0, mb = 0.0, vp = 0.0, vb = 0.0;  // pair
        double cpb = 0.0;
        std::vector<double> fields() const {
            return {n, bad, w2, t_first, t_last, la, ma, va, lp, lb, mp, mb, vp, vb, cpb};
        }
        void set(const double* v) noexcept {
            double* f[count] = {&n,  &bad, &w2, &t_first, &t_last, &la, &ma, &va,
                                &lp, &lb,  &mp, &mb,      &vp,     &vb, &cpb};
            for (int i = 0; i < count; ++i) *f[i] = v[i];
        }
    };

    static bool same(double a, double b) noexcept { return a == b || (a != a && b != b); }

    void merge(State& a, const State& b) const noexcept {
        if (b.n == 0.0) return;
        if (a.n == 0.0) {
            a = b;
            return;
        }
        if (a.bad != 0.0 || b.bad != 0.0) {  // NaN until reset either way
            a.n += b.n;
            a.bad = 1.0;
            if (b.t_last > a.t_last) a.t_last = b.t_last;
            return;
        }
        constexpr double ln2 = 0.69314718055994530942;
        double al1 = alpha_, log_d = 0.0;  // log of D, the weight o alone gives its seed
        if (timed()) {
            const double dt = b.t_first - a.t_last;
            al1 = dt > 0.0 ? -std::expm1(-dt * ln2 / halflife_) : 0.0;
            log_d = -(b.t_last - b.t_first) * ln2 / halflife_;
        } else if (b.n > 1.0) {
            log_d = (b.n - 1.0) * std::log1p(-alpha_);  // -inf when alpha = 1
        }
        const double d = std::exp(log_d), kappa = (1.0 - al1) * d;
        // one series: level l, mean m (relative to l), weighted variance v
        auto one = [kappa](double la, double ma, double lb, double mb, double& mu_out, double& dm_out) {
            const double dm = (la - lb) + ma;  // this stream's mean relative to o's seed
            mu_out = mb + kappa * dm;
            dm_out = dm;
        };
        double mu_a, dm_a, mu_p, dm_p, mu_b, dm_b;
        one(a.la, a.ma, b.la, b.ma, mu_a, dm_a);
        one(a.lp, a.mp, b.lp, b.mp, mu_p, dm_p);
        one(a.lb, a.mb, b.lb, b.mb, mu_b, dm_b);
        auto co = [kappa](double sb, double sa, double dmx, double mux, double dmy, double muy, double mbx,
                          double mby) {
            return sb + (mbx - mux) * (mby - muy) + kappa * (sa + (dmx - mux) * (dmy - muy) - mux * muy);
        };
        auto nonneg = [](double v) { return v > 0.0 ? v : 0.0; };
        a.va = nonneg(co(b.va, a.va, dm_a, mu_a, dm_a, mu_a, b.ma, b.ma));
        a.vp = nonneg(co(b.vp, a.vp, dm_p, mu_p, dm_p, mu_p, b.mp, b.mp));
        a.vb = nonneg(co(b.vb, a.vb, dm_b, mu_b, dm_b, mu_b, b.mb, b.mb));
        a.cpb = co(b.cpb, a.cpb, dm_p, mu_p, dm_b, mu_b, b.mp, b.mb);
        // the merged state keeps this stream's seed as its level
        a.ma = (b.la - a.la) + mu_a;
        a.mp = (b.lp - a.lp) + mu_p;
        a.mb = (b.lb - a.lb) + mu_b;
        a.w2 = (b.w2 - d * d) + (al1 * d) * (al1 * d) + kappa * kappa * a.w2;
        a.n += b.n;
        if (b.t_last > a.t_last) a.t_last = b.t_last;
    }

    void update_one(State& s, double x, double y, double time) const noexcept {
        if (x != x || y != y) return;  // a missing pair is skipped (pandas' ignore_na=True)
        const double a = detail::coded_active(x, y);
        if (!std::isfinite(a) || !std::isfinite(x) || !std::isfinite(y)) {
            s.bad = 1.0;
            s.n += 1.0;
            return;
        }
        if (s.n == 0.0) {  // seed: the first observation is the reference level
            s.la = a;
            s.lp = x;
            s.lb = y;
            s.w2 = 1.0;
            s.t_first = s.t_last = time;
            s.n = 1.0;
            return;
        }
        double al = alpha_;
        if (timed()) {
            const double dt = time - s.t_last;
            al = dt > 0.0 ? -std::expm1(-dt * 0.69314718055994530942 / halflife_) : 0.0;
            if (dt > 0.0 || s.t_last != s.t_last) s.t_last = time;
        }
        const double keep = 1.0 - al;
        const double d = (a - s.la) - s.ma;
        s.ma += al * d;
        s.va = keep * (s.va + al * d * d);
        const double dp = (x - s.lp) - s.mp, db = (y - s.lb) - s.mb;
        s.mp += al * dp;
        s.mb += al * db;
        s.vp = keep * (s.vp + al * dp * dp);
        s.vb = keep * (s.vb + al * db * db);
        s.cpb = keep * (s.cpb + al * dp * db);
        s.w2 = keep * keep * s.w2 + al * al;
        s.n += 1.0;
    }

    double alpha_, halflife_;
    std::ptrdiff_t n_;
    Options o_;
    std::vector<State> s_;
};

}  // namespace trackerr::stream
