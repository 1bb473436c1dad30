#include <cstdio>
#include <trackerr/trackerr.hpp>

int main() {
    const double p[] = {0.01, 0.02, -0.01, 0.005}, b[] = {0.012, 0.018, -0.012, 0.004};
    const auto acc = trackerr::active_moments(trackerr::View<double>(p, 4), trackerr::View<double>(b, 4));
    const double te = trackerr::metrics::tracking_error(acc.state, 1.0, 252.0);
    std::printf("tracking error %.6f\n", te);
    return te > 0.0 ? 0 : 1;
}
