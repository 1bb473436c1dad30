// One-definition-rule test, part B (see odr_a.cpp): the headers in the
// opposite order, then the umbrella header.
#include <trackerr/batch.hpp>
#include <trackerr/comoments.hpp>
#include <trackerr/metrics.hpp>
#include <trackerr/panel.hpp>
#include <trackerr/trackerr.hpp>
#include <trackerr/view.hpp>

#include "odr_common.hpp"

double odr_b_summary() {
    return odr::summary();
}
