// One-definition-rule test, part A (see odr_b.cpp). Both translation units
// include every header and use every kernel; a function defined in a header
// without `inline` (or a non-inline variable) is then defined twice and the
// link of odr_test fails. main() also checks that both TUs compute the same.
#include <cmath>
#include <cstdio>
#include <trackerr/batch.hpp>
#include <trackerr/comoments.hpp>
#include <trackerr/metrics.hpp>
#include <trackerr/panel.hpp>
#include <trackerr/trackerr.hpp>
#include <trackerr/view.hpp>

#include "odr_common.hpp"

double odr_b_summary();

double odr_a_summary() {
    return odr::summary();
}

int main() {
    const double a = odr_a_summary();
    const double b = odr_b_summary();
    std::printf("odr_test: A %.17g, B %.17g\n", a, b);
    const bool ok = std::isfinite(a) && a == b;
    std::printf("odr_test: %s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
