// One copy of the dispatched kernels (see kernels.hpp). Included by
// kernels_<isa>.cpp after it defines:
//   TRACKERR_ISA_NS        the library's inline namespace for this copy
//   TRACKERR_KERNELS_TABLE the name of the exported table
//   TRACKERR_KERNELS_NAME  its name as a string
//   TRACKERR_TARGET_AVX2 / TRACKERR_TARGET_AVX512 (optional) the instruction set
//
// Every standard header the library uses is included *before* the target
// pragma, so no standard-library function is compiled with AVX enabled (its
// body could otherwise be the one the linker keeps for the whole extension).
// The test tests/test_simd.py checks that this list covers the library's
// includes.
#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>
#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

#include "kernels.hpp"

#if (defined(TRACKERR_TARGET_AVX2) || defined(TRACKERR_TARGET_AVX512)) && \
    !(defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__))
// Only GCC on x86-64 compiles the wider copies; elsewhere they are absent.
#define TRACKERR_KERNELS_ABSENT 1
#endif

#ifdef TRACKERR_KERNELS_ABSENT
namespace trackerr::bindings::kernels {
extern const Table TRACKERR_KERNELS_TABLE;
const Table TRACKERR_KERNELS_TABLE = {TRACKERR_KERNELS_NAME, false, nullptr, nullptr};
}  // namespace trackerr::bindings::kernels
#else

#if defined(TRACKERR_TARGET_AVX512)
#pragma GCC push_options
#pragma GCC target("avx2,avx512f,avx512dq")
#define TRACKERR_LANES 8
#elif defined(TRACKERR_TARGET_AVX2)
#pragma GCC push_options
#pragma GCC target("avx2")
#define TRACKERR_LANES 4
#else
#define TRACKERR_LANES 2
#endif

#include <trackerr/trackerr.hpp>

namespace trackerr::bindings::kernels {
namespace TRACKERR_ISA_NS {
namespace {

template <class TP, class TB>
void rolling_typed(const RollingJob& job, const RollingParams& prm) {
    OutPanel out{};
    OutView* fields[7] = {&out.columns.tracking_error, &out.columns.active_return,
                          &out.columns.information_ratio, &out.columns.beta,
                          &out.columns.alpha,          &out.columns.correlation,
                          &out.columns.r_squared};
    for (int k = 0; k < 7; ++k) {
        if (!job.out[k]) continue;
        *fields[k] = OutView{job.out[k], job.out_row_stride[k]};
        out.col_stride[k] = job.out_col_stride[k];
    }
    const Array& a = job.p;
    const Array& c = job.b;
    if (a.ndim == 1) {
        const View<TP> pv(static_cast<const TP*>(a.data), a.rows, a.row_stride);
        const View<TB> bv(static_cast<const TB*>(c.data), c.rows, c.row_stride);
        rolling(pv, bv, prm, out.columns, job.threads);
        return;
    }
    const Panel<TP> pp(static_cast<const TP*>(a.data), a.rows, a.cols, a.row_stride, a.col_stride);
    const Panel<TB> bp = c.ndim == 1 ? broadcast(View<TB>(static_cast<const TB*>(c.data), c.rows, c.row_stride), a.cols)
                                     : Panel<TB>(static_cast<const TB*>(c.data), c.rows, c.cols, c.row_stride,
                                                 c.col_stride);
    rolling(pp, bp, prm, out, job.threads);
}

void rolling_job(const RollingJob& job) {
    RollingParams prm;
    prm.window = job.window;
    prm.min_periods = job.min_periods;
    prm.segment = job.segment;
    prm.origin = job.origin;
    prm.ddof = job.ddof;
    prm.periods = job.periods;
    prm.risk_free = job.risk_free;
    prm.geometric_alpha = job.geometric_alpha;
    if (!job.p.f32) {
        if (!job.b.f32) return rolling_typed<double, double>(job, prm);
        return rolling_typed<double, float>(job, prm);
    }
    if (!job.b.f32) return rolling_typed<float, double>(job, prm);
    return rolling_typed<float, float>(job, prm);
}

// Window's steady tick in this copy's lanes (the same bits for every width).
std::ptrdiff_t stream_tick(StreamTick& job) noexcept {
    trackerr::stream::detail::SteadyTick t{job.state, job.p_new, job.ring,       job.next, job.tile, job.b_new,
                                           job.b_old, job.portfolios, job.n, job.inv_n, job.todo, 0};
    const std::ptrdiff_t done = trackerr::stream::detail::steady_tick<trackerr::detail::lane_t>(t);
    job.todo_count = t.todo_count;
    return done;
}

}  // namespace
}  // namespace TRACKERR_ISA_NS

extern const Table TRACKERR_KERNELS_TABLE;
const Table TRACKERR_KERNELS_TABLE = {TRACKERR_KERNELS_NAME, true, &TRACKERR_ISA_NS::rolling_job,
                                      &TRACKERR_ISA_NS::stream_tick};

}  // namespace trackerr::bindings::kernels

#if defined(TRACKERR_TARGET_AVX2) || defined(TRACKERR_TARGET_AVX512)
#pragma GCC pop_options
#endif

#endif  // TRACKERR_KERNELS_ABSENT
