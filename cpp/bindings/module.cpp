#include "pybind.hpp"

namespace trackerr::bindings {
void register_risk(py::module_& m);  // register_risk.cpp
namespace kernels {
void register_dispatch(py::module_& m);  // dispatch.cpp
}
}  // namespace trackerr::bindings

PYBIND11_MODULE(_core, m) {
    m.doc() = "trackerr's compiled kernels (private: use the trackerr package).";
    trackerr::bindings::register_full_sample(m);
    trackerr::bindings::register_states(m);
    trackerr::bindings::register_rolling(m);
    trackerr::bindings::register_stream(m);
    trackerr::bindings::register_risk(m);
    trackerr::bindings::register_text(m);
    trackerr::bindings::kernels::register_dispatch(m);
}
