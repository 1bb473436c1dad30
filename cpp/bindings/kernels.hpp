// The kernels compiled once per instruction set, and how the bindings reach them.
//
// The wheel is built for baseline x86-64, so the kernels that gain from wider
// vectors are compiled three times (kernels_baseline.cpp, kernels_avx2.cpp,
// kernels_avx512.cpp), each inside its own inline namespace of the library
// (see trackerr/detail/isa.hpp) and with the instruction set enabled for its
// functions only. Each copy exports a Table of plain function pointers taking
// the plain job structs below (no library type crosses the boundary, since
// each copy has its own); the bindings pick one table at import from what the
// CPU supports, or from TRACKERR_SIMD. Lane order and summation order are
// fixed independently of the vector width, so every table gives the same bits.
#pragma once

#include <cstddef>

namespace trackerr::bindings::kernels {

/// A 1-D or 2-D float32/float64 array (strides in bytes; cols = 1 for 1-D).
struct Array {
    const void* data = nullptr;
    bool f32 = false;
    int ndim = 1;
    std::ptrdiff_t rows = 0, cols = 1, row_stride = 0, col_stride = 0;
};

/// A rolling-metrics call: outputs in RollingOutputs order (tracking error,
/// active return, information ratio, beta, alpha, correlation, R^2); a null
/// pointer is a metric not asked for.
struct RollingJob {
    Array p, b;
    std::ptrdiff_t window = 0, min_periods = 0;
    std::ptrdiff_t segment = 0, origin = 0;  // RollingParams' cuts (0, 0: the default)
    double ddof = 1.0, periods = 0.0, risk_free = 0.0;
    bool geometric_alpha = false;
    double* out[7] = {};
    std::ptrdiff_t out_row_stride[7] = {}, out_col_stride[7] = {};
    int threads = 1;
};

/// One steady tick of stream::Window across its portfolios: the fields of
/// trackerr::stream::detail::SteadyTick (see stream.hpp), plain pointers and
/// numbers. The kernel steps the portfolios from 0 while their entering
/// values are finite, lists in todo those that need the scalar settle
/// (todo_count), and returns how many it stepped.
struct StreamTick {
    double* state = nullptr;
    const double* p_new = nullptr;
    double* ring = nullptr;
    const double* next = nullptr;
    std::ptrdiff_t tile = 0;
    double b_new = 0.0, b_old = 0.0;
    std::ptrdiff_t portfolios = 0;
    double n = 0.0, inv_n = 0.0;
    std::ptrdiff_t* todo = nullptr;
    std::ptrdiff_t todo_count = 0;
};

struct Table {
    const char* name;                                // "baseline", "avx2", "avx512"
    bool compiled;                                   // false: this build has no such copy
    void (*rolling)(const RollingJob&);              // may throw std::invalid_argument
    std::ptrdiff_t (*stream_tick)(StreamTick&);      // noexcept
};

extern const Table table_baseline;
extern const Table table_avx2;
extern const Table table_avx512;

/// The table in use (chosen at import; see dispatch.cpp).
const Table& active();
/// The table for stream::Window's tick: AVX-512 where the CPU has it, unless
/// TRACKERR_SIMD or set_simd named a table (then that one).
const Table& active_stream();

}  // namespace trackerr::bindings::kernels
