#include "pybind.hpp"

PYBIND11_MODULE(_core, m) {
    m.doc() = "trackerr's compiled kernels (private: use the trackerr package).";
    trackerr::bindings::register_full_sample(m);
    trackerr::bindings::register_states(m);
    trackerr::bindings::register_rolling(m);
    trackerr::bindings::register_stream(m);
}
