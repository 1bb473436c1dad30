// Numbers from text cells, for the price-file reader's fast path.
//
// The reader (python/trackerr/_reader.py) splits a file into cells and must
// read each price cell one consistent way: a plain decimal number (the
// grammar below) or an empty cell, anything else is its business (currency
// symbols, missing-value marks, errors naming the line). This converts the
// cells that are plain decimals, correctly rounded by std::from_chars, and
// hands back the positions of every other cell for the reader to judge.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <system_error>
#include <vector>

#include "pybind.hpp"

namespace trackerr::bindings {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// [+-]?(d+(.d*)?|.d+)([eE][+-]?d+)?, the whole cell (the reader's _NUMBER).
bool plain_decimal(const char* s, std::size_t n) {
    std::size_t i = 0;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    std::size_t digits = 0;
    while (i < n && is_digit(s[i])) ++i, ++digits;
    if (i < n && s[i] == '.') {
        ++i;
        while (i < n && is_digit(s[i])) ++i, ++digits;
    }
    if (digits == 0) return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
        std::size_t exponent = 0;
        while (i < n && is_digit(s[i])) ++i, ++exponent;
        if (exponent == 0) return false;
    }
    return i == n;
}

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
        const auto length = static_cast<std::size_t>(size);
        if (!plain_decimal(text, length)) {
            others.push_back(i);
            continue;
        }
        const char* first = text[0] == '+' ? text + 1 : text;  // from_chars takes no '+'
        double v = 0.0;
        const auto [end, ec] = std::from_chars(first, text + length, v);
        if (ec != std::errc() || end != text + length || !std::isfinite(v)) {
            others.push_back(i);  // out of range (1e999, 1e-999): the reader's rules decide
            continue;
        }
        out[i] = v;
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
