// Plain decimal numbers from text, for the price-file reader.
//
// A price file is read one consistent way (python/trackerr/_reader.py): a cell
// is a plain decimal number, an empty cell, or something the reader judges on
// its own (currency symbols, missing-value marks, errors naming the line).
// This reads the plain decimals: an optional sign, ASCII digits with at most
// one point, an optional exponent, and nothing else (no spaces, no '_', no
// "inf" or "nan", no hex), the grammar of the reader's _NUMBER. The value is
// correctly rounded (std::from_chars), as Python's float() gives it.
#pragma once

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <string>
#include <system_error>

#include "isa.hpp"

namespace trackerr {
TRACKERR_ISA_BEGIN
namespace detail {

/// The whole of [s, s + n) matches [+-]?(d+(.d*)?|.d+)([eE][+-]?d+)?.
inline bool is_plain_decimal(const char* s, std::size_t n) noexcept {
    const auto digit = [](char c) { return c >= '0' && c <= '9'; };
    std::size_t i = 0;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    std::size_t digits = 0;
    for (; i < n && digit(s[i]); ++i) ++digits;
    if (i < n && s[i] == '.') {
        for (++i; i < n && digit(s[i]); ++i) ++digits;
    }
    if (digits == 0) return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
        std::size_t exponent = 0;
        for (; i < n && digit(s[i]); ++i) ++exponent;
        if (exponent == 0) return false;
    }
    return i == n;
}

/// Reads [s, s + n) into `out` when it is a plain decimal whose value is a
/// finite double that does not underflow; false otherwise (out untouched).
/// Values past the double range (1e999) or below its smallest subnormal
/// (1e-999) are refused rather than rounded to inf or 0: the caller decides.
inline bool parse_plain_decimal(const char* s, std::size_t n, double& out) noexcept {
    if (!is_plain_decimal(s, n)) return false;
    const char* first = (s[0] == '+') ? s + 1 : s;  // from_chars takes no '+'
    double v = 0.0;
#if defined(__cpp_lib_to_chars) && __cpp_lib_to_chars >= 201611L && !defined(TRACKERR_DECIMAL_STRTOD)
    const auto [end, ec] = std::from_chars(first, s + n, v);
    if (ec != std::errc() || end != s + n || !std::isfinite(v)) return false;
#else
    // Standard libraries without a floating-point from_chars (before GCC 11,
    // libc++ 17): strtod, also correctly rounded in glibc and Apple's libc,
    // on a copy (it needs a terminator). ERANGE marks overflow and underflow,
    // also to a subnormal, which from_chars keeps: only 0 and inf are refused.
    // strtod reads the locale's decimal point: a process that changed
    // LC_NUMERIC from "C" must not call this. (TRACKERR_DECIMAL_STRTOD forces
    // this path, for its test.)
    const std::string copy(first, static_cast<std::size_t>(s + n - first));
    char* end = nullptr;
    errno = 0;
    v = std::strtod(copy.c_str(), &end);
    if (end != copy.c_str() + copy.size() || !std::isfinite(v)) return false;
    if (errno == ERANGE && v == 0.0) return false;
#endif
    out = v;
    return true;
}

}  // namespace detail
TRACKERR_ISA_END
}  // namespace trackerr
