// Reference results computed independently of the library: long double,
// two passes (mean first, then centred sums), pairs with a NaN skipped.
//
// The sums run on values shifted by the first valid value (x - x0 is exact
// for data of similar magnitude). Without the shift, the long double mean of
// 1e5 values at level 1e9 is off by ~1e-8 and, with noise 1e-4, the
// "reference" variance by (1e-8 / 1e-4)^2 = 1e-8 relative: the reference,
// not the library, would fail the large-level checks.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace ref {

struct Active {
    long double n = 0, mean = 0, m2 = 0;
    std::int64_t skipped = 0;
};

struct Pair {
    long double n = 0, mean_p = 0, mean_b = 0, c_pp = 0, c_bb = 0, c_pb = 0;
    std::int64_t skipped = 0;
};

struct Prod {
    long double n = 0, g_p = 1, g_b = 1;
    std::int64_t skipped = 0;
};

template <class TP, class TB>
bool valid(TP p, TB b) {
    return !std::isnan(static_cast<long double>(p)) && !std::isnan(static_cast<long double>(b));
}

/// Moments of a = p - b. The subtraction is done in long double; it is exact
/// for double inputs of similar magnitude, and in any case at least as
/// accurate as the library's double subtraction.
template <class TP, class TB>
Active active(const std::vector<TP>& p, const std::vector<TB>& b) {
    Active r;
    const auto a = [&](std::size_t i) { return static_cast<long double>(p[i]) - static_cast<long double>(b[i]); };
    long double a0 = 0, s = 0;
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (!valid(p[i], b[i])) {
            ++r.skipped;
            continue;
        }
        if (r.n == 0) a0 = a(i);
        r.n += 1;
        s += a(i) - a0;
    }
    if (r.n == 0) return r;
    const long double shifted_mean = s / r.n;
    r.mean = a0 + shifted_mean;
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (!valid(p[i], b[i])) continue;
        const long double d = (a(i) - a0) - shifted_mean;
        r.m2 += d * d;
    }
    return r;
}

template <class TP, class TB>
Pair pair(const std::vector<TP>& p, const std::vector<TB>& b) {
    Pair r;
    long double p0 = 0, b0 = 0, sp = 0, sb = 0;
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (!valid(p[i], b[i])) {
            ++r.skipped;
            continue;
        }
        if (r.n == 0) {
            p0 = static_cast<long double>(p[i]);
            b0 = static_cast<long double>(b[i]);
        }
        r.n += 1;
        sp += static_cast<long double>(p[i]) - p0;
        sb += static_cast<long double>(b[i]) - b0;
    }
    if (r.n == 0) return r;
    const long double shifted_p = sp / r.n, shifted_b = sb / r.n;
    r.mean_p = p0 + shifted_p;
    r.mean_b = b0 + shifted_b;
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (!valid(p[i], b[i])) continue;
        const long double dp = (static_cast<long double>(p[i]) - p0) - shifted_p;
        const long double db = (static_cast<long double>(b[i]) - b0) - shifted_b;
        r.c_pp += dp * dp;
        r.c_bb += db * db;
        r.c_pb += dp * db;
    }
    return r;
}

template <class TP, class TB>
Prod prod(const std::vector<TP>& p, const std::vector<TB>& b) {
    Prod r;
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (!valid(p[i], b[i])) {
            ++r.skipped;
            continue;
        }
        r.n += 1;
        r.g_p *= 1.0L + static_cast<long double>(p[i]);
        r.g_b *= 1.0L + static_cast<long double>(b[i]);
    }
    return r;
}

/// n return-like values: mean `mu`, standard deviation `sigma`, deterministic.
template <class T>
std::vector<T> returns(std::size_t n, std::uint64_t seed, double mu = 1e-3, double sigma = 1e-2) {
    std::mt19937_64 gen(seed);
    std::normal_distribution<double> dist(mu, sigma);
    std::vector<T> v(n);
    for (auto& x : v) x = static_cast<T>(dist(gen));
    return v;
}

}  // namespace ref
