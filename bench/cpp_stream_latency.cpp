// C++ per-tick latency of the streaming states (issue 4's "C++ update" figure).
// Not part of the pytest suite; build and run by hand:
//   g++ -std=c++17 -O3 -ffp-contract=off -fno-math-errno -Icpp/include \
//       bench/cpp_stream_latency.cpp -o /tmp/stream_latency && /tmp/stream_latency
// Reports the best of five runs of 5e6 ticks (ns per tick; machines are noisy).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <trackerr/trackerr.hpp>
#include <vector>

int main() {
    std::mt19937_64 g(1);
    std::normal_distribution<double> noise(0.0, 0.01);
    const long n = 5000000;
    std::vector<double> p(n), b(n);
    for (long i = 0; i < n; ++i) {
        b[i] = noise(g);
        p[i] = b[i] + 0.2 * noise(g);
    }
    auto best_of = [&](auto&& make, const char* name) {
        double best = 1e300, sink = 0.0;
        for (int r = 0; r < 5; ++r) {
            auto state = make();
            const auto t0 = std::chrono::steady_clock::now();
            for (long i = 0; i < n; ++i) state.update(&p[i], b[i]);
            const auto t1 = std::chrono::steady_clock::now();
            best = std::min(best, std::chrono::duration<double>(t1 - t0).count());
            sink += state.read(0).count;
        }
        std::printf("%-14s %6.1f ns/tick (checksum %g)\n", name, best / n * 1e9, sink);
    };
    best_of([] { return trackerr::stream::Window(252); }, "Window(252)");
    best_of([] { return trackerr::stream::Cumulative(); }, "Cumulative");
    best_of([] { return trackerr::stream::Exponential(0.05); }, "Exponential");
    return 0;
}
