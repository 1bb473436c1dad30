// An example of trackerr in a C++ monitoring service: ticks arrive one at a
// time for several portfolios against one benchmark; a fixed-window state
// keeps the annualized tracking error of each, and the loop raises an alert
// when it crosses a limit and a recovery when it falls back below a lower
// level (hysteresis), checkpointing the state now and then.
//
// Built with the C++ tests; run as a test (it checks its own output).
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <trackerr/trackerr.hpp>
#include <vector>

int main() {
    constexpr std::ptrdiff_t portfolios = 3, window = 63;
    constexpr double limit = 0.05, clear_below = 0.04;  // 5 % a year, recovering under 4 %
    trackerr::stream::Options options;
    options.periods = 252.0;
    trackerr::stream::Window state(window, portfolios, options);

    std::mt19937_64 rng(7);
    std::normal_distribution<double> noise(0.0, 1.0);
    std::vector<bool> breached(portfolios, false);
    std::vector<double> tick(portfolios);
    int breaches = 0, recoveries = 0;
    std::string checkpoint;
    for (int t = 0; t < 2000; ++t) {
        const double b = 0.01 * noise(rng);
        for (std::ptrdiff_t j = 0; j < portfolios; ++j) {
            // portfolio 2 drifts away from its benchmark between ticks 800 and 1200
            const double slip = (j == 2 && t > 800 && t < 1200) ? 0.006 : 0.001;
            tick[j] = b + slip * noise(rng);
        }
        state.update(tick.data(), b);
        for (std::ptrdiff_t j = 0; j < portfolios; ++j) {
            const double te = state.read(j).tracking_error;
            if (!breached[j] && te > limit) {
                breached[j] = true;
                ++breaches;
                std::printf("tick %d: portfolio %td breaches, TE %.2f%%\n", t, j, 100 * te);
            } else if (breached[j] && te < clear_below) {
                breached[j] = false;
                ++recoveries;
                std::printf("tick %d: portfolio %td recovers, TE %.2f%%\n", t, j, 100 * te);
            }
        }
        if (t % 500 == 499) checkpoint = state.to_bytes();  // e.g. written to disk
    }
    // a restarted service resumes from its checkpoint
    const trackerr::stream::Window restored = trackerr::stream::Window::from_bytes(checkpoint);
    const bool ok =
        breaches == 1 && recoveries == 1 && restored.ticks() == 2000 && !breached[0] && !breached[2];
    std::printf("%d breach(es), %d recovery(ies), checkpoint of %zu bytes: %s\n", breaches, recoveries,
                checkpoint.size(), ok ? "ok" : "UNEXPECTED");
    return ok ? 0 : 1;
}
