// Streaming states: tick-by-tick tracking error and the metrics around it for
// one or many portfolios against one benchmark, with checkpoints.
//
//   Cumulative  every tick seen: Welford relative to a reference level, merged
//               with Chan's formulas (a monoid: chunks, threads, checkpoints).
//   Window      the last `window` ticks: the guarded window states of
//               window.hpp on a ring buffer, O(1) a tick, O(window) memory;
//               the same arithmetic as the rolling kernels' general step.
//   TimeWindow  the ticks of the last span of time, (t - span, t]: the
//               time kernel's states (rolling_time.hpp) on a growable ring,
//               O(1) a tick amortised, O(held ticks) memory.
//
// Thread safety: a state is a plain value. Concurrent reads are safe;
// updates need one state per thread (merge Cumulative states afterwards) or
// the caller's own lock.
//
// Checkpoints: to_bytes() writes a versioned, self-describing record ending
// in a CRC-32 of everything before it; from_bytes() checks the checksum, then
// every field and the exact length, and throws std::invalid_argument on
// truncated, corrupted, foreign or older input.
//
// Sizes: every product of sizes (window x portfolios, rows x portfolios) is
// checked for overflow before it is formed, and std::invalid_argument names
// the values; an allocation the machine refuses is std::bad_alloc, thrown
// before the state changes. Window's ring grows with the ticks it holds, so
// memory follows min(ticks, window), not the window asked for.
#pragma once

#include "detail/isa.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "detail/isa.hpp"
#include "rolling.hpp"
#include "rolling_time.hpp"
#include "window.hpp"

namespace trackerr {
TRACKERR_ISA_BEGIN
namespace stream {

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
    if (o.min_periods < 0)
        throw std::invalid_argument("min_periods (=" + std::to_string(o.min_periods) +
                                    ") must be >= 1, or 0 for the default");
    if (!std::isfinite(o.risk_free)) throw std::invalid_argument("risk_free must be finite");
}

// Size limits. A state holds n_portfolios entries of at most 256 bytes; a
// ring holds window x n_portfolios doubles twice. Both products are checked
// by division, so they are never formed when they would overflow, and stay
// below PTRDIFF_MAX bytes (the largest object C++ can index).
inline constexpr std::ptrdiff_t max_ptrdiff = std::numeric_limits<std::ptrdiff_t>::max();
inline constexpr std::ptrdiff_t max_portfolios = max_ptrdiff / 256;
inline constexpr std::ptrdiff_t max_cells = max_ptrdiff / 16;

inline void check_portfolios(std::ptrdiff_t portfolios) {
    if (portfolios < 1)
        throw std::invalid_argument("n_portfolios (=" + std::to_string(portfolios) + ") must be at least 1");
    if (portfolios > max_portfolios)
        throw std::invalid_argument("n_portfolios (=" + std::to_string(portfolios) + ") is too large (at most " +
                                    std::to_string(max_portfolios) + ")");
}

// A batch of `rows` ticks reads p[t * portfolios + j]: the largest index must
// fit in a ptrdiff_t.
inline void check_rows(std::ptrdiff_t rows, std::ptrdiff_t portfolios) {
    if (rows < 0) throw std::invalid_argument("rows (=" + std::to_string(rows) + ") must be >= 0");
    if (rows > max_ptrdiff / portfolios)
        throw std::invalid_argument("rows (=" + std::to_string(rows) + ") x n_portfolios (=" +
                                    std::to_string(portfolios) + ") overflows the size of a batch");
}

// CRC-32 as zlib, PNG and Ethernet compute it: the reflected polynomial
// 0xEDB88320, register initialised to all ones and inverted at the end, one
// table lookup per byte. crc32(b, crc32(a)) == crc32(a + b), as zlib.crc32.
// It detects every error burst of up to 32 bits, so every single-bit flip.
struct Crc32Table {
    std::uint32_t v[256];
};
inline constexpr Crc32Table make_crc32_table() noexcept {
    Crc32Table t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        t.v[i] = c;
    }
    return t;
}
inline constexpr Crc32Table crc32_table = make_crc32_table();
inline std::uint32_t crc32(const char* data, std::size_t size, std::uint32_t crc = 0) noexcept {
    crc = ~crc;
    for (std::size_t i = 0; i < size; ++i)
        crc = crc32_table.v[(crc ^ static_cast<unsigned char>(data[i])) & 0xFFu] ^ (crc >> 8);
    return ~crc;
}

// Checkpoint record: "TRKR", format version, kind, flags, then fixed fields
// and the states, all little-endian, and last the CRC-32 of all the bytes
// before it. Kinds: 1 Cumulative, 2 Window, 3 Exponential, 4 TimeWindow.
// Flags bit 0: the state was built for one portfolio fed floats (the Python
// bindings' scalar form; C++ round-trips it and otherwise ignores it);
// TimeWindow also keeps bits 1 and 2 (TimeWindow::flag_naive / flag_aware).
// Format 3 added the checksum, the flags and Exponential's adjust flag;
// older formats are refused. (TimeWindow came later in format 3: a new kind,
// which older readers refuse as another kind of state.)
inline constexpr char magic[4] = {'T', 'R', 'K', 'R'};
inline constexpr std::uint32_t format_version = 3;
inline constexpr std::uint32_t flag_scalar = 1;

class Writer {
public:
    Writer(std::uint32_t kind, std::uint32_t flags) {
        out_.append(magic, 4);
        u32(format_version);
        u32(kind);
        u32(flags);
    }
    void u32(std::uint32_t v) { out_.append(reinterpret_cast<const char*>(&v), 4); }
    void i64(std::int64_t v) { out_.append(reinterpret_cast<const char*>(&v), 8); }
    void f64(double v) { out_.append(reinterpret_cast<const char*>(&v), 8); }
    std::string take() {
        u32(crc32(out_.data(), out_.size()));
        return std::move(out_);
    }

private:
    std::string out_;
};

class Reader {
public:
    // `allowed`: the flag bits this kind of record may carry.
    Reader(const std::string& bytes, std::uint32_t kind, const char* what,
           std::uint32_t allowed = flag_scalar)
        : s_(bytes), what_(what) {
        if (s_.size() < 12 || std::memcmp(s_.data(), magic, 4) != 0)
            fail("not a trackerr checkpoint (bad magic)");
        pos_ = 4;
        const std::uint32_t version = u32();
        if (version < format_version)
            fail("checkpoint format " + std::to_string(version) +
                 " was written by an older trackerr; this version reads format " +
                 std::to_string(format_version) + " only: rebuild the state from its ticks");
        if (version > format_version)
            fail("checkpoint format " + std::to_string(version) + " is newer than this trackerr (format " +
                 std::to_string(format_version) + "): upgrade trackerr to read it");
        if (s_.size() < 20) fail("truncated checkpoint");
        end_ = s_.size() - 4;
        std::uint32_t stored;
        std::memcpy(&stored, s_.data() + end_, 4);
        if (crc32(s_.data(), end_) != stored)
            fail("corrupted or truncated checkpoint (checksum mismatch)");
        if (u32() != kind) fail("the checkpoint holds another kind of state");
        flags_ = u32();
        if ((flags_ & ~allowed) != 0) fail("corrupted checkpoint (bad flags)");
    }
    std::uint32_t u32() { return take<std::uint32_t>(); }
    std::int64_t i64() { return take<std::int64_t>(); }
    double f64() { return take<double>(); }
    std::uint32_t flags() const noexcept { return flags_; }
    std::size_t remaining() const noexcept { return end_ - pos_; }
    [[noreturn]] void fail(const std::string& why) const {
        throw std::invalid_argument(std::string(what_) + ".from_bytes: " + why);
    }
    // The scalar flag needs a single portfolio.
    void check_flags(std::int64_t portfolios) const {
        if ((flags_ & flag_scalar) != 0 && portfolios != 1)
            fail("corrupted checkpoint (scalar flag with n_portfolios != 1)");
    }

private:
    template <class T>
    T take() {
        if (end_ - pos_ < sizeof(T)) fail("truncated checkpoint");
        T v;
        std::memcpy(&v, s_.data() + pos_, sizeof(T));
        pos_ += sizeof(T);
        return v;
    }
    const std::string& s_;
    const char* what_;
    std::size_t pos_ = 0, end_ = 12;
    std::uint32_t flags_ = 0;
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

// Whether the counts of a state are those of its window's ticks x(i), y(i),
// i in [0, k), oldest first: a pair with a NaN is missing; the active state
// counts a non-finite p - b as bad, the pair state a non-finite p or b. The
// equal-value runs (which let a constant window read exactly 0) must match
// the window's trailing run when it holds other values too, and the last
// value seen must be the window's newest: a forged run cannot make a varying
// window read as constant. For the checkpoints of the states with a window.
template <class X, class Y>
bool counts_match(const WindowMoments& a, const WindowCoMoments& c, const X& x, const Y& y,
                  std::ptrdiff_t k) noexcept {
    struct Run {  // trailing run of equal values, and how many were seen
        double last = trackerr::detail::nan_v, run = 0.0, seen = 0.0;
        void see(double v) noexcept {
            run = (v == last) ? run + 1.0 : 1.0;
            last = v;
            seen += 1.0;
        }
        bool matches(double last_, double run_) const noexcept {
            if (seen == 0.0) return true;  // nothing left in the window to compare with
            if (!(last_ == last)) return false;
            return run < seen ? run_ == run : run_ >= run;
        }
    };
    double an = 0.0, abad = 0.0, cn = 0.0, cbad = 0.0;
    Run ra, rp, rb;
    for (std::ptrdiff_t i = 0; i < k; ++i) {
        const double p = x(i), b = y(i);
        if (p != p || b != b) continue;
        const double coded = coded_active(p, b);
        (std::isfinite(coded) ? an : abad) += 1.0;
        (std::isfinite(p) && std::isfinite(b) ? cn : cbad) += 1.0;
        ra.see(coded);
        rp.see(p);
        rb.see(b);
    }
    if (a.n != an || a.n_bad != abad || c.n != cn || c.n_bad != cbad) return false;
    return ra.matches(a.last, a.run) && rp.matches(c.last_p, c.run_p) && rb.matches(c.last_b, c.run_b);
}

}  // namespace detail

namespace detail {

using trackerr::detail::CoMomentLanes;
using trackerr::detail::MomentLanes;
namespace simd = trackerr::detail::simd;

// The lane type of Window's steady tick: the widest vector this translation
// unit may use (the Python extension compiles the tick once per instruction
// set and picks one at run time; a C++ program gets what it compiles for).
// Lane j computes what the scalar step computes (window.hpp), so the lane
// count never changes a result.
#if defined(TRACKERR_SIMD_LANES) && !defined(TRACKERR_LANES) && defined(__AVX512F__)
using window_lane_t = simd::d8;
#elif defined(TRACKERR_SIMD_LANES) && !defined(TRACKERR_LANES) && defined(__AVX__)
using window_lane_t = simd::d4;
#else
using window_lane_t = trackerr::detail::lane_t;
#endif
// Four chunks of an Exponential batch side by side: four lanes at once with
// AVX, two pairs of two with SSE2, four scalar chains without vectors.
#if defined(TRACKERR_SIMD_LANES) && (defined(__AVX__) || (defined(TRACKERR_LANES) && TRACKERR_LANES >= 4))
using chunk_lane_t = simd::d4;
#elif defined(TRACKERR_SIMD_LANES)
using chunk_lane_t = simd::d2;
#else
using chunk_lane_t = double;
#endif

// Window's states for many portfolios, a structure of arrays in blocks of 8
// portfolios: field k of portfolio j is state[(j / 8) * block_doubles +
// k * 8 + j % 8], so up to 8 neighbouring portfolios are one vector load and
// every field of a block is at a fixed offset from one pointer. The first 7
// fields are the active return's WindowMoments, the next 15 the pair's
// WindowCoMoments (as MomentLanes and CoMomentLanes hold them), the last 4
// the counts of both.
enum Field : int {
    f_level, f_mean, f_m2, f_err, f_err_mean, f_run, f_last,
    f_level_p, f_level_b, f_mean_p, f_mean_b, f_c_pp, f_c_bb, f_c_pb,
    f_err_p, f_err_b, f_err_mp, f_err_mb, f_run_p, f_run_b, f_last_p, f_last_b,
    f_n_a, f_bad_a, f_n_c, f_bad_c,
    field_count
};
inline constexpr std::ptrdiff_t block = 8;                             // portfolios a block
inline constexpr std::ptrdiff_t block_doubles = field_count * block;  // doubles a block

/// An allocator of 64-byte aligned arrays (a cache line: a block's fields
/// never straddle two).
template <class T>
struct Aligned {
    using value_type = T;
    Aligned() noexcept = default;
    template <class U>
    Aligned(const Aligned<U>&) noexcept {}
    T* allocate(std::size_t n) {
        if (n > std::numeric_limits<std::size_t>::max() / sizeof(T)) throw std::bad_alloc();
        return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{64}));
    }
    void deallocate(T* p, std::size_t) noexcept { ::operator delete(p, std::align_val_t{64}); }
    friend bool operator==(const Aligned&, const Aligned&) noexcept { return true; }
    friend bool operator!=(const Aligned&, const Aligned&) noexcept { return false; }
};

/// One steady tick of Window, as plain pointers and numbers (so that a copy
/// of the kernel compiled for another instruction set can take it). The
/// ring's tile layout is Window's: portfolio j of the slot at
/// ring[(j / 8) * tile + j % 8].
struct SteadyTick {
    double* state;            // the fields in blocks (Field)
    const double* p_new;      // the entering tick, one value per portfolio
    double* ring;             // the ring slot: the leaving tick, overwritten with the entering one
    const double* next;       // the ring slot of the next tick (prefetched)
    std::ptrdiff_t tile;      // doubles between the ring's tiles of 8 portfolios
    double b_new, b_old;      // the benchmark's entering and leaving values
    std::ptrdiff_t portfolios;
    double n, inv_n;          // the window and 1 / window
    std::ptrdiff_t* todo;     // out: the portfolios that need Window's scalar settle
    std::ptrdiff_t todo_count;
};

template <class V>
TRACKERR_HOT simd::mask<V> mask_not(const simd::mask<V>& m) noexcept {
    if constexpr (std::is_same_v<V, double>)
        return !m;
    else
        return ~m;
}

/// The guard of one series (MomentLanes::quiet) on the fields of one side
/// of a pair.
template <class V>
TRACKERR_HOT simd::mask<V> side_quiet(const V& m2, const V& err, const V& err_mean, const V& n) noexcept {
    MomentLanes<V> s{};
    s.m2 = m2;
    s.err = err;
    s.err_mean = err_mean;
    return s.quiet(n);
}

/// Lane by lane, whether x and y have the same bits (0.0 and -0.0 differ).
template <class V>
TRACKERR_HOT simd::mask<V> same_bits(const V& x, const V& y) noexcept {
    if constexpr (std::is_same_v<V, double>) {
        std::uint64_t a, b;
        std::memcpy(&a, &x, sizeof a);
        std::memcpy(&b, &y, sizeof b);
        return a == b;
    } else {
        simd::mask<V> a, b;
        std::memcpy(&a, &x, sizeof a);
        std::memcpy(&b, &y, sizeof b);
        return a == b;
    }
}

/// The constants of a steady tick, in lanes.
template <class V>
struct SteadyConstants {
    V b_new, b_old, inv, n, one;
};

/// The lanes at s (a block's fields at lane offset) and r (the ring): every
/// window is full of finite ticks, and the entering values p_new - b_new are
/// finite here (the caller checked). The active return takes
/// MomentLanes<V>::replace and the pair CoMomentLanes<V>::replace, the steps
/// of window.hpp, so each lane's fields are bit for bit those of the scalar
/// step. Windows whose trailing run covers them are then set exactly as
/// settle_constant sets them (K = the value, mean = M2 = err = err_mean = 0;
/// C_pb = 0 when either side of the pair is constant), and the portfolios
/// neither constant nor quiet under the guard of window.hpp are listed in
/// todo for the scalar settle (which finds the constant part done, and
/// rebuilds from the ring). Returns the new count of todo.
template <class V>
TRACKERR_HOT std::ptrdiff_t steady_lanes(double* s, double* r, const V& p_new, const V& a_new,
                                         const SteadyConstants<V>& k, std::ptrdiff_t j, std::ptrdiff_t* todo,
                                         std::ptrdiff_t count) noexcept {
    using M = simd::mask<V>;
    constexpr std::ptrdiff_t B = block;
    auto ld = [s](int f) noexcept { return simd::load<V>(s + f * B); };
    auto st = [s](int f, const V& v) noexcept { simd::store<V>(s + f * B, v); };
    const V zero{};

    // Stale prices. A series whose run already covers the window was set
    // exactly at the end of the last tick (settle_constant: K = last, the
    // rest 0, C_pb = 0). When every series of every lane is such and its new
    // value has the bits of the last one, the step and the settle leave every
    // field as it is but the runs, which count one more: only they are
    // written (a constant panel then costs a fraction of the memory traffic).
    const V run_a = ld(f_run), run_p = ld(f_run_p), run_b = ld(f_run_b);
    const V last_a = ld(f_last), last_p = ld(f_last_p), last_b = ld(f_last_b);
    bool stale;
    if constexpr (std::is_same_v<V, double>) {  // one lane: branches, taken rarely
        stale = run_a >= k.n && run_p >= k.n && run_b >= k.n && same_bits<V>(a_new, last_a) &&
                same_bits<V>(p_new, last_p) && same_bits<V>(k.b_new, last_b);
    } else {
        stale = simd::all<V>(same_bits<V>(a_new, last_a) & same_bits<V>(p_new, last_p) &
                             same_bits<V>(k.b_new, last_b) & (run_a >= k.n) & (run_p >= k.n) & (run_b >= k.n));
    }
    if (stale) {
        // The ring slot leaves a value of the run, equal to p_new, so with
        // the same bits unless it is a zero (0.0 == -0.0): then only is it
        // written, and a stale panel's tick leaves the ring untouched.
        if (!simd::all<V>(mask_not<V>(p_new == V{}))) simd::store<V>(r, p_new);
        st(f_run, run_a + k.one);
        st(f_run_p, run_p + k.one);
        st(f_run_b, run_b + k.one);
        return count;
    }

    const V p_old = simd::load<V>(r);
    MomentLanes<V> a;
    a.level = ld(f_level);
    a.mean = ld(f_mean);
    a.m2 = ld(f_m2);
    a.err = ld(f_err);
    a.err_mean = ld(f_err_mean);
    a.run = run_a;
    a.last = last_a;
    a.replace(a_new, p_old - k.b_old, k.inv);

    CoMomentLanes<V> c;
    c.level_p = ld(f_level_p);
    c.level_b = ld(f_level_b);
    c.mean_p = ld(f_mean_p);
    c.mean_b = ld(f_mean_b);
    c.c_pp = ld(f_c_pp);
    c.c_bb = ld(f_c_bb);
    c.c_pb = ld(f_c_pb);
    c.err_p = ld(f_err_p);
    c.err_b = ld(f_err_b);
    c.err_mp = ld(f_err_mp);
    c.err_mb = ld(f_err_mb);
    c.run_p = run_p;
    c.run_b = run_b;
    c.last_p = last_p;
    c.last_b = last_b;
    c.replace(p_new, k.b_new, p_old, k.b_old, k.inv);
    simd::store<V>(r, p_new);

    const V n = k.n;
    const M con_a = a.run >= n, con_p = c.run_p >= n, con_b = c.run_b >= n;
    const M fine = a.quiet(n) & c.quiet(n) & mask_not<V>(con_a | con_p | con_b);
    if (!simd::all<V>(fine)) {
        // settle_constant, lane by lane
        a.level = simd::select<V>(con_a, a.last, a.level);
        a.mean = simd::select<V>(con_a, zero, a.mean);
        a.m2 = simd::select<V>(con_a, zero, a.m2);
        a.err = simd::select<V>(con_a, zero, a.err);
        a.err_mean = simd::select<V>(con_a, zero, a.err_mean);
        c.level_p = simd::select<V>(con_p, c.last_p, c.level_p);
        c.mean_p = simd::select<V>(con_p, zero, c.mean_p);
        c.c_pp = simd::select<V>(con_p, zero, c.c_pp);
        c.err_p = simd::select<V>(con_p, zero, c.err_p);
        c.err_mp = simd::select<V>(con_p, zero, c.err_mp);
        c.level_b = simd::select<V>(con_b, c.last_b, c.level_b);
        c.mean_b = simd::select<V>(con_b, zero, c.mean_b);
        c.c_bb = simd::select<V>(con_b, zero, c.c_bb);
        c.err_b = simd::select<V>(con_b, zero, c.err_b);
        c.err_mb = simd::select<V>(con_b, zero, c.err_mb);
        c.c_pb = simd::select<V>(con_p | con_b, zero, c.c_pb);
        st(f_level, a.level);
        st(f_level_p, c.level_p);
        st(f_level_b, c.level_b);
        // as WindowMoments / WindowCoMoments::needs_recompute after settle_constant
        const M ok = (con_a | a.quiet(n)) & (con_p | side_quiet<V>(c.c_pp, c.err_p, c.err_mp, n)) &
                     (con_b | side_quiet<V>(c.c_bb, c.err_b, c.err_mb, n));
        for (int l = 0; l < simd::width<V>; ++l)
            if (!simd::lane<V>(ok, l)) todo[count++] = j + l;
    }
    st(f_mean, a.mean);
    st(f_m2, a.m2);
    st(f_err, a.err);
    st(f_err_mean, a.err_mean);
    st(f_run, a.run);
    st(f_last, a.last);
    st(f_mean_p, c.mean_p);
    st(f_mean_b, c.mean_b);
    st(f_c_pp, c.c_pp);
    st(f_c_bb, c.c_bb);
    st(f_c_pb, c.c_pb);
    st(f_err_p, c.err_p);
    st(f_err_b, c.err_b);
    st(f_err_mp, c.err_mp);
    st(f_err_mb, c.err_mb);
    st(f_run_p, c.run_p);
    st(f_run_b, c.run_b);
    st(f_last_p, c.last_p);
    st(f_last_b, c.last_b);
    return count;
}

/// A steady tick across the portfolios, `width` at a time and the rest of a
/// block one by one (the same step: lanes never change a result). Stops at
/// the first group holding a non-finite p - b and returns its first
/// portfolio (the caller takes the general step from there);
/// t.portfolios when all are done.
template <class V>
TRACKERR_HOT std::ptrdiff_t steady_tick(SteadyTick& t) noexcept {
    constexpr int W = simd::width<V>;
    // the arguments in locals: the stores to the states (doubles) could
    // otherwise alias t's fields, which would be reloaded at every block
    const std::ptrdiff_t n = t.portfolios, tile = t.tile;
    double* const state = t.state;
    double* const ring = t.ring;
    const double* const next = t.next;
    const double* const p = t.p_new;
    std::ptrdiff_t* const todo = t.todo;
    const double bn = t.b_new;
    if (n == 1) {  // one portfolio (the scalar form): no loop, no lanes to set up
        const double a = p[0] - bn;
        if (!(std::fabs(a) <= std::numeric_limits<double>::max())) {
            t.todo_count = 0;
            return 0;
        }
        const SteadyConstants<double> k{bn, t.b_old, t.inv_n, t.n, 1.0};
        t.todo_count = steady_lanes<double>(state, ring, p[0], a, k, 0, todo, 0);
        return 1;
    }
    const SteadyConstants<V> kv{simd::splat<V>(bn), simd::splat<V>(t.b_old), simd::splat<V>(t.inv_n),
                                simd::splat<V>(t.n), simd::splat<V>(1.0)};
    const SteadyConstants<double> k1{bn, t.b_old, t.inv_n, t.n, 1.0};
    std::ptrdiff_t count = 0;
    for (std::ptrdiff_t j0 = 0; j0 < n; j0 += block) {
        const std::ptrdiff_t g = j0 / block, end = std::min(block, n - j0);
        double* const s = state + g * block_doubles;
        double* const r = ring + g * tile;
#if defined(__GNUC__) || defined(__clang__)
        __builtin_prefetch(next + g * tile, 1);  // the next tick's slot (tiles are far apart)
#endif
        std::ptrdiff_t l = 0;
        if constexpr (W > 1) {
            for (; l + W <= end; l += W) {
                const V pv = simd::load<V>(p + j0 + l), a = pv - kv.b_new;
                if (!simd::all<V>(simd::finite<V>(a))) {
                    t.todo_count = count;
                    return j0 + l;
                }
                count = steady_lanes<V>(s + l, r + l, pv, a, kv, j0 + l, todo, count);
            }
        }
        for (; l < end; ++l) {
            const double pv = p[j0 + l], a = pv - bn;
            if (!(std::fabs(a) <= std::numeric_limits<double>::max())) {
                t.todo_count = count;
                return j0 + l;
            }
            count = steady_lanes<double>(s + l, r + l, pv, a, k1, j0 + l, todo, count);
        }
    }
    t.todo_count = count;
    return n;
}

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
        detail::check_portfolios(portfolios);
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
    /// infinity takes the tick-by-tick path, which counts it. Throws
    /// std::invalid_argument (state unchanged) when rows x portfolios overflows.
    void update(const double* p, const double* b, std::ptrdiff_t rows) {
        detail::check_rows(rows, n_);
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

    /// The checkpoint record; `flags` is stored and returned by from_bytes
    /// (bit 0: the bindings' scalar form; 0 or 1).
    std::string to_bytes(std::uint32_t flags = 0) const {
        detail::Writer w(1, flags);
        w.i64(n_);
        detail::write_options(w, o_);
        for (std::size_t j = 0; j < a_.size(); ++j) {
            detail::write(w, a_[j]);
            detail::write(w, c_[j]);
        }
        return w.take();
    }
    static Cumulative from_bytes(const std::string& bytes, std::uint32_t* flags = nullptr) {
        detail::Reader r(bytes, 1, "Cumulative");
        const std::int64_t n = r.i64();
        const Options o = detail::read_options(r);
        constexpr std::size_t per = (9 + 17) * 8;
        if (n < 1 || n > detail::max_portfolios || static_cast<std::uint64_t>(n) > r.remaining() / per ||
            r.remaining() != static_cast<std::size_t>(n) * per)
            r.fail("corrupted or truncated checkpoint (size does not match n_portfolios)");
        r.check_flags(n);
        if (flags) *flags = r.flags();
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
///
/// The ring holds the ticks of the window, slot-major (portfolio j of slot s
/// at [s * portfolios + j], the benchmark's value once a slot); it grows as
/// ticks arrive until it holds `window` slots, then the oldest slot is
/// overwritten. Memory is O(min(ticks, window) x portfolios).
///
/// The states are a structure of arrays (detail::Field: each field of the
/// guarded states of window.hpp an array over the portfolios). A steady tick
/// (every window full of finite ticks, the entering ones finite) is one pass
/// of detail::steady_tick across the portfolios, neighbouring portfolios in
/// the lanes of one vector stepping with MomentLanes / CoMomentLanes, and
/// only the portfolios it lists (a guard that fires) go through the scalar
/// settle. Any other tick steps each remaining portfolio on its own with the
/// general step of the rolling kernels (add, remove, non-finite values,
/// whose replace is the same step), then the settle. Each portfolio's state
/// is, bit for bit, what a one-portfolio Window fed its column holds, for
/// any lane width.
class Window {
public:
    Window(std::ptrdiff_t window, std::ptrdiff_t portfolios = 1, Options o = {})
        : w_(window), n_(portfolios), o_(o) {
        detail::check_portfolios(portfolios);
        if (o_.min_periods < 0 || o_.min_periods > w_)
            throw std::invalid_argument("min_periods (=" + std::to_string(o_.min_periods) +
                                        ") must be between 1 and window (=" + std::to_string(w_) +
                                        "), or 0 for the default (window)");
        RollingParams prm = params();
        check_rolling(prm, 0, 0);
        detail::check_options(o_);
        if (w_ > detail::max_cells / n_)
            throw std::invalid_argument("window (=" + std::to_string(w_) + ") x n_portfolios (=" +
                                        std::to_string(n_) + ") is too large for a ring buffer (at most " +
                                        std::to_string(detail::max_cells) + " values)");
        blocks_ = (n_ + detail::block - 1) / detail::block;
        tile_width_ = std::min(n_, detail::block);
        soa_.resize(static_cast<std::size_t>(blocks_ * detail::block_doubles));
        todo_.resize(static_cast<std::size_t>(n_));
        clear_states();
    }

    /// One tick: p[j] for each portfolio, one benchmark value. Throws
    /// std::bad_alloc, with the state unchanged, when the ring cannot grow.
    void update(const double* p, double b) { update(p, b, default_steady); }

    /// As update(p, b), with the steady pass done by `steady`, a callable
    /// std::ptrdiff_t(detail::SteadyTick&) that does what
    /// detail::steady_tick<V> does (the Python extension passes the copy
    /// compiled for the instruction set in use).
    template <class Steady>
    void update(const double* p, double b, const Steady& steady) {
        const bool full = filled_ == w_;
        if (!full) grow(filled_ + 1);  // may throw: before anything changes
        const std::ptrdiff_t slot = slot_;
        const double bo = full ? ring_b_[static_cast<std::size_t>(slot)] : trackerr::detail::nan_v;
        std::ptrdiff_t done = 0, listed = 0;
        if (full && bad_slots_ == 0) {
            // every window full of finite ticks: one pass across the portfolios
            // while the entering values are finite
            const double wd = static_cast<double>(w_);
            const std::ptrdiff_t next = slot + 1 == w_ ? 0 : slot + 1;
            detail::SteadyTick t{soa(), p,  ring_.data() + slot * tile_width_, ring_.data() + next * tile_width_,
                                 tile_, b,  bo, n_, wd, 1.0 / wd, todo_.data(), 0};
            done = steady(t);
            listed = t.todo_count;
        }
        // the rest (all of them unless steady) one by one, each settled
        for (std::ptrdiff_t j = done; j < n_; ++j)
            step(j, p[j], b, full ? ring_[ring_index(slot, j)] : trackerr::detail::nan_v, bo);
        const bool ok = done == n_ || finite_tick(p + done, b, n_ - done);
        store(slot, p, b, ok, full, done);
        for (std::ptrdiff_t k = 0; k < listed; ++k) settle(todo_[static_cast<std::size_t>(k)]);
        for (std::ptrdiff_t j = done; j < n_; ++j) settle(j);
    }

    /// `rows` ticks at once: tick t is p[t * portfolios + j] and b[t]. The
    /// state after them depends only on the last `window` ticks, so a batch at
    /// least a window long forgets the ring and replays just those, the same
    /// steps as a fresh state fed them: O(window) work for any batch length.
    /// Throws (state unchanged) std::invalid_argument when rows x portfolios
    /// overflows and std::bad_alloc when the ring cannot grow.
    void update(const double* p, const double* b, std::ptrdiff_t rows) { update(p, b, rows, default_steady); }

    /// As update(p, b, rows), with the steady pass done by `steady`.
    template <class Steady>
    void update(const double* p, const double* b, std::ptrdiff_t rows, const Steady& steady) {
        detail::check_rows(rows, n_);
        std::ptrdiff_t start = 0;
        if (rows >= w_) {
            grow(w_);
            start = rows - w_;
            const std::int64_t ticks = ticks_ + start;
            reset();
            ticks_ = ticks;
        } else if (filled_ < w_) {
            grow(std::min<std::ptrdiff_t>(w_, filled_ + rows));
        }
        for (std::ptrdiff_t t = start; t < rows; ++t) update(p + t * n_, b[t], steady);
    }

    Readout read(std::ptrdiff_t j) const noexcept {
        const WindowMoments a = active(j);
        const WindowCoMoments c = pair(j);
        const double need = static_cast<double>(o_.min_periods > 0 ? o_.min_periods : w_);
        const trackerr::detail::Emit em(params());
        double va[3], vc[4];
        em.active(a, a.count() >= need && a.n_bad == 0.0, va);
        em.pair(c, c.count() >= need && c.n_bad == 0.0, vc);
        return Readout{va[0], va[1], va[2], vc[0], vc[1], vc[2], vc[3], a.count()};
    }

    /// Forget every tick (the ring keeps its capacity).
    void reset() noexcept {
        ring_b_.clear();
        slot_ok_.clear();
        bad_slots_ = 0;
        clear_states();
        ticks_ = 0;
        filled_ = 0;
        slot_ = 0;
    }
    std::ptrdiff_t window() const noexcept { return w_; }
    std::ptrdiff_t portfolios() const noexcept { return n_; }
    std::int64_t ticks() const noexcept { return ticks_; }
    const Options& options() const noexcept { return o_; }

    /// The checkpoint record (ticks, ring position, states and the ticks in
    /// the ring, the benchmark's value once for each portfolio as format 3
    /// has it); `flags` as for Cumulative::to_bytes.
    std::string to_bytes(std::uint32_t flags = 0) const {
        detail::Writer w(2, flags);
        w.i64(w_);
        w.i64(n_);
        w.i64(ticks_);
        w.i64(slot_);
        detail::write_options(w, o_);
        for (std::ptrdiff_t j = 0; j < n_; ++j) {
            detail::write(w, active(j));
            detail::write(w, pair(j));
        }
        for (std::ptrdiff_t k = 0; k < filled_; ++k)
            for (std::ptrdiff_t j = 0; j < n_; ++j) w.f64(ring_[ring_index(k, j)]);
        for (double v : ring_b_)
            for (std::ptrdiff_t j = 0; j < n_; ++j) w.f64(v);
        return w.take();
    }
    /// Rebuild from to_bytes(). Beyond the checksum, the sizes must match
    /// (the ring holds min(ticks, window) slots), a tick's benchmark value
    /// must be the same for every portfolio, and each state's counts must be
    /// those of the ticks in its ring, so whatever loads is a state that
    /// to_bytes() writes again and from_bytes() reads back.
    static Window from_bytes(const std::string& bytes, std::uint32_t* flags = nullptr) {
        detail::Reader r(bytes, 2, "Window");
        const std::int64_t w = r.i64(), n = r.i64(), ticks = r.i64(), slot = r.i64();
        const Options o = detail::read_options(r);
        // ticks stays far from overflow: a checkpoint claiming more than 2^62 ticks is not ours
        if (w < 2 || n < 1 || n > detail::max_portfolios || w > detail::max_cells / n || ticks < 0 ||
            ticks > (std::int64_t{1} << 62))
            r.fail("corrupted checkpoint (window, n_portfolios or ticks)");
        const std::int64_t filled = ticks < w ? ticks : w;
        if (filled < w ? slot != filled : (slot < 0 || slot >= w))
            r.fail("corrupted checkpoint (ring position does not match ticks)");
        r.check_flags(n);
        // the exact size, checked without overflow before anything is allocated
        // (filled x n <= max_cells, so 16 filled n and 208 n fit in 64 bits)
        const std::uint64_t rest = r.remaining();
        const std::uint64_t cells = static_cast<std::uint64_t>(filled) * static_cast<std::uint64_t>(n);
        const std::uint64_t per_portfolio = (9 + 17) * 8;
        if (static_cast<std::uint64_t>(n) > rest / per_portfolio || cells > rest / 16 ||
            rest != static_cast<std::uint64_t>(n) * per_portfolio + 16 * cells)
            r.fail("corrupted or truncated checkpoint (size does not match window, n_portfolios and ticks)");
        if (o.min_periods > w || static_cast<double>(w) <= o.ddof)
            r.fail("corrupted checkpoint (min_periods or ddof do not fit the window)");
        if (flags) *flags = r.flags();
        Window s(static_cast<std::ptrdiff_t>(w), static_cast<std::ptrdiff_t>(n), o);
        s.ticks_ = ticks;
        s.filled_ = static_cast<std::ptrdiff_t>(filled);
        s.slot_ = static_cast<std::ptrdiff_t>(slot);
        const double cap = static_cast<double>(filled);
        for (std::ptrdiff_t j = 0; j < s.n_; ++j) {
            s.set_active(j, detail::read_moments(r, cap));
            s.set_pair(j, detail::read_comoments(r, cap));
        }
        std::vector<double> held(static_cast<std::size_t>(cells));  // slot by slot, as to_bytes writes them
        for (double& v : held) v = r.f64();
        s.ring_b_.resize(static_cast<std::size_t>(filled));
        for (double& v : s.ring_b_) {
            v = r.f64();
            for (std::int64_t j = 1; j < n; ++j) {
                const double u = r.f64();
                if (std::memcmp(&u, &v, sizeof u) != 0)
                    r.fail("corrupted checkpoint (a tick's benchmark value differs between portfolios)");
            }
        }
        s.grow_ring(s.filled_);
        s.grow_scratch(s.filled_);
        s.slot_ok_.resize(static_cast<std::size_t>(filled));
        for (std::ptrdiff_t k = 0; k < s.filled_; ++k) {
            const double* tick = held.data() + k * s.n_;
            for (std::ptrdiff_t j = 0; j < s.n_; ++j) s.ring_[s.ring_index(k, j)] = tick[j];
            const bool ok = finite_tick(tick, s.ring_b_[static_cast<std::size_t>(k)], s.n_);
            s.slot_ok_[static_cast<std::size_t>(k)] = ok ? 1 : 0;
            if (!ok) ++s.bad_slots_;
        }
        if (!s.consistent_with_ring())
            r.fail("corrupted checkpoint (counts or runs do not match the ticks in the ring)");
        // A state whose run covers its window is exact (settle_constant) after
        // every tick, and the steady tick relies on it: a checkpoint is held
        // to it too (a no-op on any state that update() made).
        for (std::ptrdiff_t j = 0; j < s.n_; ++j) {
            WindowMoments a = s.active(j);
            a.settle_constant();
            s.set_active(j, a);
            WindowCoMoments c = s.pair(j);
            c.settle_constant();
            s.set_pair(j, c);
        }
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
    static std::ptrdiff_t default_steady(detail::SteadyTick& t) noexcept {
        return detail::steady_tick<detail::window_lane_t>(t);
    }
    // The fields' arrays (detail::Field).
    double* soa() noexcept { return soa_.data(); }
    const double* soa() const noexcept { return soa_.data(); }
    static std::ptrdiff_t field_index(int field, std::ptrdiff_t j) noexcept {
        return (j / detail::block) * detail::block_doubles + field * detail::block + j % detail::block;
    }
    double& at(int field, std::ptrdiff_t j) noexcept { return soa()[field_index(field, j)]; }
    double at(int field, std::ptrdiff_t j) const noexcept { return soa()[field_index(field, j)]; }
    // Every state empty: fields as a default WindowMoments / WindowCoMoments
    // (last NaN: no observation yet).
    void clear_states() noexcept {
        std::fill(soa_.begin(), soa_.end(), 0.0);
        for (std::ptrdiff_t j = 0; j < n_; ++j) {
            set_active(j, WindowMoments{});
            set_pair(j, WindowCoMoments{});
        }
    }
    // The structure-of-arrays states as the structs of window.hpp, and back.
    WindowMoments active(std::ptrdiff_t j) const noexcept {
        WindowMoments a;
        a.n = at(detail::f_n_a, j);
        a.n_bad = at(detail::f_bad_a, j);
        a.level = at(detail::f_level, j);
        a.mean = at(detail::f_mean, j);
        a.m2 = at(detail::f_m2, j);
        a.err = at(detail::f_err, j);
        a.err_mean = at(detail::f_err_mean, j);
        a.run = at(detail::f_run, j);
        a.last = at(detail::f_last, j);
        return a;
    }
    void set_active(std::ptrdiff_t j, const WindowMoments& a) noexcept {
        at(detail::f_n_a, j) = a.n;
        at(detail::f_bad_a, j) = a.n_bad;
        at(detail::f_level, j) = a.level;
        at(detail::f_mean, j) = a.mean;
        at(detail::f_m2, j) = a.m2;
        at(detail::f_err, j) = a.err;
        at(detail::f_err_mean, j) = a.err_mean;
        at(detail::f_run, j) = a.run;
        at(detail::f_last, j) = a.last;
    }
    WindowCoMoments pair(std::ptrdiff_t j) const noexcept {
        WindowCoMoments c;
        c.n = at(detail::f_n_c, j);
        c.n_bad = at(detail::f_bad_c, j);
        c.level_p = at(detail::f_level_p, j);
        c.level_b = at(detail::f_level_b, j);
        c.mean_p = at(detail::f_mean_p, j);
        c.mean_b = at(detail::f_mean_b, j);
        c.c_pp = at(detail::f_c_pp, j);
        c.c_bb = at(detail::f_c_bb, j);
        c.c_pb = at(detail::f_c_pb, j);
        c.err_p = at(detail::f_err_p, j);
        c.err_b = at(detail::f_err_b, j);
        c.err_mp = at(detail::f_err_mp, j);
        c.err_mb = at(detail::f_err_mb, j);
        c.run_p = at(detail::f_run_p, j);
        c.run_b = at(detail::f_run_b, j);
        c.last_p = at(detail::f_last_p, j);
        c.last_b = at(detail::f_last_b, j);
        return c;
    }
    void set_pair(std::ptrdiff_t j, const WindowCoMoments& c) noexcept {
        at(detail::f_n_c, j) = c.n;
        at(detail::f_bad_c, j) = c.n_bad;
        at(detail::f_level_p, j) = c.level_p;
        at(detail::f_level_b, j) = c.level_b;
        at(detail::f_mean_p, j) = c.mean_p;
        at(detail::f_mean_b, j) = c.mean_b;
        at(detail::f_c_pp, j) = c.c_pp;
        at(detail::f_c_bb, j) = c.c_bb;
        at(detail::f_c_pb, j) = c.c_pb;
        at(detail::f_err_p, j) = c.err_p;
        at(detail::f_err_b, j) = c.err_b;
        at(detail::f_err_mp, j) = c.err_mp;
        at(detail::f_err_mb, j) = c.err_mb;
        at(detail::f_run_p, j) = c.run_p;
        at(detail::f_run_b, j) = c.run_b;
        at(detail::f_last_p, j) = c.last_p;
        at(detail::f_last_b, j) = c.last_b;
    }
    // True when every value of the tick is finite, p[j] - b included (so the
    // active returns are too).
    static bool finite_tick(const double* p, double b, std::ptrdiff_t count) noexcept {
        bool ok = true;
        for (std::ptrdiff_t j = 0; j < count; ++j) ok &= std::fabs(p[j] - b) <= std::numeric_limits<double>::max();
        return ok;
    }
    // One portfolio's step on a tick that is not steady: the general step of
    // the rolling kernels (whose replace, where it applies, is the steady step).
    void step(std::ptrdiff_t j, double x, double y, double xo, double yo) noexcept {
        WindowMoments a = active(j);
        trackerr::detail::update(a, detail::coded_active(x, y), detail::coded_active(xo, yo));
        set_active(j, a);
        WindowCoMoments c = pair(j);
        trackerr::detail::update(c, x, y, xo, yo);
        set_pair(j, c);
    }
    // The tick into its ring slot (portfolios `from` on: the steady pass
    // wrote the others), and the ring's position forward.
    void store(std::ptrdiff_t slot, const double* p, double b, bool ok, bool full, std::ptrdiff_t from) noexcept {
        for (std::ptrdiff_t j = from; j < n_; ++j) ring_[ring_index(slot, j)] = p[j];
        const auto k = static_cast<std::size_t>(slot);
        ring_b_[k] = b;
        if (full && !slot_ok_[k]) --bad_slots_;
        slot_ok_[k] = ok ? 1 : 0;
        if (!ok) ++bad_slots_;
        ++ticks_;
        if (!full) ++filled_;
        if (++slot_ == w_) slot_ = 0;
    }
    // Room for `slots` slots in the rings, reserved before any state
    // changes; capacity doubles (capped at the window) so growth is
    // amortised O(1) a tick. The rings' sizes follow filled_.
    void grow(std::ptrdiff_t slots) {
        grow_scratch(slots);
        grow_ring(slots);
        const auto s = static_cast<std::size_t>(slots);
        if (ring_b_.capacity() < s) {
            const std::size_t want = std::max(s, std::min(static_cast<std::size_t>(w_), 2 * ring_b_.capacity()));
            ring_b_.reserve(want);
            slot_ok_.reserve(want);
        }
        if (slot_ok_.capacity() < s) slot_ok_.reserve(ring_b_.capacity());
        if (ring_b_.size() < s) {
            ring_b_.resize(s, trackerr::detail::nan_v);
            slot_ok_.resize(s, 1);
        }
    }
    // The ring's tiles: tiles of 8 portfolios (all of them when fewer), slot
    // by slot within a tile, so a tick is one cache line a tile and a
    // portfolio's window (for a rebuild) is contiguous lines.
    std::size_t ring_index(std::ptrdiff_t slot, std::ptrdiff_t j) const noexcept {
        return static_cast<std::size_t>((j / detail::block) * tile_ + slot * tile_width_ + j % detail::block);
    }
    // Room for `slots` slots a tile: the capacity doubles (capped at the
    // window), the slots held so far move to the new tiles. May throw
    // std::bad_alloc before anything changes.
    void grow_ring(std::ptrdiff_t slots) {
        if (ring_cap_ >= slots) return;
        const std::ptrdiff_t cap = std::max(slots, std::min(w_, 2 * ring_cap_));
        std::vector<double> ring(static_cast<std::size_t>(blocks_ * cap * tile_width_), trackerr::detail::nan_v);
        const std::ptrdiff_t tile = cap * tile_width_, held = std::min(filled_, ring_cap_) * tile_width_;
        for (std::ptrdiff_t g = 0; g < blocks_; ++g)
            std::copy(ring_.begin() + g * tile_, ring_.begin() + g * tile_ + held, ring.begin() + g * tile);
        ring_.swap(ring);
        ring_cap_ = cap;
        tile_ = tile;
    }
    // Scratch for a rebuild (one portfolio's window); it only grows, and is
    // sized before any state changes (settle cannot throw).
    void grow_scratch(std::ptrdiff_t slots) {
        const auto s = static_cast<std::size_t>(slots);
        if (col_p_.size() >= s) return;
        const std::size_t want = std::max(s, std::min(static_cast<std::size_t>(w_), 2 * col_p_.size()));
        col_p_.reserve(want);
        col_b_.reserve(want);
        col_p_.resize(want);
        col_b_.resize(want);
    }
    // Value of portfolio j (or the benchmark) at position i (0 = oldest) of the window.
    std::size_t slot_at(std::ptrdiff_t i) const noexcept {
        std::ptrdiff_t s = (filled_ == w_ ? slot_ : 0) + i;
        if (s >= w_) s -= w_;
        return static_cast<std::size_t>(s);
    }
    double p_at(std::ptrdiff_t i, std::ptrdiff_t j) const noexcept {
        return ring_[ring_index(static_cast<std::ptrdiff_t>(slot_at(i)), j)];
    }
    double b_at(std::ptrdiff_t i) const noexcept { return ring_b_[slot_at(i)]; }
    // Constant windows and the guard, rebuilding from the ring when it fires.
    // A rebuild first copies portfolio j's window, oldest first, into
    // contiguous scratch and tries the vectorised two-pass block sums of
    // batch.hpp (the rebuild the rolling kernels make on contiguous data: the
    // sums in lanes, not one long chain of dependent additions); a window
    // holding a missing or non-finite value takes the scalar recompute of
    // window.hpp instead.
    void settle(std::ptrdiff_t j) noexcept {
        bool copied = false;
        const std::ptrdiff_t k = filled_;
        const double* cp = col_p_.data();
        const double* cb = col_b_.data();
        auto copy = [&] {
            if (copied) return;
            for (std::ptrdiff_t i = 0; i < k; ++i) {
                const std::size_t s = slot_at(i);
                col_p_[static_cast<std::size_t>(i)] = ring_[ring_index(static_cast<std::ptrdiff_t>(s), j)];
                col_b_[static_cast<std::size_t>(i)] = ring_b_[s];
            }
            copied = true;
        };
        WindowMoments a = active(j);
        if (!a.settle_constant() && a.needs_recompute()) {
            copy();
            if (!trackerr::detail::block_rebuild(a, cp, cb, k)) {
                a = trackerr::detail::rebuilt(
                    a, [&](std::ptrdiff_t i) { return detail::coded_active(cp[i], cb[i]); }, 0, k);
            }
        }
        set_active(j, a);
        WindowCoMoments c = pair(j);
        if (!c.settle_constant() && c.needs_recompute()) {
            copy();
            if (!trackerr::detail::block_rebuild(c, cp, cb, k)) {
                c = trackerr::detail::rebuilt(
                    c, [&](std::ptrdiff_t i) { return cp[i]; }, [&](std::ptrdiff_t i) { return cb[i]; }, 0, k);
            }
        }
        set_pair(j, c);
    }
    // The counts and runs of each state are those of its ticks in the ring
    // (detail::counts_match).
    bool consistent_with_ring() const noexcept {
        for (std::ptrdiff_t j = 0; j < n_; ++j)
            if (!detail::counts_match(
                    active(j), pair(j), [&](std::ptrdiff_t i) { return p_at(i, j); },
                    [&](std::ptrdiff_t i) { return b_at(i); }, filled_))
                return false;
        return true;
    }

    std::ptrdiff_t w_, n_;
    Options o_;
    std::int64_t ticks_ = 0;
    std::ptrdiff_t filled_ = 0;  // slots of the ring holding ticks: min(ticks since a reset, window)
    std::ptrdiff_t slot_ = 0;    // ring slot of the next tick (== filled_ until the ring is full)
    // The portfolios' ticks in tiles (ring_index): blocks_ tiles of ring_cap_
    // slots of tile_width_ values, tile_ = ring_cap_ x tile_width_ apart.
    std::vector<double> ring_;
    std::ptrdiff_t blocks_ = 0, tile_width_ = 0, ring_cap_ = 0, tile_ = 0;
    std::vector<double> ring_b_;  // the benchmark at slot s
    std::vector<unsigned char> slot_ok_;  // slot s holds only finite values (p, b and p - b)
    std::ptrdiff_t bad_slots_ = 0;        // slots in the ring that do not
    // The states in blocks of 8 portfolios (detail::Field).
    std::vector<double, detail::Aligned<double>> soa_;
    std::vector<std::ptrdiff_t> todo_;  // scratch: portfolios the steady tick lists
    std::vector<double> col_p_, col_b_;     // scratch: one portfolio's window, for a rebuild
};

/// Metrics over a span of time, for `portfolios` portfolios: after a tick at
/// time t the window holds the ticks with times in (t - span, t], the window
/// of pandas' rolling("30D") at its last row. Times are integers in any unit
/// (the Python bindings pass nanoseconds) and must not go back; `span` > 0 is
/// in the same unit. min_periods counts observations (0: the default, 1). A
/// missing pair (NaN on either side) is not an observation; an inf makes the
/// window NaN until it leaves.
///
/// A tick takes, for each portfolio, the steps the time kernel of
/// rolling_time.hpp (detail::rolling_time_rows) takes for one row: the held
/// ticks at or before t - span leave through TimeMoments / TimeCoMoments
/// (the guarded states with compensated sums), an empty window is
/// re-levelled at the entering value, the tick is added, then a constant
/// window is set exactly (TE exactly 0) and, when the guard fires, the state
/// is rebuilt from the window's ticks (the block sums of batch.hpp, or the
/// scalar recompute when the window holds a NaN or inf). The read-outs go
/// through the same detail::Emit, so after T ticks they are what that kernel
/// gives at row T - 1 (the same steps; a kernel free to take its rows in
/// another order, e.g. segments in parallel, agrees to its own rounding).
///
/// The window's ticks are held in a ring (times, portfolio values tick by
/// tick, benchmark values) whose capacity doubles when it fills and halves
/// when it is a quarter full; leaving ticks free their slots, so memory is
/// O(held ticks x portfolios) however long the stream.
class TimeWindow {
public:
    TimeWindow(std::int64_t span, std::ptrdiff_t portfolios = 1, Options o = {})
        : span_(span), n_(portfolios), o_(o) {
        if (span <= 0) throw std::invalid_argument("span (=" + std::to_string(span) + ") must be positive");
        detail::check_portfolios(portfolios);
        detail::check_options(o_);
        s_.resize(static_cast<std::size_t>(n_));
    }

    /// One tick at `time`: p[j] for each portfolio, one benchmark value.
    /// Throws std::invalid_argument when `time` is before the last tick's
    /// and std::bad_alloc when the ring cannot grow; the state is then
    /// unchanged.
    void update(const double* p, double b, std::int64_t time) {
        if (held_ > 0 && time < last_time())
            throw std::invalid_argument("t (=" + std::to_string(time) +
                                        ") is before the last tick's time (=" + std::to_string(last_time()) +
                                        "): ticks must come in time order");
        reserve(held_ - leaving(time) + 1);  // may throw: before anything changes
        step(p, b, time);
        shrink();
    }

    /// `rows` ticks at once: tick t is p[t * portfolios + j], b[t] at
    /// times[t]. Every time is checked first (non-decreasing, none before the
    /// last held tick's); on error (std::invalid_argument, or std::bad_alloc
    /// when the ring cannot grow) the state is unchanged.
    ///
    /// The state after the batch depends only on the ticks in its final
    /// window (times in (times[rows - 1] - span, times[rows - 1]]). When
    /// some of the batch's rows are not in it (so neither is any held tick),
    /// the state is emptied and only the final window's rows are replayed:
    /// O(window) work for any batch length. The result then agrees with
    /// feeding the ticks one by one within the guard's bound (the states'
    /// history differs: their levels and rounding), not bit for bit.
    void update(const double* p, const double* b, const std::int64_t* times, std::ptrdiff_t rows) {
        detail::check_rows(rows, n_);
        check_times(times, rows);
        if (rows == 0) return;
        const std::int64_t end = edge(times[rows - 1]);
        const std::ptrdiff_t first = std::upper_bound(times, times + rows, end) - times;
        if (first > 0) {
            reserve(rows - first);  // may throw: before anything changes
            const std::int64_t ticks = ticks_ + first;
            reset();
            ticks_ = ticks;
        } else {
            if (held_ > detail::max_ptrdiff - rows) throw std::bad_alloc();
            reserve(held_ + rows);  // the most the window can hold during the batch
        }
        for (std::ptrdiff_t t = first; t < rows; ++t) step(p + t * n_, b[t], times[t]);
        shrink();
    }

    /// Throws std::invalid_argument, naming the row and the times, unless
    /// times[0..rows) are non-decreasing and none is before the last held
    /// tick's: the check a batch makes before its first tick.
    void check_times(const std::int64_t* times, std::ptrdiff_t rows) const {
        for (std::ptrdiff_t t = 0; t < rows; ++t) {
            if (t == 0 && held_ > 0 && times[0] < last_time())
                throw std::invalid_argument("times[0] (=" + std::to_string(times[0]) +
                                            ") is before the last tick's time (=" +
                                            std::to_string(last_time()) + "): ticks must come in time order");
            if (t > 0 && times[t] < times[t - 1])
                throw std::invalid_argument("times go back at row " + std::to_string(t) + " (" +
                                            std::to_string(times[t]) + " after " +
                                            std::to_string(times[t - 1]) + "): sort the ticks by time first");
        }
    }

    Readout read(std::ptrdiff_t j) const noexcept {
        const State& s = s_[static_cast<std::size_t>(j)];
        const WindowMoments a = s.a.value();
        const WindowCoMoments c = s.c.value();
        const double need = static_cast<double>(o_.min_periods > 0 ? o_.min_periods : 1);
        const trackerr::detail::Emit em(params());
        double va[3], vc[4];
        em.active(a, a.count() >= need && a.n_bad == 0.0, va);
        em.pair(c, c.count() >= need && c.n_bad == 0.0, vc);
        return Readout{va[0], va[1], va[2], vc[0], vc[1], vc[2], vc[3], a.count()};
    }

    /// Forget every tick and time (the ring keeps its capacity until the
    /// next tick).
    void reset() noexcept {
        for (State& s : s_) s = State{};
        held_ = head_ = 0;
        ticks_ = 0;
    }
    std::int64_t span() const noexcept { return span_; }
    std::ptrdiff_t portfolios() const noexcept { return n_; }
    /// Ticks since construction or reset() (those that left included).
    std::int64_t ticks() const noexcept { return ticks_; }
    /// Ticks in the window now (0 only before the first tick: the last tick
    /// never leaves its own window).
    std::ptrdiff_t held() const noexcept { return held_; }
    /// Ticks the ring has room for now (a power of two, or 0).
    std::ptrdiff_t capacity() const noexcept { return cap_; }
    /// The last tick's time; the lowest int64 before the first tick.
    std::int64_t last_time() const noexcept {
        return held_ > 0 ? times_[slot(held_ - 1)] : std::numeric_limits<std::int64_t>::min();
    }
    const Options& options() const noexcept { return o_; }

    /// The checkpoint record: span, sizes, options, the states (compensation
    /// terms included), then the held ticks' times, portfolio values and
    /// benchmark values, oldest first. `flags` is stored and returned by
    /// from_bytes: bit 0 as for Cumulative::to_bytes; bits 1 and 2 (not
    /// both) are the bindings' (the times came from naive or zone-aware
    /// datetimes); C++ round-trips them and otherwise ignores them.
    std::string to_bytes(std::uint32_t flags = 0) const {
        detail::Writer w(4, flags);
        w.i64(span_);
        w.i64(n_);
        w.i64(ticks_);
        w.i64(held_);
        detail::write_options(w, o_);
        for (const State& s : s_) {
            detail::write(w, s.a.w);
            w.f64(s.a.c);
            detail::write(w, s.c.w);
            w.f64(s.c.cpp);
            w.f64(s.c.cbb);
            w.f64(s.c.cpb);
        }
        for (std::ptrdiff_t i = 0; i < held_; ++i) w.i64(times_[slot(i)]);
        for (std::ptrdiff_t i = 0; i < held_; ++i)
            for (std::ptrdiff_t j = 0; j < n_; ++j) w.f64(p_[slot(i) * static_cast<std::size_t>(n_) + j]);
        for (std::ptrdiff_t i = 0; i < held_; ++i) w.f64(b_[slot(i)]);
        return w.take();
    }
    /// Rebuild from to_bytes(). Beyond the checksum: the sizes must be exact,
    /// the times non-decreasing and all in the last one's window, held ticks
    /// present exactly when ticks were seen, and each state's counts and runs
    /// those of the held ticks (detail::counts_match); otherwise
    /// std::invalid_argument.
    static TimeWindow from_bytes(const std::string& bytes, std::uint32_t* flags = nullptr) {
        detail::Reader r(bytes, 4, "TimeWindow", detail::flag_scalar | flag_naive | flag_aware);
        const std::int64_t span = r.i64(), n = r.i64(), ticks = r.i64(), held = r.i64();
        const Options o = detail::read_options(r);
        if (span <= 0 || n < 1 || n > detail::max_portfolios || ticks < 0 ||
            ticks > (std::int64_t{1} << 62) || held < 0 || held > ticks || (held == 0) != (ticks == 0) ||
            held > detail::max_cells / (n + 2))
            r.fail("corrupted checkpoint (span, n_portfolios, ticks or held ticks)");
        if ((r.flags() & flag_naive) != 0 && (r.flags() & flag_aware) != 0)
            r.fail("corrupted checkpoint (bad flags)");
        r.check_flags(n);
        // the exact size, checked without overflow before anything is allocated
        // (held (n + 2) <= max_cells, so 8 held (n + 2) and 240 n fit in 64 bits)
        const std::uint64_t rest = r.remaining(), un = static_cast<std::uint64_t>(n);
        const std::uint64_t per_portfolio = (10 + 20) * 8, per_tick = 8 * (un + 2);
        if (un > rest / per_portfolio ||
            rest != un * per_portfolio + static_cast<std::uint64_t>(held) * per_tick)
            r.fail("corrupted or truncated checkpoint (size does not match n_portfolios and held ticks)");
        if (flags) *flags = r.flags();
        TimeWindow s(span, static_cast<std::ptrdiff_t>(n), o);
        const double cap = static_cast<double>(held);
        for (State& st : s.s_) {
            st.a.w = detail::read_moments(r, cap);
            st.a.c = r.f64();
            st.c.w = detail::read_comoments(r, cap);
            st.c.cpp = r.f64();
            st.c.cbb = r.f64();
            st.c.cpb = r.f64();
        }
        s.reserve(static_cast<std::ptrdiff_t>(held));
        s.held_ = static_cast<std::ptrdiff_t>(held);
        s.ticks_ = ticks;
        for (std::ptrdiff_t i = 0; i < s.held_; ++i) s.times_[s.slot(i)] = r.i64();
        for (std::ptrdiff_t i = 0; i < s.held_; ++i)
            for (std::ptrdiff_t j = 0; j < s.n_; ++j)
                s.p_[s.slot(i) * static_cast<std::size_t>(s.n_) + j] = r.f64();
        for (std::ptrdiff_t i = 0; i < s.held_; ++i) s.b_[s.slot(i)] = r.f64();
        const std::int64_t last = s.last_time(), low = s.edge(last);
        for (std::ptrdiff_t i = 0; i < s.held_; ++i) {
            const std::int64_t t = s.times_[s.slot(i)];
            // (the newest is the last time itself, in its window even where t - span is clamped)
            if ((i > 0 && t < s.times_[s.slot(i - 1)]) || (i + 1 < s.held_ && t <= low))
                r.fail("corrupted checkpoint (held times out of order or outside the last tick's window)");
        }
        for (std::ptrdiff_t j = 0; j < s.n_; ++j) {
            State& st = s.s_[static_cast<std::size_t>(j)];
            if (!detail::counts_match(
                    st.a.w, st.c.w,
                    [&](std::ptrdiff_t i) { return s.p_[s.slot(i) * static_cast<std::size_t>(s.n_) + j]; },
                    [&](std::ptrdiff_t i) { return s.b_[s.slot(i)]; }, s.held_))
                r.fail("corrupted checkpoint (counts or runs do not match the held ticks)");
            // a constant window is exact after every tick: held to it here too
            // (a no-op on any state that update() made)
            WindowMoments a = st.a.value();
            if (a.settle_constant()) st.a.set(a);
            WindowCoMoments c = st.c.value();
            c.settle_constant();
            st.c.take(c);
        }
        return s;
    }

    /// Checkpoint flags of the bindings: the times came from naive (bit 1)
    /// or zone-aware (bit 2) datetimes.
    static constexpr std::uint32_t flag_naive = 2, flag_aware = 4;

private:
    struct State {
        trackerr::detail::TimeMoments a;    // the active return p - b
        trackerr::detail::TimeCoMoments c;  // the pair (p, b)
    };

    RollingParams params() const noexcept {
        RollingParams prm;
        prm.window = 0;  // read-outs divide by n - ddof (the kernel's window bound changes nothing)
        prm.min_periods = o_.min_periods;
        prm.ddof = o_.ddof;
        prm.periods = o_.periods;
        prm.risk_free = o_.risk_free;
        return prm;
    }
    // The ring's slot of held tick i (0 = oldest); the capacity is a power of two.
    std::size_t slot(std::ptrdiff_t i) const noexcept {
        return static_cast<std::size_t>((head_ + i) & (cap_ - 1));
    }
    // t - span, or the lowest int64 when that would wrap (as the kernel computes it).
    std::int64_t edge(std::int64_t t) const noexcept {
        constexpr std::int64_t lowest = std::numeric_limits<std::int64_t>::min();
        return t < lowest + span_ ? lowest : t - span_;
    }
    // How many held ticks a tick at `time` sends out of the window.
    std::ptrdiff_t leaving(std::int64_t time) const noexcept {
        const std::int64_t e = edge(time);
        std::ptrdiff_t k = 0;
        while (k < held_ && times_[slot(k)] <= e) ++k;
        return k;
    }
    // Room for `ticks` held ticks (and the scratch of a rebuild), before any
    // state changes: the capacity doubles. May throw std::bad_alloc.
    void reserve(std::ptrdiff_t ticks) {
        if (ticks <= cap_) return;
        std::ptrdiff_t cap = std::max<std::ptrdiff_t>(cap_, 4);
        while (cap < ticks) {
            if (cap > detail::max_cells / (n_ + 2) / 2) throw std::bad_alloc();
            cap *= 2;
        }
        move_to(cap);
    }
    // A quarter full: the capacity halves (at least 8 slots). Nothing
    // depends on it, so an allocation the machine refuses leaves it as is.
    void shrink() noexcept {
        if (cap_ <= 8 || held_ * 4 > cap_) return;
        std::ptrdiff_t cap = cap_;
        while (cap > 8 && held_ * 4 <= cap) cap /= 2;
        try {
            move_to(cap);
        } catch (const std::bad_alloc&) {
        }
    }
    // The held ticks, oldest first, into new arrays of `cap` slots.
    void move_to(std::ptrdiff_t cap) {
        const auto c = static_cast<std::size_t>(cap), n = static_cast<std::size_t>(n_);
        std::vector<std::int64_t> times(c);
        std::vector<double> p(c * n), b(c), col_p(c), col_b(c);
        for (std::ptrdiff_t i = 0; i < held_; ++i) {
            const std::size_t k = slot(i), to = static_cast<std::size_t>(i);
            times[to] = times_[k];
            std::copy(p_.begin() + static_cast<std::ptrdiff_t>(k * n),
                      p_.begin() + static_cast<std::ptrdiff_t>((k + 1) * n),
                      p.begin() + static_cast<std::ptrdiff_t>(to * n));
            b[to] = b_[k];
        }
        times_.swap(times);
        p_.swap(p);
        b_.swap(b);
        col_p_.swap(col_p);
        col_b_.swap(col_b);
        cap_ = cap;
        head_ = 0;
    }

    // One tick, with room for it reserved: the kernel's steps for one row
    // (TimeMoments::leave / enter, as rolling_time_rows), portfolio by portfolio.
    void step(const double* p, double b, std::int64_t time) noexcept {
        const std::ptrdiff_t out = leaving(time);
        for (std::ptrdiff_t i = 0; i < out; ++i) {  // oldest first, as the kernel's rows leave
            const std::size_t k = slot(i);
            const double* x = p_.data() + k * static_cast<std::size_t>(n_);
            const double y = b_[k];
            for (std::ptrdiff_t j = 0; j < n_; ++j) {
                State& s = s_[static_cast<std::size_t>(j)];
                s.a.leave(detail::coded_active(x[j], y));  // a NaN on either side never entered
                s.c.leave(x[j], y);
            }
        }
        head_ = static_cast<std::ptrdiff_t>(slot(out));
        held_ -= out;
        const std::size_t k = slot(held_);
        times_[k] = time;
        std::copy(p, p + n_, p_.begin() + static_cast<std::ptrdiff_t>(k * static_cast<std::size_t>(n_)));
        b_[k] = b;
        ++held_;
        ++ticks_;
        for (std::ptrdiff_t j = 0; j < n_; ++j) enter(j, p[j], b);
    }

    // Portfolio j's tick enters its window (held already in the ring), and
    // the window settles: a constant one set exactly, the guard's rebuild.
    void enter(std::ptrdiff_t j, double x, double y) noexcept {
        State& s = s_[static_cast<std::size_t>(j)];
        bool copied = false;
        auto window = [&] {  // portfolio j's window, oldest first, in contiguous scratch
            if (!copied)
                for (std::ptrdiff_t i = 0; i < held_; ++i) {
                    const std::size_t k = slot(i);
                    col_p_[static_cast<std::size_t>(i)] = p_[k * static_cast<std::size_t>(n_) + j];
                    col_b_[static_cast<std::size_t>(i)] = b_[k];
                }
            copied = true;
        };
        const double* cp = col_p_.data();
        const double* cb = col_b_.data();
        const std::ptrdiff_t k = held_;

        const double a = detail::coded_active(x, y);
        s.a.enter(a, [&](WindowMoments& v) {
            window();
            if (!trackerr::detail::block_rebuild(v, cp, cb, k))
                v = trackerr::detail::rebuilt(
                    v, [&](std::ptrdiff_t i) { return detail::coded_active(cp[i], cb[i]); }, 0, k);
        });
        s.c.enter(x, y, [&](WindowCoMoments& u) {
            window();
            if (!trackerr::detail::block_rebuild(u, cp, cb, k))
                u = trackerr::detail::rebuilt(
                    u, [&](std::ptrdiff_t i) { return cp[i]; }, [&](std::ptrdiff_t i) { return cb[i]; }, 0, k);
        });
    }

    std::int64_t span_;
    std::ptrdiff_t n_;
    Options o_;
    std::vector<State> s_;
    std::int64_t ticks_ = 0;
    // The ring: cap_ slots (a power of two, or 0), held_ ticks from slot head_.
    std::ptrdiff_t cap_ = 0, head_ = 0, held_ = 0;
    std::vector<std::int64_t> times_;
    std::vector<double> p_;  // portfolio j of slot k at [k * n_ + j]
    std::vector<double> b_;
    std::vector<double> col_p_, col_b_;  // scratch: one portfolio's window, for a rebuild
};

/// Exponentially weighted metrics: Finch's recurrences (2009), seeded with
/// the first observation and kept relative to it. Each step has a weight
/// alpha_t for the new tick:
///   d = x - mean;  mean += alpha_t d;  S = (1 - alpha_t)(S + alpha_t d^2),
/// (and the same with dx dy for co-moments), with pandas' bias correction
/// from the sum of squared normalised weights W2 (W2 <- (1 - alpha_t)^2 W2 +
/// alpha_t^2): var = S / (1 - W2) for ddof = 1, S for ddof = 0.
///
/// The step weight follows pandas' ewm:
///  - adjust = false: alpha_t = alpha (the recursive form, pandas'
///    adjust=False); with a time scale alpha_t = 1 - 2^(-dt / halflife), dt
///    the time since the previous observation, so a tick at the same time as
///    the previous one gets no weight, as in pandas.
///  - adjust = true (pandas' default): tick i of n weighs (1 - alpha)^(n - i),
///    or 2^(-(t_n - t_i) / halflife) with a time scale, the newest weighing 1.
///    With W_t the sum of these weights, W_t = (1 - alpha) W_{t-1} + 1 (or
///    2^(-dt / halflife) W_{t-1} + 1) and alpha_t = 1 / W_t. Ticks at the same
///    time are one instant: full weight each, nothing decays between them.
/// With a time scale, times must be finite and must not go back; a batch is
/// checked before any of it is applied. A non-finite value keeps a positive
/// weight forever, so it makes the state NaN until reset.
class Exponential {
public:
    /// `alpha` in (0, 1]; or, when `halflife_time` > 0, time-based decay with
    /// that half-life (alpha is then unused and stored as NaN).
    Exponential(double alpha, std::ptrdiff_t portfolios = 1, Options o = {},
                double halflife_time = trackerr::detail::nan_v, bool adjust = true)
        : alpha_(alpha), halflife_(halflife_time), adjust_(adjust), n_(portfolios), o_(o) {
        detail::check_portfolios(portfolios);
        const bool timed = halflife_ == halflife_;
        if (timed && !(halflife_ > 0.0 && std::isfinite(halflife_)))
            throw std::invalid_argument("halflife must be positive and finite");
        if (!timed && !(alpha_ > 0.0 && alpha_ <= 1.0))
            throw std::invalid_argument("alpha must be in (0, 1]");
        if (timed) alpha_ = trackerr::detail::nan_v;
        detail::check_options(o_);
        if (o_.ddof != 0.0 && o_.ddof != 1.0)
            throw std::invalid_argument("ddof must be 0 or 1 for exponential weights");
        s_.resize(static_cast<std::size_t>(n_));
    }

    bool timed() const noexcept { return halflife_ == halflife_; }

    /// One tick (time is required with time-based decay, ignored otherwise).
    /// Throws std::invalid_argument, state unchanged, for a time that is not
    /// finite or earlier than the previous tick's.
    void update(const double* p, double b, double time = trackerr::detail::nan_v) {
        if (timed()) check_time(time, t_now_);
        apply(p, b, time);
    }

    /// Batches at least this long are cut into chunks (see update below).
    static constexpr std::ptrdiff_t chunked_rows = 1024;

    /// `rows` ticks at once (untimed states): tick t is p[t * portfolios + j]
    /// and b[t]. A batch shorter than chunked_rows is the tick loop. A longer
    /// one is cut, for each portfolio, into four chunks of c = rows / 4 ticks
    /// and a tail of rows - 4c ticks: the chunks run as four fresh states side
    /// by side (the lanes of one vector: the recurrence of one stream is
    /// sequential, four streams are not), each bit for bit what update_one
    /// makes of its chunk, and are merged into the state in order (operator+=,
    /// exact up to rounding); the tail is then stepped tick by tick. So the
    /// result equals s += chunk 1 += ... += chunk 4, then the tail's ticks,
    /// whatever the machine; it agrees with the tick loop up to rounding.
    void update(const double* p, const double* b, std::ptrdiff_t rows) {
        if (timed()) throw std::invalid_argument("time-based decay needs the ticks' times");
        detail::check_rows(rows, n_);
        if (rows < chunked_rows) {
            for (std::ptrdiff_t t = 0; t < rows; ++t) apply(p + t * n_, b[t], trackerr::detail::nan_v);
            return;
        }
        for (std::ptrdiff_t j = 0; j < n_; ++j) batch_column(s_[static_cast<std::size_t>(j)], p + j, b, rows);
    }

    /// `rows` ticks with their times (time-based states). Every time is checked
    /// before the first tick is applied: on error the state is unchanged.
    void update(const double* p, const double* b, const double* times, std::ptrdiff_t rows) {
        if (!timed()) throw std::invalid_argument("times are for time-based states (give halflife_time)");
        detail::check_rows(rows, n_);
        double last = t_now_;
        for (std::ptrdiff_t t = 0; t < rows; ++t) {
            check_time(times[t], last);
            last = times[t];
        }
        for (std::ptrdiff_t t = 0; t < rows; ++t) apply(p + t * n_, b[t], times[t]);
    }

    /// Merge: this stream followed by `o`'s ticks, as one pass over both.
    ///
    /// adjust = true: the weights of this stream's ticks decay by delta across
    /// o's (delta = (1 - alpha)^(o's observations), or 2^(-(o's last time -
    /// this last time) / halflife)); o's keep theirs. With u = delta W_this and
    /// v = W_o the weight sums, f = v / (u + v) and D the difference of means,
    ///   mean = mean_this + f D,  S = (1 - f) S_this + f S_o + f (1 - f) D^2,
    ///   W2 = (1 - f)^2 W2_this + f^2 W2_o,  W = u + v
    /// (co-moments alike with D_x D_y).
    ///
    /// adjust = false: over the concatenation the weights of this stream's
    /// ticks decay by kappa, the product of (1 - alpha) over o's ticks, and
    /// o's first tick (its seed, which o alone weighs D = kappa / (1 - alpha_1))
    /// weighs alpha_1 D instead; alpha_1 is the weight o's first tick gets after
    /// this stream's last one. The merged weights are o's plus kappa times
    /// (this stream's minus a unit weight at o's seed), so with mu the merged
    /// mean and m, s the means and seed relative to o's seed level,
    ///   mu = m_o + kappa (m_this - s_o),  S = S_o + (m_o - mu)^2
    ///        + kappa (S_this + (m_this - mu)^2 - (s_o - mu)^2),
    /// likewise for co-moments, and W2 = W2_o - D^2 + (alpha_1 D)^2 + kappa^2 W2_this.
    ///
    /// With time-based decay, o's ticks must not start before this state's
    /// last tick.
    Exponential& operator+=(const Exponential& o) {
        if (o.n_ != n_) throw std::invalid_argument("cannot merge states of different n_portfolios");
        if (!same(o.alpha_, alpha_) || !same(o.halflife_, halflife_) || o.adjust_ != adjust_ ||
            o.o_.ddof != o_.ddof || !same(o.o_.periods, o_.periods) || o.o_.min_periods != o_.min_periods ||
            o.o_.risk_free != o_.risk_free)
            throw std::invalid_argument("cannot merge exponential states with different parameters");
        if (timed() && o.t_first_ < t_now_)
            throw std::invalid_argument("cannot merge: the other state's first tick (t=" + num(o.t_first_) +
                                        ") is earlier than this state's last tick (t=" + num(t_now_) + ")");
        for (std::size_t j = 0; j < s_.size(); ++j) merge(s_[j], o.s_[j]);
        if (t_first_ != t_first_) t_first_ = o.t_first_;
        if (o.t_now_ == o.t_now_) t_now_ = o.t_now_;
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
        t_first_ = t_now_ = trackerr::detail::nan_v;
    }
    std::ptrdiff_t portfolios() const noexcept { return n_; }
    /// The smoothing factor alpha (the weight of a new tick when adjust is
    /// false); NaN for time-based states, whose weights follow the times.
    double smoothing() const noexcept { return alpha_; }
    double halflife() const noexcept { return halflife_; }
    bool adjust() const noexcept { return adjust_; }
    /// The last tick's time (NaN before the first tick, or when untimed).
    double last_time() const noexcept { return t_now_; }
    const Options& options() const noexcept { return o_; }

    /// The checkpoint record; `flags` as for Cumulative::to_bytes.
    std::string to_bytes(std::uint32_t flags = 0) const {
        detail::Writer w(3, flags);
        w.i64(n_);
        w.f64(alpha_);
        w.f64(halflife_);
        w.u32(adjust_ ? 1u : 0u);
        detail::write_options(w, o_);
        w.f64(t_first_);
        w.f64(t_now_);
        for (const State& s : s_)
            for (double v : s.fields()) w.f64(v);
        return w.take();
    }
    static Exponential from_bytes(const std::string& bytes, std::uint32_t* flags = nullptr) {
        detail::Reader r(bytes, 3, "Exponential");
        const std::int64_t n = r.i64();
        const double alpha = r.f64(), halflife = r.f64();
        const std::uint32_t adjust = r.u32();
        const Options o = detail::read_options(r);
        const double t_first = r.f64(), t_now = r.f64();
        constexpr std::size_t per = State::count * 8;
        if (n < 1 || n > detail::max_portfolios || static_cast<std::uint64_t>(n) > r.remaining() / per ||
            r.remaining() != static_cast<std::size_t>(n) * per)
            r.fail("corrupted or truncated checkpoint (size does not match n_portfolios)");
        if (adjust > 1u) r.fail("corrupted checkpoint (bad adjust flag)");
        r.check_flags(n);
        const bool timed = halflife == halflife;
        // times: both NaN (no tick yet, or untimed) or finite and in order
        if (!timed ? (t_first == t_first || t_now == t_now)
                   : ((t_first != t_first) != (t_now != t_now) ||
                      (t_first == t_first && !(std::isfinite(t_first) && std::isfinite(t_now) && t_first <= t_now))))
            r.fail("corrupted checkpoint (times)");
        if (flags) *flags = r.flags();
        try {
            Exponential e(alpha, static_cast<std::ptrdiff_t>(n), o, halflife, adjust == 1u);
            if (timed == false && !same(e.alpha_, alpha)) r.fail("corrupted checkpoint (alpha)");
            e.t_first_ = t_first;
            e.t_now_ = t_now;
            for (State& s : e.s_) {
                double v[State::count];
                for (double& x : v) x = r.f64();
                s.set(v);
                if (!(s.n >= 0.0 && s.n <= 9.007199254740992e15 && s.n == std::floor(s.n)) ||
                    !(s.bad == 0.0 || s.bad == 1.0) || !(s.w2 >= 0.0 && s.w2 <= 1.0) ||
                    (adjust == 1u && s.n > 0.0 && s.bad == 0.0 && !(s.wsum >= 1.0 && std::isfinite(s.wsum))))
                    r.fail("corrupted checkpoint (bad count or weights)");  // W >= 1: the newest tick weighs 1
                if (timed && s.n > 0.0 &&
                    !(s.t_first >= t_first && s.t_first <= s.t_last && s.t_last <= t_now))
                    r.fail("corrupted checkpoint (times)");
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
        static constexpr int count = 16;
        double n = 0.0, bad = 0.0, w2 = 0.0, wsum = 0.0;  // wsum: W, the weight sum (adjust = true)
        double t_first = trackerr::detail::nan_v, t_last = trackerr::detail::nan_v;
        double la = 0.0, ma = 0.0, va = 0.0;                                // active return
        double lp = 0.0, lb = 0.0, mp = 0.0, mb = 0.0, vp = 0.0, vb = 0.0;  // pair
        double cpb = 0.0;
        std::vector<double> fields() const {
            return {n, bad, w2, wsum, t_first, t_last, la, ma, va, lp, lb, mp, mb, vp, vb, cpb};
        }
        void set(const double* v) noexcept {
            double* f[count] = {&n,  &bad, &w2, &wsum, &t_first, &t_last, &la, &ma,
                                &va, &lp,  &lb, &mp,   &mb,      &vp,     &vb, &cpb};
            for (int i = 0; i < count; ++i) *f[i] = v[i];
        }
    };

    static bool same(double a, double b) noexcept { return a == b || (a != a && b != b); }
    // The shortest of %.15g and %.17g that reads back as v (0.1, not 0.10000000000000001).
    static std::string num(double v) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.15g", v);
        if (v == v && std::strtod(buf, nullptr) != v) std::snprintf(buf, sizeof buf, "%.17g", v);
        return buf;
    }
    static void check_time(double time, double previous) {
        if (!std::isfinite(time))
            throw std::invalid_argument("t (=" + num(time) +
                                        ") must be a finite number: time-based decay needs each tick's time");
        if (time < previous)
            throw std::invalid_argument("t (=" + num(time) + ") is earlier than the previous tick's time (=" +
                                        num(previous) + "): ticks must come in time order");
    }

    static constexpr double ln2 = 0.69314718055994530942;

    void apply(const double* p, double b, double time) noexcept {
        for (std::ptrdiff_t j = 0; j < n_; ++j) update_one(s_[static_cast<std::size_t>(j)], p[j], b, time);
        if (timed()) {
            if (t_first_ != t_first_) t_first_ = time;
            t_now_ = time;
        }
    }

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
        if (adjust_)
            merge_adjusted(a, b);
        else
            merge_recursive(a, b);
    }

    void merge_adjusted(State& a, const State& b) const noexcept {
        const double log_delta =
            timed() ? -(b.t_last - a.t_last) * ln2 / halflife_ : b.n * std::log1p(-alpha_);  // -inf at alpha 1
        const double u = std::exp(log_delta) * a.wsum, v = b.wsum, w = u + v;
        const double f = v / w, g = u / w;
        // b's means relative to a's levels, minus a's means
        const double da = ((b.la - a.la) + b.ma) - a.ma;
        const double dp = ((b.lp - a.lp) + b.mp) - a.mp;
        const double db = ((b.lb - a.lb) + b.mb) - a.mb;
        const double fg = f * g;
        a.va = g * a.va + f * b.va + fg * da * da;
        a.vp = g * a.vp + f * b.vp + fg * dp * dp;
        a.vb = g * a.vb + f * b.vb + fg * db * db;
        a.cpb = g * a.cpb + f * b.cpb + fg * dp * db;
        a.ma += f * da;
        a.mp += f * dp;
        a.mb += f * db;
        a.w2 = g * g * a.w2 + f * f * b.w2;
        a.wsum = w;
        a.n += b.n;
        a.t_last = b.t_last;
    }

    void merge_recursive(State& a, const State& b) const noexcept {
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

    // The weight of the new tick at `time` (see the class comment); updates
    // the weight sum W when adjust is true.
    double step_weight(State& s, double time) const noexcept {
        if (!adjust_) {
            if (!timed()) return alpha_;
            const double dt = time - s.t_last;
            return dt > 0.0 ? -std::expm1(-dt * ln2 / halflife_) : 0.0;
        }
        const double keep = timed() ? std::exp(-(time - s.t_last) * ln2 / halflife_) : 1.0 - alpha_;
        s.wsum = keep * s.wsum + 1.0;
        return 1.0 / s.wsum;
    }

    // One portfolio's column of a long batch (x[t * n_], y[t]): four chunks
    // in lanes, merged, then the tail (see update).
    void batch_column(State& s, const double* x, const double* y, std::ptrdiff_t rows) const noexcept {
        const double nan = trackerr::detail::nan_v;
        const std::ptrdiff_t c = rows / 4;
        State part[4];
        chunks_in_lanes(part, x, y, c);
        for (int k = 0; k < 4; ++k) {
            const State& q = part[k];
            const bool finite = std::isfinite(q.la) && std::isfinite(q.ma) && std::isfinite(q.va) &&
                                std::isfinite(q.lp) && std::isfinite(q.lb) && std::isfinite(q.mp) &&
                                std::isfinite(q.mb) && std::isfinite(q.vp) && std::isfinite(q.vb) &&
                                std::isfinite(q.cpb);
            if (!finite) {  // a NaN or inf tick (or an overflow): the chunk's own ticks, one by one
                part[k] = State{};
                for (std::ptrdiff_t t = k * c; t < (k + 1) * c; ++t) update_one(part[k], x[t * n_], y[t], nan);
            }
        }
        for (const State& q : part) merge(s, q);
        for (std::ptrdiff_t t = 4 * c; t < rows; ++t) update_one(s, x[t * n_], y[t], nan);
    }

    // Chunk k (ticks [k c, (k + 1) c)) stepped as a fresh state in lane k:
    // the arithmetic of update_one for finite pairs, lane by lane. The step
    // weights depend only on how many ticks a state has seen, so the four
    // lanes share them. A chunk holding a NaN or inf ends with a non-finite
    // field (NaN and inf propagate through the means), and batch_column then
    // redoes it with update_one.
    void chunks_in_lanes(State* part, const double* x, const double* y, std::ptrdiff_t c) const noexcept {
        // four chunks in G groups of W lanes (all four in one group with AVX);
        // the groups step side by side, so their chains overlap
        using V = detail::chunk_lane_t;
        namespace simd = trackerr::detail::simd;
        constexpr int W = simd::width<V>, G = 4 / W;
        const std::ptrdiff_t sx = n_ * c;  // distance between the chunks' starts in x
        auto lanes = [](auto&& value, int g) {
            V v{};
            for (int l = 0; l < W; ++l) simd::set(v, l, value(g * W + l));
            return v;
        };
        V xv[G], yv[G], la[G], lp[G], lb[G];
        V ma[G] = {}, va[G] = {}, mp[G] = {}, mb[G] = {}, vp[G] = {}, vb[G] = {}, cpb[G] = {};
        for (int g = 0; g < G; ++g) {
            xv[g] = lanes([&](int k) { return x[k * sx]; }, g);
            yv[g] = lanes([&](int k) { return y[k * c]; }, g);
            la[g] = xv[g] - yv[g];  // seeds: the reference levels
            lp[g] = xv[g];
            lb[g] = yv[g];
        }
        double wsum = 1.0, w2 = 1.0;
        const double decay = 1.0 - alpha_;
        // The weights depend on the tick count alone and reach fixed points
        // (wsum' == wsum, then w2' == w2): from there every later tick would
        // compute the same values again, so they are kept (same bits, no
        // division per tick).
        double al = alpha_;
        bool al_fixed = !adjust_, w2_fixed = false;
        for (std::ptrdiff_t i = 1; i < c; ++i) {
            if (!al_fixed) {
                const double ws = decay * wsum + 1.0;
                al_fixed = ws == wsum;
                wsum = ws;
                al = 1.0 / wsum;
            }
            const double keep = 1.0 - al;
            if (!w2_fixed) {
                const double v = keep * keep * w2 + al * al;
                w2_fixed = al_fixed && v == w2;
                w2 = v;
            }
            const V alv = simd::splat<V>(al), kv = simd::splat<V>(keep);
            const double* q = x + i * n_;
            for (int g = 0; g < G; ++g) {
                const V xg = lanes([&](int k) { return q[k * sx]; }, g);
                const V yg = lanes([&](int k) { return y[i + k * c]; }, g);
                const V a = xg - yg;
                const V d = (a - la[g]) - ma[g];
                const V e = alv * d;
                ma[g] = ma[g] + e;
                va[g] = kv * (va[g] + e * d);
                const V dp = (xg - lp[g]) - mp[g], db = (yg - lb[g]) - mb[g];
                const V ep = alv * dp, eb = alv * db;
                mp[g] = mp[g] + ep;
                mb[g] = mb[g] + eb;
                vp[g] = kv * (vp[g] + ep * dp);
                vb[g] = kv * (vb[g] + eb * db);
                cpb[g] = kv * (cpb[g] + ep * db);
            }
        }
        for (int k = 0; k < 4; ++k) {
            const int g = k / W, l = k % W;
            State& st = part[k];
            st.n = static_cast<double>(c);
            st.w2 = w2;
            st.wsum = wsum;
            st.la = simd::get(la[g], l);
            st.lp = simd::get(lp[g], l);
            st.lb = simd::get(lb[g], l);
            st.ma = simd::get(ma[g], l);
            st.va = simd::get(va[g], l);
            st.mp = simd::get(mp[g], l);
            st.mb = simd::get(mb[g], l);
            st.vp = simd::get(vp[g], l);
            st.vb = simd::get(vb[g], l);
            st.cpb = simd::get(cpb[g], l);
        }
    }

    void update_one(State& s, double x, double y, double time) const noexcept {
        if (x != x || y != y) return;  // a missing pair is skipped (pandas' ignore_na=True)
        const double a = detail::coded_active(x, y);
        if (!std::isfinite(a) || !std::isfinite(x) || !std::isfinite(y)) {
            s.bad = 1.0;
            s.n += 1.0;
            if (s.t_first != s.t_first) s.t_first = time;
            s.t_last = time;
            return;
        }
        if (s.n == 0.0) {  // seed: the first observation is the reference level
            s.la = a;
            s.lp = x;
            s.lb = y;
            s.w2 = 1.0;
            s.wsum = 1.0;
            s.t_first = s.t_last = time;
            s.n = 1.0;
            return;
        }
        const double al = step_weight(s, time);
        s.t_last = time;
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
    bool adjust_;
    std::ptrdiff_t n_;
    Options o_;
    double t_first_ = trackerr::detail::nan_v;  // time of the first tick (time-based), NaN before it
    double t_now_ = trackerr::detail::nan_v;    // time of the last tick (time-based)
    std::vector<State> s_;
};

}  // namespace stream
TRACKERR_ISA_END
}  // namespace trackerr
