// The one place the bindings include pybind11, so every translation unit sees
// the same type casters.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

namespace py = pybind11;

namespace trackerr::bindings {

void register_full_sample(py::module_& m);
void register_states(py::module_& m);
void register_rolling(py::module_& m);
void register_stream(py::module_& m);
void register_text(py::module_& m);  // register_text.cpp: the reader's number cells

}  // namespace trackerr::bindings
