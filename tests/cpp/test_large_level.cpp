// KNOWN ISSUE (registered in CTest but disabled unless
// -DTRACKERR_TEST_KNOWN_ISSUES=ON): accuracy at a large level.
//
// batch.hpp promises that rounding error does not depend on the level of the
// data ("a series of 1e7 values at level 1e9 keeps its variance to about
// 1e-15 relative"). That holds within one block, but block states store their
// mean as a double, rounded to ulp(level) / 2 ~ 6e-8 at level 1e9, and Chan's
// merge term delta^2 n_a n_b / n amplifies that rounding: the relative error
// of the merged M2 is about ulp(level) / (sqrt(block) * sigma), i.e. ~1e-6
// for noise sigma = 1e-4 -- independent of the kernel's two-pass care.
// The same holds for the panel's row-wise tiles (32 rows) and for
// Moments/CoMoments::operator+= in general.
//
// This test asks for what the brief asks: variance at level 1e9 with noise
// 1e-4 to 1e-9 relative of a long double two-pass reference.
#include <trackerr/batch.hpp>
#include <trackerr/panel.hpp>

#include <cstddef>
#include <cstdio>
#include <vector>

#include "check.hpp"
#include "reference.hpp"

using trackerr::Panel;
using trackerr::View;

namespace {

constexpr double level = 1e9;
constexpr double noise = 1e-4;
constexpr double rel = 1e-9;

void one_d(std::size_t n) {
    const auto p = ref::returns<double>(n, 41, level, noise);
    const auto q = ref::returns<double>(n, 42, level, noise);
    const std::vector<double> zero(n, 0.0);
    const std::ptrdiff_t ni = static_cast<std::ptrdiff_t>(n);

    const ref::Active ra = ref::active(p, zero);
    const auto a = trackerr::active_moments(View<double>(p.data(), ni), View<double>(zero.data(), ni));
    CHECK_CLOSE(a.state.m2, ra.m2, rel);

    const ref::Pair rc = ref::pair(p, q);
    const auto c = trackerr::comoments(View<double>(p.data(), ni), View<double>(q.data(), ni));
    CHECK_CLOSE(c.state.c_pp, rc.c_pp, rel);
    CHECK_CLOSE(c.state.c_bb, rc.c_bb, rel);

    std::printf("1-D  n=%-8zu variance rel err: active_moments %.3Le, comoments c_pp %.3Le c_bb %.3Le\n", n,
                std::fabs(a.state.m2 - ra.m2) / ra.m2, std::fabs(c.state.c_pp - rc.c_pp) / rc.c_pp,
                std::fabs(c.state.c_bb - rc.c_bb) / rc.c_bb);
}

void panel_rowwise() {
    const std::ptrdiff_t T = 1000, N = 130;
    const auto x = ref::returns<double>(static_cast<std::size_t>(T * N), 43, level, noise);  // C order
    const std::vector<double> zero(static_cast<std::size_t>(T), 0.0);
    const Panel<double> p(x.data(), T, N, N * 8, 8);
    std::vector<trackerr::Accumulated<trackerr::Moments>> out(static_cast<std::size_t>(N));
    trackerr::active_moments(p, trackerr::broadcast(View<double>(zero.data(), T), N), out.data());
    long double worst = 0;
    for (std::ptrdiff_t j = 0; j < N; ++j) {
        std::vector<double> col(static_cast<std::size_t>(T));
        for (std::ptrdiff_t r = 0; r < T; ++r) col[static_cast<std::size_t>(r)] = x[static_cast<std::size_t>(r * N + j)];
        const ref::Active ra = ref::active(col, zero);
        CHECK_CLOSE(out[static_cast<std::size_t>(j)].state.m2, ra.m2, rel);
        worst = std::fmax(worst, std::fabs(out[static_cast<std::size_t>(j)].state.m2 - ra.m2) / ra.m2);
    }
    std::printf("panel C order T=%td N=%td: worst column variance rel err %.3Le\n", T, N, worst);
}

void merge_halves() {
    const auto x = ref::returns<double>(512, 44, level, noise);
    const std::vector<double> zero(512, 0.0);
    trackerr::Moments a, b;
    for (std::size_t i = 0; i < 256; ++i) a.add(x[i]);
    for (std::size_t i = 256; i < 512; ++i) b.add(x[i]);
    a += b;
    const ref::Active ra = ref::active(x, zero);
    CHECK_CLOSE(a.m2, ra.m2, rel);
    std::printf("Moments add + merge n=512: variance rel err %.3Le\n", std::fabs(a.m2 - ra.m2) / ra.m2);
}

}  // namespace

int main() {
    for (std::size_t n : {std::size_t{256}, std::size_t{512}, std::size_t{100000}, std::size_t{1000000}}) one_d(n);
    panel_rowwise();
    merge_halves();
    return check::report("test_large_level");
}
