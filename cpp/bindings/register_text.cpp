// Numbers from text cells, for the price-file reader's fast path: the cells
// are Python str (or float) objects; the grammar and the rounding are
// trackerr::detail::parse_plain_decimal's (cpp/include/trackerr/detail/decimal.hpp).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include <trackerr/detail/decimal.hpp>

#include "pybind.hpp"

namespace trackerr::bindings {
namespace {

// (values, others): values[i] is cell i read as a plain decimal number (or a
// finite float as it is), NaN for an empty cell; others lists, in order, the
// cells it did not read (neither text nor a float, not a plain decimal, not
// finite, or beyond a double), whose values are NaN.
py::tuple parse_decimals(const py::list& cells) {
    const auto n = static_cast<py::ssize_t>(py::len(cells));
    py::array_t<double> values(n);
    double* out = values.mutable_data();
    std::vector<std::int64_t> others;
    constexpr double nan = std::numeric_limits<double>::quiet_NaN();
    for (py::ssize_t i = 0; i < n; ++i) {
        PyObject* cell = PyList_GET_ITEM(cells.ptr(), i);
        out[i] = nan;
        if (PyFloat_CheckExact(cell)) {  // a workbook's number cell
            const double v = PyFloat_AS_DOUBLE(cell);
            if (std::isfinite(v)) {
                out[i] = v;
            } else {
                others.push_back(i);
            }
            continue;
        }
        Py_ssize_t size = 0;
        const char* text = PyUnicode_Check(cell) ? PyUnicode_AsUTF8AndSize(cell, &size) : nullptr;
        if (text == nullptr) {
            PyErr_Clear();  // not text (or not encodable): the reader says what it is
            others.push_back(i);
            continue;
        }
        if (size == 0) continue;  // an empty cell: a missing value
        if (!trackerr::detail::parse_plain_decimal(text, static_cast<std::size_t>(size), out[i])) {
            others.push_back(i);
        }
    }
    py::array_t<std::int64_t> rest(static_cast<py::ssize_t>(others.size()));
    std::copy(others.begin(), others.end(), rest.mutable_data());
    return py::make_tuple(values, rest);
}

}  // namespace

void register_text(py::module_& m) {
    m.def("parse_decimals", &parse_decimals, py::arg("cells"),
          "Plain decimal numbers from a list of str (or float) cells: (float64 values, NaN for an "
          "empty cell; int64 positions of the cells not read, whose values are NaN).");
}

}  // namespace trackerr::bindings
