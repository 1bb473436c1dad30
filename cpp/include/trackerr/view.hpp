// Non-owning strided views over caller memory.
//
// Strides are in bytes, as numpy reports them, so any layout a numpy array can
// have (Fortran order, every other element, reversed) is read in place.
#pragma once

#include "detail/isa.hpp"

#include <cstddef>

// Forces inlining of the few small functions on the kernels' per-element
// paths; compilers otherwise give up on them in large instantiations.
#if defined(__GNUC__) || defined(__clang__)
#define TRACKERR_HOT inline __attribute__((always_inline))
#define TRACKERR_COLD __attribute__((noinline, cold))
#define TRACKERR_APART __attribute__((noinline))
#elif defined(_MSC_VER)
#define TRACKERR_HOT __forceinline
#define TRACKERR_COLD
#define TRACKERR_APART __declspec(noinline)
#else
#define TRACKERR_HOT inline
#define TRACKERR_COLD
#define TRACKERR_APART
#endif
// TRACKERR_APART: a loop kept out of its (large) caller, so that the
// compiler allocates its registers on its own.

namespace trackerr {
TRACKERR_ISA_BEGIN

/// A 1-D run of `size` values of type T, `stride` bytes apart (may be negative).
template <class T>
struct View {
    const T* data = nullptr;
    std::ptrdiff_t size = 0;
    std::ptrdiff_t stride = sizeof(T);

    View() = default;
    View(const T* d, std::ptrdiff_t n, std::ptrdiff_t s = sizeof(T)) noexcept : data(d), size(n), stride(s) {}

    T operator[](std::ptrdiff_t i) const noexcept {
        return *reinterpret_cast<const T*>(reinterpret_cast<const char*>(data) + i * stride);
    }
    bool contiguous() const noexcept { return stride == static_cast<std::ptrdiff_t>(sizeof(T)); }
};

/// A 2-D block of rows x cols values; row r, column c lives at
/// data + r * row_stride + c * col_stride (bytes).
template <class T>
struct Panel {
    const T* data = nullptr;
    std::ptrdiff_t rows = 0;
    std::ptrdiff_t cols = 0;
    std::ptrdiff_t row_stride = 0;
    std::ptrdiff_t col_stride = sizeof(T);

    Panel() = default;
    Panel(const T* d, std::ptrdiff_t r, std::ptrdiff_t c, std::ptrdiff_t rs, std::ptrdiff_t cs) noexcept
        : data(d), rows(r), cols(c), row_stride(rs), col_stride(cs) {}

    const T* row(std::ptrdiff_t r) const noexcept {
        return reinterpret_cast<const T*>(reinterpret_cast<const char*>(data) + r * row_stride);
    }
    T operator()(std::ptrdiff_t r, std::ptrdiff_t c) const noexcept {
        return *reinterpret_cast<const T*>(reinterpret_cast<const char*>(data) + r * row_stride +
                                           c * col_stride);
    }
    View<T> column(std::ptrdiff_t c) const noexcept {
        return View<T>(reinterpret_cast<const T*>(reinterpret_cast<const char*>(data) + c * col_stride), rows,
                       row_stride);
    }
};

TRACKERR_ISA_END
}  // namespace trackerr
