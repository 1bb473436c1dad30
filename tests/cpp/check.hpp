// A minimal test harness: no framework, just macros that count failures.
//
//   CHECK(cond)                      cond must hold
//   CHECK_EQ(a, b)                   a == b (exact; prints both as long double)
//   CHECK_CLOSE(a, ref, rel)         |a - ref| <= rel * |ref|
//   CHECK_NEAR(a, ref, rel, scale)   |a - ref| <= rel * max(|ref|, scale)
//   CHECK_NAN(x)                     x is NaN
//   CHECK_THROWS(expr, Exception)    expr throws Exception
//
// A failing check prints file:line and the values and the test goes on;
// main() returns check::report("name"), non-zero when any check failed.
#pragma once

#include <cmath>
#include <cstdio>

namespace check {

struct Counters {
    long checks = 0;
    long failures = 0;
};

inline Counters& counters() noexcept {
    static Counters c;
    return c;
}

inline bool record(bool ok, const char* file, int line, const char* what) noexcept {
    ++counters().checks;
    if (!ok) {
        ++counters().failures;
        std::printf("%s:%d: FAILED: %s\n", file, line, what);
    }
    return ok;
}

/// |a - ref| <= rel * max(|ref|, scale), computed in long double; NaN matches
/// NaN only (a NaN on one side only is a failure).
inline bool near(long double a, long double ref, long double rel, long double scale) noexcept {
    if (std::isnan(a) || std::isnan(ref)) return std::isnan(a) && std::isnan(ref);
    if (std::isinf(a) || std::isinf(ref)) return a == ref;
    const long double bound = rel * std::fmax(std::fabs(ref), scale);
    return std::fabs(a - ref) <= bound;
}

inline bool close_check(long double a, long double ref, long double rel, long double scale, const char* file,
                        int line, const char* expr) noexcept {
    const bool ok = near(a, ref, rel, scale);
    if (!record(ok, file, line, expr)) {
        const long double err = std::fabs(a - ref) / std::fmax(std::fabs(ref), scale);
        std::printf("    got %.21Lg\n    ref %.21Lg\n    rel err %.3Lg (allowed %.3Lg)\n", a, ref, err, rel);
    }
    return ok;
}

inline int report(const char* name) noexcept {
    const Counters& c = counters();
    std::printf("%s: %ld checks, %ld failed\n", name, c.checks, c.failures);
    return c.failures == 0 ? 0 : 1;
}

}  // namespace check

#define CHECK(cond) ::check::record(static_cast<bool>(cond), __FILE__, __LINE__, #cond)

#define CHECK_EQ(a, b)                                                                              \
    do {                                                                                            \
        const auto check_a_ = (a);                                                                  \
        const auto check_b_ = (b);                                                                  \
        if (!::check::record(check_a_ == check_b_, __FILE__, __LINE__, #a " == " #b))               \
            std::printf("    lhs %.21Lg\n    rhs %.21Lg\n", static_cast<long double>(check_a_),     \
                        static_cast<long double>(check_b_));                                        \
    } while (0)

#define CHECK_CLOSE(a, ref, rel)                                                                        \
    ::check::close_check(static_cast<long double>(a), static_cast<long double>(ref),                    \
                         static_cast<long double>(rel), 0.0L, __FILE__, __LINE__, #a " ~ " #ref)

#define CHECK_NEAR(a, ref, rel, scale)                                                                  \
    ::check::close_check(static_cast<long double>(a), static_cast<long double>(ref),                    \
                         static_cast<long double>(rel), static_cast<long double>(scale), __FILE__,      \
                         __LINE__, #a " ~ " #ref)

#define CHECK_NAN(x)                                                                                \
    do {                                                                                            \
        const long double check_x_ = static_cast<long double>(x);                                   \
        if (!::check::record(std::isnan(check_x_), __FILE__, __LINE__, "isnan(" #x ")"))            \
            std::printf("    got %.21Lg\n", check_x_);                                              \
    } while (0)

#define CHECK_THROWS(expr, Exception)                                                               \
    do {                                                                                            \
        bool check_thrown_ = false;                                                                 \
        try {                                                                                       \
            static_cast<void>(expr);                                                                \
        } catch (const Exception&) {                                                                \
            check_thrown_ = true;                                                                   \
        } catch (...) {                                                                             \
        }                                                                                           \
        ::check::record(check_thrown_, __FILE__, __LINE__, #expr " throws " #Exception);            \
    } while (0)
