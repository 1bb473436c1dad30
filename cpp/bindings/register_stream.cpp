// Streaming states (trackerr.stream): the C++ value types of stream.hpp with
// a scalar fast path for update(p, b) on floats, batch updates looping in C++,
// read-outs, merge, copy, checkpoints and pickle.
#include <string>
#include <trackerr/trackerr.hpp>

#include "pybind.hpp"

namespace trackerr::bindings {
namespace {

using stream::Options;
using stream::Readout;

Options make_options(double ddof, double periods, std::ptrdiff_t min_periods, double risk_free) {
    Options o;
    o.ddof = ddof;
    o.periods = periods;
    o.min_periods = min_periods;
    o.risk_free = risk_free;
    return o;
}

// A state plus whether it was built for one portfolio given as floats
// (read-outs are then floats) or for n_portfolios (read-outs are arrays).
template <class State>
struct Bound {
    State state;
    bool scalar;
};

// Time-based exponential states need a time with every tick.
inline bool needs_time(const stream::Cumulative&) {
    return false;
}
inline bool needs_time(const stream::Window&) {
    return false;
}
inline bool needs_time(const stream::Exponential& s) {
    return s.timed();
}
inline void check_untimed(bool timed) {
    if (timed) throw std::invalid_argument("time-based decay needs the ticks' times: update(p, b, t=...)");
}

template <class State>
py::object readout(const Bound<State>& s, double Readout::* field) {
    if (s.scalar) return py::float_(s.state.read(0).*field);
    const std::ptrdiff_t n = s.state.portfolios();
    py::array_t<double> out(n);
    double* d = out.mutable_data();
    for (std::ptrdiff_t j = 0; j < n; ++j) d[j] = s.state.read(j).*field;
    return std::move(out);
}

template <class State>
void update_arrays(Bound<State>& s, const py::array_t<double, py::array::forcecast>& p,
                   const py::object& b_obj) {
    check_untimed(needs_time(s.state));
    const std::ptrdiff_t n = s.state.portfolios();
    if (s.scalar) {  // a batch of ticks: p and b of one length
        const auto b = py::array_t<double, py::array::forcecast>::ensure(b_obj);
        if (!b || p.ndim() != 1 || b.ndim() != 1 || p.shape(0) != b.shape(0))
            throw std::invalid_argument(
                "update(p, b) takes floats, or 1-D arrays of ticks of the same length");
        const auto pc = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(p);
        const auto bc = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(b);
        py::gil_scoped_release release;  // reads arrays held by this frame; the state is ours
        s.state.update(pc.data(), bc.data(), pc.shape(0));
        return;
    }
    if (p.ndim() == 1) {  // one tick across the portfolios, one benchmark value
        if (p.shape(0) != n)
            throw std::invalid_argument("a tick has " + std::to_string(p.shape(0)) +
                                        " portfolio values but n_portfolios is " + std::to_string(n));
        const double b = b_obj.cast<double>();
        const double* d = p.data();
        if (p.strides(0) != static_cast<py::ssize_t>(sizeof(double))) {
            std::vector<double> tmp(static_cast<std::size_t>(n));
            const auto pu = p.unchecked<1>();
            for (std::ptrdiff_t j = 0; j < n; ++j) tmp[static_cast<std::size_t>(j)] = pu(j);
            s.state.update(tmp.data(), b);
            return;
        }
        s.state.update(d, b);
        return;
    }
    const auto b = py::array_t<double, py::array::forcecast>::ensure(b_obj);
    if (p.ndim() != 2 || p.shape(1) != n || !b || b.ndim() != 1 || b.shape(0) != p.shape(0))
        throw std::invalid_argument("a batch of ticks is a T x n_portfolios array and a length-T benchmark");
    const auto pc = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(p);
    const auto bc = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(b);
    py::gil_scoped_release release;
    s.state.update(pc.data(), bc.data(), pc.shape(0));
}

template <class State, class Cls>
void common(Cls& cls, const char* name) {
    cls.def(
           "update",
           [](Bound<State>& s, double p, double b) {
               if (!s.scalar)
                   throw std::invalid_argument("with n_portfolios, a tick is an array of portfolio values");
               check_untimed(needs_time(s.state));
               s.state.update(&p, b);
           },
           py::arg("p"), py::arg("b"), "One tick of floats (the fast path).")
        .def("update", &update_arrays<State>, py::arg("p"), py::arg("b"),
             "Arrays: a batch of ticks, or one tick across n_portfolios (the loop runs in C++).")
        .def_property_readonly("tracking_error",
                               [](const Bound<State>& s) { return readout(s, &Readout::tracking_error); })
        .def_property_readonly("active_return",
                               [](const Bound<State>& s) { return readout(s, &Readout::active_return); })
        .def_property_readonly("information_ratio",
                               [](const Bound<State>& s) { return readout(s, &Readout::information_ratio); })
        .def_property_readonly("beta", [](const Bound<State>& s) { return readout(s, &Readout::beta); })
        .def_property_readonly("alpha", [](const Bound<State>& s) { return readout(s, &Readout::alpha); })
        .def_property_readonly("correlation",
                               [](const Bound<State>& s) { return readout(s, &Readout::correlation); })
        .def_property_readonly("r_squared",
                               [](const Bound<State>& s) { return readout(s, &Readout::r_squared); })
        .def_property_readonly("count", [](const Bound<State>& s) { return readout(s, &Readout::count); })
        .def_property_readonly("n_portfolios",
                               [](const Bound<State>& s) -> py::object {
                                   if (s.scalar) return py::none();
                                   return py::int_(s.state.portfolios());
                               })
        .def("reset", [](Bound<State>& s) { s.state.reset(); })
        .def("copy", [](const Bound<State>& s) { return s; })
        .def("__copy__", [](const Bound<State>& s) { return s; })
        .def("__deepcopy__", [](const Bound<State>& s, const py::object&) { return s; })
        .def("to_bytes",
             [](const Bound<State>& s) {
                 std::string bytes = s.state.to_bytes();
                 bytes.push_back(s.scalar ? '\1' : '\0');
                 return py::bytes(bytes);
             })
        .def_static(
            "from_bytes",
            [name](const py::bytes& data) {
                std::string bytes = data;
                if (bytes.empty())
                    throw std::invalid_argument(std::string(name) + ".from_bytes: empty input");
                const char flag = bytes.back();
                if (flag != '\0' && flag != '\1')
                    throw std::invalid_argument(std::string(name) +
                                                ".from_bytes: corrupted checkpoint (bad flag)");
                bytes.pop_back();
                State st = State::from_bytes(bytes);
                if (flag == '\1' && st.portfolios() != 1)
                    throw std::invalid_argument(std::string(name) +
                                                ".from_bytes: corrupted checkpoint (scalar flag)");
                return Bound<State>{std::move(st), flag == '\1'};
            },
            py::arg("data"), "Rebuild a state from to_bytes(); raises ValueError on bad input.")
        .def(py::pickle(
            [](const Bound<State>& s) {
                std::string bytes = s.state.to_bytes();
                bytes.push_back(s.scalar ? '\1' : '\0');
                return py::make_tuple(py::bytes(bytes));
            },
            [name](const py::tuple& t) {
                if (t.size() != 1) throw std::invalid_argument("bad pickle state");
                std::string bytes = t[0].cast<std::string>();
                if (bytes.empty()) throw std::invalid_argument("bad pickle state");
                const char flag = bytes.back();
                bytes.pop_back();
                return Bound<State>{State::from_bytes(bytes), flag == '\1'};
            }));
}

}  // namespace

// The cheapest pybind11 method call: two doubles in, nothing done. The
// latency benchmark measures Window.update against it.
struct Probe {};

void register_stream(py::module_& m) {
    py::class_<Probe>(m, "_Probe")
        .def(py::init<>())
        .def("noop", [](Probe&, double, double) {}, py::arg("p"), py::arg("b"));
    auto cum =
        py::class_<Bound<stream::Cumulative>>(m, "Cumulative", "Streaming metrics over every tick seen.");
    cum.def(py::init([](std::ptrdiff_t n, bool scalar, double ddof, double periods,
                        std::ptrdiff_t min_periods, double risk_free) {
                return Bound<stream::Cumulative>{
                    stream::Cumulative(n, make_options(ddof, periods, min_periods, risk_free)), scalar};
            }),
            py::arg("n"), py::arg("scalar"), py::arg("ddof"), py::arg("periods"), py::arg("min_periods"),
            py::arg("risk_free"));
    common<stream::Cumulative>(cum, "Cumulative");
    cum.def(
        "merge",
        [](Bound<stream::Cumulative>& a, const Bound<stream::Cumulative>& b) -> Bound<stream::Cumulative>& {
            if (a.scalar != b.scalar)
                throw std::invalid_argument("cannot merge states of different n_portfolios");
            a.state += b.state;
            return a;
        },
        py::arg("other"), py::return_value_policy::reference_internal);

    auto win =
        py::class_<Bound<stream::Window>>(m, "Window", "Streaming metrics over the last `window` ticks.");
    win.def(py::init([](std::ptrdiff_t window, std::ptrdiff_t n, bool scalar, double ddof, double periods,
                        std::ptrdiff_t min_periods, double risk_free) {
                return Bound<stream::Window>{
                    stream::Window(window, n, make_options(ddof, periods, min_periods, risk_free)), scalar};
            }),
            py::arg("window"), py::arg("n"), py::arg("scalar"), py::arg("ddof"), py::arg("periods"),
            py::arg("min_periods"), py::arg("risk_free"));
    common<stream::Window>(win, "Window");
    win.def_property_readonly("window", [](const Bound<stream::Window>& s) { return s.state.window(); });

    auto ewm =
        py::class_<Bound<stream::Exponential>>(m, "Exponential", "Exponentially weighted streaming metrics.");
    ewm.def(py::init([](double alpha, double halflife_time, std::ptrdiff_t n, bool scalar, double ddof,
                        double periods, std::ptrdiff_t min_periods, double risk_free) {
                return Bound<stream::Exponential>{
                    stream::Exponential(alpha, n, make_options(ddof, periods, min_periods, risk_free),
                                        halflife_time),
                    scalar};
            }),
            py::arg("alpha"), py::arg("halflife_time"), py::arg("n"), py::arg("scalar"), py::arg("ddof"),
            py::arg("periods"), py::arg("min_periods"), py::arg("risk_free"));
    ewm.def(
        "update",
        [](Bound<stream::Exponential>& s, double p, double b, double t) {
            if (!s.scalar)
                throw std::invalid_argument("with n_portfolios, a tick is an array of portfolio values");
            if (s.state.timed() && !std::isfinite(t))
                throw std::invalid_argument("time-based decay needs the tick's time: update(p, b, t=...)");
            s.state.update(&p, b, t);
        },
        py::arg("p"), py::arg("b"), py::arg("t"), "One tick of floats at time t (time-based decay).");
    ewm.def(
        "update",
        [](Bound<stream::Exponential>& s, const py::array_t<double, py::array::forcecast>& p,
           const py::array_t<double, py::array::forcecast>& b,
           const py::array_t<double, py::array::forcecast>& t) {
            const std::ptrdiff_t n = s.state.portfolios();
            const bool batch_1d = s.scalar && p.ndim() == 1;
            const bool batch_2d = !s.scalar && p.ndim() == 2 && p.shape(1) == n;
            if (!(batch_1d || batch_2d) || b.ndim() != 1 || t.ndim() != 1 || b.shape(0) != p.shape(0) ||
                t.shape(0) != p.shape(0))
                throw std::invalid_argument(
                    "a batch of ticks with times: p (T or T x n_portfolios), b and t of length T");
            const auto pc = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(p);
            const auto bu = b.unchecked<1>();
            const auto tu = t.unchecked<1>();
            const double* d = pc.data();
            py::gil_scoped_release release;  // arrays held by this frame
            for (py::ssize_t i = 0; i < pc.shape(0); ++i) s.state.update(d + i * n, bu(i), tu(i));
        },
        py::arg("p"), py::arg("b"), py::arg("t"),
        "A batch of ticks with their times (the loop runs in C++).");
    common<stream::Exponential>(ewm, "Exponential");
    ewm.def(
        "merge",
        [](Bound<stream::Exponential>& a,
           const Bound<stream::Exponential>& b) -> Bound<stream::Exponential>& {
            if (a.scalar != b.scalar)
                throw std::invalid_argument("cannot merge states of different n_portfolios");
            a.state += b.state;
            return a;
        },
        py::arg("other"), py::return_value_policy::reference_internal,
        "Append another state's stream (its ticks come after this one's).");
    ewm.def_property_readonly("alpha", [](const Bound<stream::Exponential>& s) { return s.state.alpha(); });
}

}  // namespace trackerr::bindings
