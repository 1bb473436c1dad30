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
#include <stdexcept>
#include <string>
#include <vector>

#include "rolling.hpp"
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
// before it. Flags bit 0: the state was built for one portfolio fed floats
// (the Python bindings' scalar form; C++ round-trips it and otherwise
// ignores it). Format 3 added the checksum, the flags and Exponential's
// adjust flag; older formats are refused.
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
    Reader(const std::string& bytes, std::uint32_t kind, const char* what) : s_(bytes), what_(what) {
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
        if (flags_ > flag_scalar) fail("corrupted checkpoint (bad flags)");
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

}  // namespace detail

namespace detail {

// Four doubles operated on lane by lane: each operation is the IEEE
// operation of every lane, so a lane computes bit for bit what the scalar
// code computes. With GCC and clang the lanes are two vector-extension
// registers of two doubles (SSE2 on baseline x86-64, wider when the compiler
// may); other compilers get a plain array and the same arithmetic. Mask4
// holds one all-ones or all-zeros word per lane (a comparison's result).
#if defined(__GNUC__) || defined(__clang__)
typedef double v2d __attribute__((vector_size(16)));
typedef long long v2i __attribute__((vector_size(16)));
struct Mask4 {
    v2i lo, hi;
    friend Mask4 operator&(Mask4 a, Mask4 b) noexcept { return {a.lo & b.lo, a.hi & b.hi}; }
    friend Mask4 operator|(Mask4 a, Mask4 b) noexcept { return {a.lo | b.lo, a.hi | b.hi}; }
    Mask4 operator~() const noexcept { return {~lo, ~hi}; }
    bool any() const noexcept {
        const v2i m = lo | hi;
        return (m[0] | m[1]) != 0;
    }
    static Mask4 of(bool a, bool b, bool c, bool d) noexcept {
        return {v2i{-static_cast<long long>(a), -static_cast<long long>(b)},
                v2i{-static_cast<long long>(c), -static_cast<long long>(d)}};
    }
};
struct Mask2 {
    v2i m;
    friend Mask2 operator&(Mask2 a, Mask2 b) noexcept { return {a.m & b.m}; }
    friend Mask2 operator|(Mask2 a, Mask2 b) noexcept { return {a.m | b.m}; }
    Mask2 operator~() const noexcept { return {~m}; }
    bool any() const noexcept { return (m[0] | m[1]) != 0; }
};
// Two doubles: the same interface as Pack4 (`width` lanes at a time).
struct Pack2 {
    static constexpr int width = 2;
    using mask = Mask2;
    v2d v;
    static Pack2 splat(double x) noexcept { return {v2d{x, x}}; }
    static Pack2 of(double a, double b) noexcept { return {v2d{a, b}}; }
    static Pack2 load(const double* p) noexcept {
        v2d x;
        std::memcpy(&x, p, sizeof x);
        return {x};
    }
    void store(double* p) const noexcept { std::memcpy(p, &v, sizeof v); }
    double operator[](int k) const noexcept { return v[k]; }
    friend Pack2 operator+(Pack2 a, Pack2 b) noexcept { return {a.v + b.v}; }
    friend Pack2 operator-(Pack2 a, Pack2 b) noexcept { return {a.v - b.v}; }
    friend Pack2 operator*(Pack2 a, Pack2 b) noexcept { return {a.v * b.v}; }
    friend Mask2 operator==(Pack2 a, Pack2 b) noexcept { return {a.v == b.v}; }
    friend Mask2 operator<=(Pack2 a, Pack2 b) noexcept { return {a.v <= b.v}; }
    friend Mask2 operator>(Pack2 a, Pack2 b) noexcept { return {a.v > b.v}; }
    friend Mask2 operator>=(Pack2 a, Pack2 b) noexcept { return {a.v >= b.v}; }
    friend Pack2 abs(Pack2 a) noexcept {
        const v2i m = {0x7fffffffffffffffLL, 0x7fffffffffffffffLL};
        return {reinterpret_cast<v2d>(reinterpret_cast<v2i>(a.v) & m)};
    }
    friend Pack2 select(Mask2 m, Pack2 a, Pack2 b) noexcept {
        return {reinterpret_cast<v2d>((reinterpret_cast<v2i>(a.v) & m.m) | (reinterpret_cast<v2i>(b.v) & ~m.m))};
    }
};
struct Pack4 {
    static constexpr int width = 4;
    using mask = Mask4;
    v2d lo, hi;
    static Pack4 splat(double x) noexcept { return {v2d{x, x}, v2d{x, x}}; }
    static Pack4 of(double a, double b, double c, double d) noexcept { return {v2d{a, b}, v2d{c, d}}; }
    static Pack4 load(const double* p) noexcept {
        v2d a, b;
        std::memcpy(&a, p, sizeof a);
        std::memcpy(&b, p + 2, sizeof b);
        return {a, b};
    }
    void store(double* p) const noexcept {
        std::memcpy(p, &lo, sizeof lo);
        std::memcpy(p + 2, &hi, sizeof hi);
    }
    double operator[](int k) const noexcept { return k < 2 ? lo[k] : hi[k - 2]; }
    friend Pack4 operator+(Pack4 a, Pack4 b) noexcept { return {a.lo + b.lo, a.hi + b.hi}; }
    friend Pack4 operator-(Pack4 a, Pack4 b) noexcept { return {a.lo - b.lo, a.hi - b.hi}; }
    friend Pack4 operator*(Pack4 a, Pack4 b) noexcept { return {a.lo * b.lo, a.hi * b.hi}; }
    friend Mask4 operator==(Pack4 a, Pack4 b) noexcept { return {a.lo == b.lo, a.hi == b.hi}; }
    friend Mask4 operator<=(Pack4 a, Pack4 b) noexcept { return {a.lo <= b.lo, a.hi <= b.hi}; }
    friend Mask4 operator>(Pack4 a, Pack4 b) noexcept { return {a.lo > b.lo, a.hi > b.hi}; }
    friend Mask4 operator>=(Pack4 a, Pack4 b) noexcept { return {a.lo >= b.lo, a.hi >= b.hi}; }
    /// |x|: the sign bit cleared, as std::fabs.
    friend Pack4 abs(Pack4 a) noexcept {
        const v2i m = {0x7fffffffffffffffLL, 0x7fffffffffffffffLL};
        return {reinterpret_cast<v2d>(reinterpret_cast<v2i>(a.lo) & m),
                reinterpret_cast<v2d>(reinterpret_cast<v2i>(a.hi) & m)};
    }
    /// m ? a : b, lane by lane.
    friend Pack4 select(Mask4 m, Pack4 a, Pack4 b) noexcept {
        return {reinterpret_cast<v2d>((reinterpret_cast<v2i>(a.lo) & m.lo) | (reinterpret_cast<v2i>(b.lo) & ~m.lo)),
                reinterpret_cast<v2d>((reinterpret_cast<v2i>(a.hi) & m.hi) | (reinterpret_cast<v2i>(b.hi) & ~m.hi))};
    }
};
#if defined(__AVX__)
// With AVX (a translation unit compiled for it) four lanes are one register.
typedef double v4d __attribute__((vector_size(32)));
typedef long long v4i __attribute__((vector_size(32)));
struct Mask4w {
    v4i m;
    friend Mask4w operator&(Mask4w a, Mask4w b) noexcept { return {a.m & b.m}; }
    friend Mask4w operator|(Mask4w a, Mask4w b) noexcept { return {a.m | b.m}; }
    Mask4w operator~() const noexcept { return {~m}; }
    bool any() const noexcept { return (m[0] | m[1] | m[2] | m[3]) != 0; }
};
struct Wide4 {
    static constexpr int width = 4;
    using mask = Mask4w;
    v4d v;
    static Wide4 splat(double x) noexcept { return {v4d{x, x, x, x}}; }
    static Wide4 of(double a, double b, double c, double d) noexcept { return {v4d{a, b, c, d}}; }
    static Wide4 load(const double* p) noexcept {
        v4d x;
        std::memcpy(&x, p, sizeof x);
        return {x};
    }
    void store(double* p) const noexcept { std::memcpy(p, &v, sizeof v); }
    double operator[](int k) const noexcept { return v[k]; }
    friend Wide4 operator+(Wide4 a, Wide4 b) noexcept { return {a.v + b.v}; }
    friend Wide4 operator-(Wide4 a, Wide4 b) noexcept { return {a.v - b.v}; }
    friend Wide4 operator*(Wide4 a, Wide4 b) noexcept { return {a.v * b.v}; }
    friend Mask4w operator==(Wide4 a, Wide4 b) noexcept { return {a.v == b.v}; }
    friend Mask4w operator<=(Wide4 a, Wide4 b) noexcept { return {a.v <= b.v}; }
    friend Mask4w operator>(Wide4 a, Wide4 b) noexcept { return {a.v > b.v}; }
    friend Mask4w operator>=(Wide4 a, Wide4 b) noexcept { return {a.v >= b.v}; }
    friend Wide4 abs(Wide4 a) noexcept {
        const v4i m = {0x7fffffffffffffffLL, 0x7fffffffffffffffLL, 0x7fffffffffffffffLL, 0x7fffffffffffffffLL};
        return {reinterpret_cast<v4d>(reinterpret_cast<v4i>(a.v) & m)};
    }
    friend Wide4 select(Mask4w m, Wide4 a, Wide4 b) noexcept {
        return {reinterpret_cast<v4d>((reinterpret_cast<v4i>(a.v) & m.m) | (reinterpret_cast<v4i>(b.v) & ~m.m))};
    }
};
using Lanes4 = Wide4;        // four lanes of the Exponential chunks
using WindowPack = Wide4;    // lanes of Window's steady step
#else
using Lanes4 = Pack4;
using WindowPack = Pack2;
#endif
#else
struct Mask4 {
    bool m[4];
    friend Mask4 operator&(Mask4 a, Mask4 b) noexcept {
        for (int k = 0; k < 4; ++k) a.m[k] = a.m[k] && b.m[k];
        return a;
    }
    friend Mask4 operator|(Mask4 a, Mask4 b) noexcept {
        for (int k = 0; k < 4; ++k) a.m[k] = a.m[k] || b.m[k];
        return a;
    }
    Mask4 operator~() const noexcept { return {{!m[0], !m[1], !m[2], !m[3]}}; }
    bool any() const noexcept { return m[0] || m[1] || m[2] || m[3]; }
    static Mask4 of(bool a, bool b, bool c, bool d) noexcept { return {{a, b, c, d}}; }
};
struct Pack4 {
    static constexpr int width = 4;
    using mask = Mask4;
    double v[4];
    static Pack4 splat(double x) noexcept { return {{x, x, x, x}}; }
    static Pack4 of(double a, double b, double c, double d) noexcept { return {{a, b, c, d}}; }
    static Pack4 load(const double* p) noexcept { return {{p[0], p[1], p[2], p[3]}}; }
    void store(double* p) const noexcept {
        for (int k = 0; k < 4; ++k) p[k] = v[k];
    }
    double operator[](int k) const noexcept { return v[k]; }
#define TRACKERR_PACK4_OP(op)                                                         \
    friend Pack4 operator op(Pack4 a, Pack4 b) noexcept {                             \
        for (int k = 0; k < 4; ++k) a.v[k] = a.v[k] op b.v[k];                        \
        return a;                                                                     \
    }
    TRACKERR_PACK4_OP(+)
    TRACKERR_PACK4_OP(-)
    TRACKERR_PACK4_OP(*)
#undef TRACKERR_PACK4_OP
#define TRACKERR_PACK4_CMP(op)                                                        \
    friend Mask4 operator op(Pack4 a, Pack4 b) noexcept {                             \
        return {{a.v[0] op b.v[0], a.v[1] op b.v[1], a.v[2] op b.v[2], a.v[3] op b.v[3]}}; \
    }
    TRACKERR_PACK4_CMP(==)
    TRACKERR_PACK4_CMP(<=)
    TRACKERR_PACK4_CMP(>)
    TRACKERR_PACK4_CMP(>=)
#undef TRACKERR_PACK4_CMP
    friend Pack4 abs(Pack4 a) noexcept {
        for (int k = 0; k < 4; ++k) a.v[k] = std::fabs(a.v[k]);
        return a;
    }
    friend Pack4 select(Mask4 m, Pack4 a, Pack4 b) noexcept {
        for (int k = 0; k < 4; ++k) a.v[k] = m.m[k] ? a.v[k] : b.v[k];
        return a;
    }
};
using Pack2 = Pack4;  // no vector registers to fit: four lanes at a time
using Lanes4 = Pack4;
using WindowPack = Pack4;
#endif

// Window's states for many portfolios, structure of arrays, four lanes a
// portfolio: lane 4j is portfolio j's active return (a WindowMoments), lanes
// 4j + 1 and 4j + 2 its portfolio and benchmark sides (the two series of a
// WindowCoMoments, whose cross moment C_pb is kept per portfolio), lane
// 4j + 3 is padding (zeros). Each array holds 4 x portfolios doubles.
struct WindowLanes {
    double* level;     // reference level K
    double* mean;      // mean - K
    double* m2;        // M2 (C_pp, C_bb for the pair's sides)
    double* err;       // bound on the rounding accumulated in m2
    double* err_mean;  // bound on the rounding accumulated in mean
    double* run;       // trailing run of equal observations
    double* last;      // the last observation
};

/// One steady tick of `groups` portfolios: each portfolio's window is full
/// (n observations, all finite) and the entering ticks p_new[j], b_new and
/// the leaving ones p_old[j], b_old are finite, as are p - b. Every lane then
/// takes the replace step of window.hpp (WindowMoments::replace for lane 4j,
/// WindowCoMoments::replace for lanes 4j + 1 and 4j + 2), with the same
/// operations in the same order, so each lane's fields are bit for bit those
/// of the scalar step:
///   u = x - K, dx = u_new - u_old, mean' = mean + dx / n,
///   M2' = M2 + dx ((u_new - mean') + (u_old - mean)),
/// and the error bounds of window.hpp, whose term c1 |dx| (|a| + |b|) c2 is
/// 3 |dx| (...) 1 for the active lane and 1.5 |dx| (...) 2 for the pair's
/// sides, as written there (multiplying by 1 and 2 is exact). C_pb gets
///   C_pb' = C_pb + 0.5 (dp (a_b + b_b) + db (a_p + b_p)).
/// A lane whose run of equal values covers the window is then set exactly
/// as settle_constant sets it (K = the value, mean = M2 = err = err_mean =
/// 0, and C_pb = 0 when either side of the pair is constant). attention[j]
/// is set to 1 where portfolio j needs the scalar settle of Window (a lane
/// neither constant nor quiet under the guard of window.hpp: M2 <= 0,
/// err > tol M2 or err_mean^2 n > tol^2 M2; the settle rebuilds it from the
/// ring), else 0; the return value says whether any is set. No allocation,
/// no branches on data.
template <class P>
P lanes_of(const double (&v)[4], int h) noexcept {
    if constexpr (P::width == 2)
        return P::of(v[h], v[h + 1]);
    else
        return P::of(v[0], v[1], v[2], v[3]);
}

template <class P = WindowPack>
bool window_steady_tick(const WindowLanes& s, double* c_pb, const double* p_new, const double* p_old, double b_new,
                        double b_old, std::ptrdiff_t groups, double n, double inv_n,
                        unsigned char* attention) noexcept {
    using M = typename P::mask;
    constexpr int W = P::width;
    constexpr double tol = trackerr::detail::recompute_tol;
    static constexpr double c1s[4] = {3.0, 1.5, 1.5, 0.0}, c2s[4] = {1.0, 2.0, 2.0, 0.0};
    static constexpr double reals[4] = {1.0, 1.0, 1.0, 0.0};  // lane 4j + 3 is padding
    const P zero = P::splat(0.0), one = P::splat(1.0), two = P::splat(2.0);
    const P eps = P::splat(trackerr::detail::eps), inv = P::splat(inv_n), nv = P::splat(n);
    const P tol_v = P::splat(tol), tol2 = P::splat(tol * tol);
    M real[4 / W];
    for (int h = 0; h < 4; h += W) real[h / W] = P::load(reals + h) > zero;
    // the arrays in locals: the stores to attention (bytes, which may alias
    // anything) would otherwise reload them from `s` at every group
    double *const level_p = s.level, *const mean_p = s.mean, *const m2_p = s.m2, *const err_p = s.err;
    double *const err_mean_p = s.err_mean, *const run_p = s.run, *const last_p = s.last;
    bool any = false;
    for (std::ptrdiff_t j = 0; j < groups; ++j) {
        const double xn[4] = {p_new[j] - b_new, p_new[j], b_new, 0.0};
        const double xo[4] = {p_old[j] - b_old, p_old[j], b_old, 0.0};
        double dxs[4], abs_[4];
        bool zero_cpb = false;
        M need = M{};
        for (int h = 0; h < 4; h += W) {
            const std::ptrdiff_t o = 4 * j + h;
            const P x_new = lanes_of<P>(xn, h), x_old = lanes_of<P>(xo, h);
            P level = P::load(level_p + o);
            const P last = P::load(last_p + o);
            P mean = P::load(mean_p + o), m2 = P::load(m2_p + o), err = P::load(err_p + o);
            P err_mean = P::load(err_mean_p + o), run = P::load(run_p + o);
            run = select(x_new == last, run + one, one);  // observe
            const P u_new = x_new - level, u_old = x_old - level;
            const P dx = u_new - u_old;
            const P mean_old = mean;
            mean = mean + dx * inv;
            const P a = u_new - mean, b = u_old - mean_old;
            const P ab = a + b;
            m2 = m2 + dx * ab;
            const P adx = abs(dx);
            err_mean = err_mean + eps * (abs(mean) + adx * inv);
            err = err + (eps * ((P::load(c1s + h) * adx) * (abs(a) + abs(b)) * P::load(c2s + h) + abs(m2)) +
                         (two * adx) * err_mean);
            // settle_constant: a run covering the window is the exact state
            // (rare but for stale prices: a branch, not selects on every tick)
            const M constant = run >= nv;
            if (constant.any()) {
                level = select(constant, x_new, level);
                mean = select(constant, zero, mean);
                m2 = select(constant, zero, m2);
                err = select(constant, zero, err);
                err_mean = select(constant, zero, err_mean);
                double cs[W];
                select(constant, one, zero).store(cs);
                for (int k = 0; k < W; ++k)
                    if ((h + k == 1 || h + k == 2) && cs[k] != 0.0) zero_cpb = true;
            }
            const M quiet = (m2 > zero) & (err <= tol_v * m2) & (err_mean * err_mean * nv <= tol2 * m2);
            need = need | (~(constant | quiet) & real[h / W]);
            dx.store(dxs + h);
            ab.store(abs_ + h);
            level.store(level_p + o);
            x_new.store(last_p + o);
            mean.store(mean_p + o);
            m2.store(m2_p + o);
            err.store(err_p + o);
            err_mean.store(err_mean_p + o);
            run.store(run_p + o);
        }
        const double cpb = c_pb[j] + 0.5 * (dxs[1] * abs_[2] + dxs[2] * abs_[1]);
        c_pb[j] = zero_cpb ? 0.0 : cpb;  // either side constant: C_pb = 0
        const bool flag = need.any();
        attention[j] = flag ? 1 : 0;
        any |= flag;
    }
    return any;
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
/// The states are structures of arrays (detail::WindowLanes: the guarded
/// states of window.hpp, four lanes a portfolio). A steady tick (every
/// window full of finite ticks, the entering and leaving ticks finite) is
/// one pass of detail::window_steady_tick across the portfolios, and only
/// the portfolios it flags (a constant window, or a guard that fires) go
/// through the scalar settle. Any other tick steps each portfolio on its own:
/// the lanes where it is steady, the general step of the rolling kernels
/// (add, remove, non-finite values) elsewhere, then the settle. Each
/// portfolio's state is, bit for bit, what a one-portfolio Window fed its
/// column holds.
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
        const auto lanes = 4 * static_cast<std::size_t>(n_), n = static_cast<std::size_t>(n_);
        for (std::vector<double>* v : {&level_, &mean_, &m2_, &err_, &err_mean_, &run_, &last_})
            v->resize(lanes);
        for (std::vector<double>* v : {&n_a_, &bad_a_, &n_c_, &bad_c_, &c_pb_}) v->resize(n);
        attention_.resize(n);
        clear_states();
    }

    /// One tick: p[j] for each portfolio, one benchmark value. Throws
    /// std::bad_alloc, with the state unchanged, when the ring cannot grow.
    void update(const double* p, double b) {
        const bool full = filled_ == w_;
        if (!full) grow(filled_ + 1);  // may throw: before anything changes
        const std::ptrdiff_t slot = slot_;
        double* rp = ring_p_.data() + slot * n_;
        const double bo = full ? ring_b_[static_cast<std::size_t>(slot)] : trackerr::detail::nan_v;
        const bool ok = finite_tick(p, b);
        if (full && bad_slots_ == 0 && ok) {
            // every window full of finite ticks: one pass across the portfolios
            const double wd = static_cast<double>(w_);
            const bool any =
                detail::window_steady_tick(lanes(), c_pb_.data(), p, rp, b, bo, n_, wd, 1.0 / wd, attention_.data());
            store(slot, p, b, ok, full);
            if (any)
                for (std::ptrdiff_t j = 0; j < n_; ++j)
                    if (attention_[static_cast<std::size_t>(j)]) settle(j);
            return;
        }
        for (std::ptrdiff_t j = 0; j < n_; ++j) step(j, p[j], b, full ? rp[j] : trackerr::detail::nan_v, bo);
        store(slot, p, b, ok, full);
        for (std::ptrdiff_t j = 0; j < n_; ++j) settle(j);
    }

    /// `rows` ticks at once: tick t is p[t * portfolios + j] and b[t]. The
    /// state after them depends only on the last `window` ticks, so a batch at
    /// least a window long forgets the ring and replays just those, the same
    /// steps as a fresh state fed them: O(window) work for any batch length.
    /// Throws (state unchanged) std::invalid_argument when rows x portfolios
    /// overflows and std::bad_alloc when the ring cannot grow.
    void update(const double* p, const double* b, std::ptrdiff_t rows) {
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
        for (std::ptrdiff_t t = start; t < rows; ++t) update(p + t * n_, b[t]);
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
        ring_p_.clear();
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
        for (double v : ring_p_) w.f64(v);
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
        s.ring_p_.resize(static_cast<std::size_t>(cells));
        for (double& v : s.ring_p_) v = r.f64();
        s.ring_b_.resize(static_cast<std::size_t>(filled));
        for (double& v : s.ring_b_) {
            v = r.f64();
            for (std::int64_t j = 1; j < n; ++j) {
                const double u = r.f64();
                if (std::memcmp(&u, &v, sizeof u) != 0)
                    r.fail("corrupted checkpoint (a tick's benchmark value differs between portfolios)");
            }
        }
        s.grow_scratch(s.filled_);
        s.slot_ok_.resize(static_cast<std::size_t>(filled));
        for (std::ptrdiff_t k = 0; k < s.filled_; ++k) {
            const bool ok = s.finite_tick(s.ring_p_.data() + k * s.n_, s.ring_b_[static_cast<std::size_t>(k)]);
            s.slot_ok_[static_cast<std::size_t>(k)] = ok ? 1 : 0;
            if (!ok) ++s.bad_slots_;
        }
        if (!s.consistent_with_ring())
            r.fail("corrupted checkpoint (counts or runs do not match the ticks in the ring)");
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
    detail::WindowLanes lanes() noexcept {
        return {level_.data(), mean_.data(), m2_.data(), err_.data(), err_mean_.data(), run_.data(), last_.data()};
    }
    // Every state empty: lanes as a default WindowMoments (last NaN: no
    // observation yet), the padding lanes zero.
    void clear_states() noexcept {
        for (std::vector<double>* v : {&level_, &mean_, &m2_, &err_, &err_mean_, &run_, &last_, &n_a_, &bad_a_,
                                       &n_c_, &bad_c_, &c_pb_})
            std::fill(v->begin(), v->end(), 0.0);
        for (std::size_t k = 0; k < last_.size(); ++k)
            if (k % 4 != 3) last_[k] = trackerr::detail::nan_v;
    }
    // The structure-of-arrays states as the structs of window.hpp, and back.
    WindowMoments active(std::ptrdiff_t j) const noexcept {
        const auto k = static_cast<std::size_t>(4 * j), i = static_cast<std::size_t>(j);
        WindowMoments a;
        a.n = n_a_[i];
        a.n_bad = bad_a_[i];
        a.level = level_[k];
        a.mean = mean_[k];
        a.m2 = m2_[k];
        a.err = err_[k];
        a.err_mean = err_mean_[k];
        a.run = run_[k];
        a.last = last_[k];
        return a;
    }
    void set_active(std::ptrdiff_t j, const WindowMoments& a) noexcept {
        const auto k = static_cast<std::size_t>(4 * j), i = static_cast<std::size_t>(j);
        n_a_[i] = a.n;
        bad_a_[i] = a.n_bad;
        level_[k] = a.level;
        mean_[k] = a.mean;
        m2_[k] = a.m2;
        err_[k] = a.err;
        err_mean_[k] = a.err_mean;
        run_[k] = a.run;
        last_[k] = a.last;
    }
    WindowCoMoments pair(std::ptrdiff_t j) const noexcept {
        const auto p = static_cast<std::size_t>(4 * j + 1), b = p + 1, i = static_cast<std::size_t>(j);
        WindowCoMoments c;
        c.n = n_c_[i];
        c.n_bad = bad_c_[i];
        c.level_p = level_[p];
        c.level_b = level_[b];
        c.mean_p = mean_[p];
        c.mean_b = mean_[b];
        c.c_pp = m2_[p];
        c.c_bb = m2_[b];
        c.c_pb = c_pb_[i];
        c.err_p = err_[p];
        c.err_b = err_[b];
        c.err_mp = err_mean_[p];
        c.err_mb = err_mean_[b];
        c.run_p = run_[p];
        c.run_b = run_[b];
        c.last_p = last_[p];
        c.last_b = last_[b];
        return c;
    }
    void set_pair(std::ptrdiff_t j, const WindowCoMoments& c) noexcept {
        const auto p = static_cast<std::size_t>(4 * j + 1), b = p + 1, i = static_cast<std::size_t>(j);
        n_c_[i] = c.n;
        bad_c_[i] = c.n_bad;
        level_[p] = c.level_p;
        level_[b] = c.level_b;
        mean_[p] = c.mean_p;
        mean_[b] = c.mean_b;
        m2_[p] = c.c_pp;
        m2_[b] = c.c_bb;
        c_pb_[i] = c.c_pb;
        err_[p] = c.err_p;
        err_[b] = c.err_b;
        err_mean_[p] = c.err_mp;
        err_mean_[b] = c.err_mb;
        run_[p] = c.run_p;
        run_[b] = c.run_b;
        last_[p] = c.last_p;
        last_[b] = c.last_b;
    }
    // True when every value of the tick is finite, p[j] - b included (so the
    // active returns are too).
    bool finite_tick(const double* p, double b) const noexcept {
        bool ok = true;
        for (std::ptrdiff_t j = 0; j < n_; ++j) ok &= std::fabs(p[j] - b) <= std::numeric_limits<double>::max();
        return ok;
    }
    // One portfolio's step on a tick that is not steady for every portfolio:
    // the steady lanes' step where it applies to this portfolio, else the
    // general step of the rolling kernels (whose replace is that same step).
    void step(std::ptrdiff_t j, double x, double y, double xo, double yo) noexcept {
        const double wd = static_cast<double>(w_);
        const auto i = static_cast<std::size_t>(j);
        if (n_a_[i] == wd && bad_a_[i] == 0.0 && n_c_[i] == wd && bad_c_[i] == 0.0 &&
            std::fabs(x - y) <= std::numeric_limits<double>::max() &&
            std::fabs(xo - yo) <= std::numeric_limits<double>::max()) {
            const detail::WindowLanes all = lanes();
            const detail::WindowLanes one{all.level + 4 * j, all.mean + 4 * j,     all.m2 + 4 * j,  all.err + 4 * j,
                                          all.err_mean + 4 * j, all.run + 4 * j, all.last + 4 * j};
            detail::window_steady_tick(one, c_pb_.data() + j, &x, &xo, y, yo, 1, wd, 1.0 / wd,
                                       attention_.data() + j);
            return;
        }
        WindowMoments a = active(j);
        trackerr::detail::update(a, detail::coded_active(x, y), detail::coded_active(xo, yo));
        set_active(j, a);
        WindowCoMoments c = pair(j);
        trackerr::detail::update(c, x, y, xo, yo);
        set_pair(j, c);
    }
    // The tick into its ring slot, and the ring's position forward.
    void store(std::ptrdiff_t slot, const double* p, double b, bool ok, bool full) noexcept {
        double* rp = ring_p_.data() + slot * n_;
        for (std::ptrdiff_t j = 0; j < n_; ++j) rp[j] = p[j];  // one or a few: no library call
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
        const auto s = static_cast<std::size_t>(slots);
        const auto need = s * static_cast<std::size_t>(n_);
        const auto cap = static_cast<std::size_t>(w_) * static_cast<std::size_t>(n_);
        if (ring_p_.capacity() < need) ring_p_.reserve(std::max(need, std::min(cap, 2 * ring_p_.capacity())));
        if (ring_b_.capacity() < s) {
            const std::size_t want = std::max(s, std::min(static_cast<std::size_t>(w_), 2 * ring_b_.capacity()));
            ring_b_.reserve(want);
            slot_ok_.reserve(want);
        }
        if (slot_ok_.capacity() < s) slot_ok_.reserve(ring_b_.capacity());
        if (ring_p_.size() < need) ring_p_.resize(need, trackerr::detail::nan_v);  // within capacity: cannot throw
        if (ring_b_.size() < s) {
            ring_b_.resize(s, trackerr::detail::nan_v);
            slot_ok_.resize(s, 1);
        }
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
        return ring_p_[slot_at(i) * static_cast<std::size_t>(n_) + static_cast<std::size_t>(j)];
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
                col_p_[static_cast<std::size_t>(i)] = ring_p_[s * static_cast<std::size_t>(n_) + static_cast<std::size_t>(j)];
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
    // The counts of each state are those of its ticks in the ring: a pair
    // with a NaN is missing; the active state counts a non-finite p - b as
    // bad, the pair state a non-finite p or b. The equal-value runs (which
    // let a constant window read exactly 0) must match the ring's trailing
    // run when the ring holds other values too, and the last value seen must
    // be the ring's newest: a forged run cannot make a varying window read
    // as constant.
    bool consistent_with_ring() const noexcept {
        struct Run {  // trailing run of equal values, and how many were seen
            double last = trackerr::detail::nan_v, run = 0.0, seen = 0.0;
            void see(double x) noexcept {
                run = (x == last) ? run + 1.0 : 1.0;
                last = x;
                seen += 1.0;
            }
            bool matches(double last_, double run_) const noexcept {
                if (seen == 0.0) return true;  // nothing left in the window to compare with
                if (!(last_ == last)) return false;
                return run < seen ? run_ == run : run_ >= run;
            }
        };
        for (std::ptrdiff_t j = 0; j < n_; ++j) {
            double an = 0.0, abad = 0.0, cn = 0.0, cbad = 0.0;
            Run ra, rp, rb;
            for (std::ptrdiff_t i = 0; i < filled_; ++i) {
                const double x = p_at(i, j), y = b_at(i);
                if (x != x || y != y) continue;
                const double coded = detail::coded_active(x, y);
                (std::isfinite(coded) ? an : abad) += 1.0;
                (std::isfinite(x) && std::isfinite(y) ? cn : cbad) += 1.0;
                ra.see(coded);
                rp.see(x);
                rb.see(y);
            }
            const WindowMoments a = active(j);
            const WindowCoMoments c = pair(j);
            if (a.n != an || a.n_bad != abad || c.n != cn || c.n_bad != cbad) return false;
            if (!ra.matches(a.last, a.run) || !rp.matches(c.last_p, c.run_p) || !rb.matches(c.last_b, c.run_b))
                return false;
        }
        return true;
    }

    std::ptrdiff_t w_, n_;
    Options o_;
    std::int64_t ticks_ = 0;
    std::ptrdiff_t filled_ = 0;  // slots of the ring holding ticks: min(ticks since a reset, window)
    std::ptrdiff_t slot_ = 0;    // ring slot of the next tick (== filled_ until the ring is full)
    std::vector<double> ring_p_;  // slot-major: portfolio j at slot s is [s * n + j]
    std::vector<double> ring_b_;  // the benchmark at slot s
    std::vector<unsigned char> slot_ok_;  // slot s holds only finite values (p, b and p - b)
    std::ptrdiff_t bad_slots_ = 0;        // slots in the ring that do not
    // The states (detail::WindowLanes: 4 lanes a portfolio) and, per
    // portfolio, the counts of the active and pair states and C_pb.
    std::vector<double> level_, mean_, m2_, err_, err_mean_, run_, last_;
    std::vector<double> n_a_, bad_a_, n_c_, bad_c_, c_pb_;
    std::vector<unsigned char> attention_;  // scratch: portfolios the steady tick flags
    std::vector<double> col_p_, col_b_;     // scratch: one portfolio's window, for a rebuild
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
        using Pack4 = detail::Lanes4;
        const std::ptrdiff_t sx = n_ * c;  // distance between the chunks' starts in x
        auto px = [&](std::ptrdiff_t i) {
            const double* q = x + i * n_;
            return Pack4::of(q[0], q[sx], q[2 * sx], q[3 * sx]);
        };
        auto py = [&](std::ptrdiff_t i) { return Pack4::of(y[i], y[i + c], y[i + 2 * c], y[i + 3 * c]); };
        Pack4 xv = px(0), yv = py(0);
        const Pack4 la = xv - yv, lp = xv, lb = yv;  // seeds: the reference levels
        const Pack4 zero = Pack4::splat(0.0);
        Pack4 ma = zero, va = zero, mp = zero, mb = zero, vp = zero, vb = zero, cpb = zero;
        double wsum = 1.0, w2 = 1.0;
        const double decay = 1.0 - alpha_;
        for (std::ptrdiff_t i = 1; i < c; ++i) {
            double al = alpha_;
            if (adjust_) {
                wsum = decay * wsum + 1.0;
                al = 1.0 / wsum;
            }
            const double keep = 1.0 - al;
            w2 = keep * keep * w2 + al * al;
            const Pack4 alv = Pack4::splat(al), kv = Pack4::splat(keep);
            xv = px(i);
            yv = py(i);
            const Pack4 a = xv - yv;
            const Pack4 d = (a - la) - ma;
            const Pack4 e = alv * d;
            ma = ma + e;
            va = kv * (va + e * d);
            const Pack4 dp = (xv - lp) - mp, db = (yv - lb) - mb;
            const Pack4 ep = alv * dp, eb = alv * db;
            mp = mp + ep;
            mb = mb + eb;
            vp = kv * (vp + ep * dp);
            vb = kv * (vb + eb * db);
            cpb = kv * (cpb + ep * db);
        }
        for (int k = 0; k < 4; ++k) {
            State& q = part[k];
            q.n = static_cast<double>(c);
            q.w2 = w2;
            q.wsum = wsum;
            q.la = la[k];
            q.lp = lp[k];
            q.lb = lb[k];
            q.ma = ma[k];
            q.va = va[k];
            q.mp = mp[k];
            q.mb = mb[k];
            q.vp = vp[k];
            q.vb = vb[k];
            q.cpb = cpb[k];
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
