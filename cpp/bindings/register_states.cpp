// The accumulator states as small Python value types (private for now: the
// streaming API builds on them). Exposed so that tests can check the merge
// algebra on the very objects the kernels produce.
#include <string>
#include <trackerr/trackerr.hpp>

#include "pybind.hpp"

namespace trackerr::bindings {
namespace {

template <class TP, class TB, class State>
py::tuple accumulate_typed(const py::array& p, const py::array& b,
                           Accumulated<State> (*kernel)(View<TP>, View<TB>)) {
    const View<TP> pv(static_cast<const TP*>(p.data()), p.shape(0), p.strides(0));
    const View<TB> bv(static_cast<const TB*>(b.data()), b.shape(0), b.strides(0));
    Accumulated<State> acc;
    {
        py::gil_scoped_release release;  // views into arrays kept alive by the caller
        acc = kernel(pv, bv);
    }
    return py::make_tuple(unscaled(acc), acc.skipped);  // in the data's units
}

template <class State>
py::tuple accumulate(const py::array_t<double, 0>& p, const py::array_t<double, 0>& b,
                     Accumulated<State> (*kernel)(View<double>, View<double>)) {
    if (p.ndim() != 1 || b.ndim() != 1) throw std::invalid_argument("expected 1-D float64 arrays");
    return accumulate_typed<double, double, State>(p, b, kernel);
}

}  // namespace

void register_states(py::module_& m) {
    py::class_<Moments>(m, "Moments", "Count, mean and M2 = sum (x - mean)^2 of one series.")
        .def(py::init<>())
        .def_readwrite("n", &Moments::n)
        .def_readwrite("mean", &Moments::mean)
        .def_readwrite("m2", &Moments::m2)
        .def("add", &Moments::add, py::arg("x"))
        .def("variance", &Moments::variance, py::arg("ddof") = 1.0)
        .def("__iadd__", [](Moments& a, const Moments& b) -> Moments& { return a += b; })
        .def("__add__", [](Moments a, const Moments& b) { return a += b; })
        .def("__repr__", [](const Moments& s) {
            return "Moments(n=" + std::to_string(s.n) + ", mean=" + std::to_string(s.mean) +
                   ", m2=" + std::to_string(s.m2) + ")";
        });
    py::class_<CoMoments>(m, "CoMoments", "Joint moments of a portfolio and a benchmark.")
        .def(py::init<>())
        .def_readwrite("n", &CoMoments::n)
        .def_readwrite("mean_p", &CoMoments::mean_p)
        .def_readwrite("mean_b", &CoMoments::mean_b)
        .def_readwrite("c_pp", &CoMoments::c_pp)
        .def_readwrite("c_bb", &CoMoments::c_bb)
        .def_readwrite("c_pb", &CoMoments::c_pb)
        .def("add", &CoMoments::add, py::arg("p"), py::arg("b"))
        .def("beta", &CoMoments::beta)
        .def("correlation", &CoMoments::correlation)
        .def("__iadd__", [](CoMoments& a, const CoMoments& b) -> CoMoments& { return a += b; })
        .def("__add__", [](CoMoments a, const CoMoments& b) { return a += b; })
        .def("__repr__", [](const CoMoments& s) {
            return "CoMoments(n=" + std::to_string(s.n) + ", mean_p=" + std::to_string(s.mean_p) +
                   ", mean_b=" + std::to_string(s.mean_b) + ", ...)";
        });
    m.def(
        "active_moments",
        [](const py::array_t<double, 0>& p, const py::array_t<double, 0>& b) {
            return accumulate<Moments>(p, b, &active_moments<double, double>);
        },
        py::arg("portfolio"), py::arg("benchmark"),
        "(Moments of p - b, skipped pairs) over 1-D float64 arrays.");
    m.def(
        "comoments",
        [](const py::array_t<double, 0>& p, const py::array_t<double, 0>& b) {
            return accumulate<CoMoments>(p, b, &comoments<double, double>);
        },
        py::arg("portfolio"), py::arg("benchmark"),
        "(CoMoments of p and b, skipped pairs) over 1-D float64 arrays.");
}

}  // namespace trackerr::bindings
