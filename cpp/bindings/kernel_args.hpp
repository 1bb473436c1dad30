// Integer arguments of the kernel bindings (window, min_periods, threads,
// the time windows' times), and the dtype test of their arrays.
//
// They are taken as Python objects and converted here, so that a value that
// does not fit a C++ integer (window=2**63, threads=2**31) gets the same
// one-line ValueError naming the argument as one that fits but is out of
// range, instead of pybind11's "incompatible function arguments" dump.
#pragma once

#include <algorithm>
#include <climits>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <trackerr/detail/parallel.hpp>

#include "pybind.hpp"

namespace trackerr::bindings {

/// The integer value of `value` (a Python int or numpy integer; not a bool),
/// which must lie in [lo, hi]: TypeError or ValueError naming `name` otherwise.
inline long long integer_arg(py::handle value, const char* name, long long lo, long long hi) {
    const std::string shown = py::str(py::repr(value));
    if (PyBool_Check(value.ptr()) || !PyIndex_Check(value.ptr()))
        throw py::type_error(std::string(name) + " must be an integer, not " +
                             std::string(py::str(value.get_type().attr("__name__"))) + " (=" + shown + ")");
    const py::object index = py::reinterpret_steal<py::object>(PyNumber_Index(value.ptr()));
    if (!index) throw py::error_already_set();
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(index.ptr(), &overflow);
    if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
    if (overflow != 0 || v < lo || v > hi)
        throw std::invalid_argument(std::string(name) + " (=" + shown + ") must be between " +
                                    std::to_string(lo) + " and " + std::to_string(hi));
    return v;
}

/// Threads for a kernel: 0 means one per core (the Python layer's None),
/// else 1..detail::max_threads.
inline int threads_arg(py::handle value) {
    const long long t = integer_arg(value, "threads", 0, detail::max_threads);
    if (t > 0) return static_cast<int>(t);
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    return static_cast<int>(std::min<unsigned>(cores, static_cast<unsigned>(detail::max_threads)));
}

/// Whether `a` holds T in native byte order, by numpy's equivalence of types
/// (PyArray_EquivTypes), not by the identity of its dtype object: a float64
/// array whose dtype carries metadata, or was rebuilt by unpickling in another
/// process (a Dask worker's block), is float64 all the same.
template <class T>
inline bool holds(const py::array& a) {
    return py::isinstance<py::array_t<T>>(a);
}

/// The int64 times of a time-window kernel: a contiguous int64 array of
/// `rows` values (the Python layer converts datetimes to nanoseconds).
inline const std::int64_t* times_arg(const py::array& times, py::ssize_t rows) {
    if (!holds<std::int64_t>(times) || times.ndim() != 1 || times.shape(0) != rows ||
        times.strides(0) != static_cast<py::ssize_t>(sizeof(std::int64_t)))
        throw std::invalid_argument("times must be a contiguous int64 array with one value per row");
    return static_cast<const std::int64_t*>(times.data());
}

}  // namespace trackerr::bindings
