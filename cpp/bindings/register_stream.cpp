// Streaming states (trackerr.stream): the C++ value types of stream.hpp with
// a scalar fast path for update(p, b) on floats, a checked general path for
// everything else (batches, n_portfolios ticks, numpy scalars), read-outs,
// merge, copy, checkpoints and pickle. TimeWindow takes each tick's time as
// int64 nanoseconds (the Python class converts datetimes).
//
// Argument errors are one line naming the argument and its value: the
// general update path checks types itself rather than letting pybind11 or
// numpy cast (numpy would turn "1.5" into 1.5 and drop imaginary parts), and
// merge checks the other state's type.
#include <cstdint>
#include <cstring>
#include <string>
#include <trackerr/trackerr.hpp>
#include <type_traits>
#include <vector>

#include "kernels.hpp"
#include "pybind.hpp"

namespace trackerr::bindings {
namespace {
// A real number argument of the fast paths: a Python float (or numpy
// float64, a float subclass) or a Python int, never a bool. pybind11's own
// double caster also takes anything with __index__ (bool, numpy bool);
// whatever this one declines goes to the checked general path.
struct Real {
    double v;
};
}  // namespace
}  // namespace trackerr::bindings

namespace pybind11::detail {
template <>
struct type_caster<trackerr::bindings::Real> {
    PYBIND11_TYPE_CASTER(trackerr::bindings::Real, const_name("float"));
    bool load(handle src, bool) {
        if (PyFloat_Check(src.ptr())) {
            value.v = PyFloat_AS_DOUBLE(src.ptr());
            return true;
        }
        if (PyLong_Check(src.ptr()) && !PyBool_Check(src.ptr())) {
            const double v = PyLong_AsDouble(src.ptr());
            if (v == -1.0 && PyErr_Occurred()) {  // too large for a double: the general path says so
                PyErr_Clear();
                return false;
            }
            value.v = v;
            return true;
        }
        return false;
    }
    static handle cast(const trackerr::bindings::Real& r, return_value_policy, handle) {
        return PyFloat_FromDouble(r.v);
    }
};
}  // namespace pybind11::detail

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
// (read-outs are then floats) or for n_portfolios (read-outs are arrays),
// and, for TimeWindow, whether its times came from naive or zone-aware
// datetimes (TimeWindow::flag_naive / flag_aware; 0 before the first tick).
// Both go into the checkpoint's flags.
template <class State>
struct Bound {
    State state;
    bool scalar;
    std::uint32_t zone = 0;
};

// stream::Window's steady pass across portfolios through the copy of the
// kernels for the instruction set in use (kernels.hpp; the same bits for
// every copy). The SteadyTick is this translation unit's; the copies each
// have their own, so the fields cross as the plain StreamTick.
std::ptrdiff_t dispatched_tick(stream::detail::SteadyTick& t) noexcept {
    kernels::StreamTick job;
    job.state = t.state;
    job.p_new = t.p_new;
    job.ring = t.ring;
    job.next = t.next;
    job.tile = t.tile;
    job.b_new = t.b_new;
    job.b_old = t.b_old;
    job.portfolios = t.portfolios;
    job.n = t.n;
    job.inv_n = t.inv_n;
    job.todo = t.todo;
    const std::ptrdiff_t done = kernels::active_stream().stream_tick(job);
    t.todo_count = job.todo_count;
    return done;
}

// One tick across the portfolios, and a batch of ticks: Window through the
// dispatched kernel, the other states as they are.
template <class State>
void tick(State& s, const double* p, double b) {
    if constexpr (std::is_same_v<State, stream::Window>)
        s.update(p, b, dispatched_tick);
    else
        s.update(p, b);
}
template <class State>
void ticks(State& s, const double* p, const double* b, std::ptrdiff_t rows) {
    if constexpr (std::is_same_v<State, stream::Window>)
        s.update(p, b, rows, dispatched_tick);
    else
        s.update(p, b, rows);
}

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
inline bool needs_time(const stream::TimeWindow&) {
    return true;
}

// A short repr of a value for messages.
std::string shown(const py::handle& obj) {
    std::string r = py::repr(obj).cast<std::string>();
    if (r.size() > 60) r = r.substr(0, 57) + "...";
    return r;
}
std::string type_name(const py::handle& obj) {
    return py::str(py::type::handle_of(obj).attr("__name__")).cast<std::string>();
}
std::string shape_of(const py::array& a) {
    std::string s = "(";
    for (py::ssize_t i = 0; i < a.ndim(); ++i) s += (i ? ", " : "") + std::to_string(a.shape(i));
    return s + (a.ndim() == 1 ? ",)" : ")");
}

// A numeric argument as a C-contiguous float64 array (the input itself when
// it already is one; never written to). Integers and floats of any width are
// accepted; bool, complex, text, dates and objects are refused; masked
// values are missing (NaN).
py::array_t<double, py::array::c_style> numbers(const char* name, const py::object& obj) {
    const py::object& o = obj;
    if (PyLong_Check(o.ptr()) && !PyBool_Check(o.ptr())) {  // numpy would make huge ints objects
        const double v = PyLong_AsDouble(o.ptr());
        if (v == -1.0 && PyErr_Occurred()) {
            PyErr_Clear();
            throw std::invalid_argument(std::string(name) + " (=" + shown(obj) + ") is too large for a float");
        }
        py::array_t<double, py::array::c_style> out(std::vector<py::ssize_t>{});
        *out.mutable_data() = v;
        return out;
    }
    // plain ndarrays (the common case) skip the masked-array check
    const bool plain =
        Py_TYPE(o.ptr()) == py::detail::npy_api::get().PyArray_Type_ || PyFloat_Check(o.ptr()) || PyBool_Check(o.ptr());
    const py::module_ ma = plain ? py::module_() : py::module_::import("numpy.ma");
    const bool masked = !plain && ma.attr("isMaskedArray")(o).cast<bool>();
    py::array arr = masked ? py::array::ensure(ma.attr("getdata")(o)) : py::array::ensure(o);
    if (!arr) {
        PyErr_Clear();
        throw py::type_error(std::string(name) + " must be a number or an array of numbers, not " +
                             type_name(obj) + " (=" + shown(obj) + ")");
    }
    const char kind = arr.dtype().kind();
    if (kind != 'f' && kind != 'i' && kind != 'u') {
        const std::string what = kind == 'b'   ? "booleans"
                                 : kind == 'c' ? "complex numbers"
                                 : kind == 'U' || kind == 'S'
                                     ? "text"
                                     : kind == 'M' || kind == 'm' ? "dates or durations" : "objects";
        const std::string hint = kind == 'M' || kind == 'm'
                                     ? "; give times as numbers in the half-life's units (e.g. seconds)"
                                     : "";
        throw py::type_error(std::string(name) + " must be real numbers (int or float), not " + what + " (=" +
                             shown(obj) + ")" + hint);
    }
    if (masked) {
        py::object filled = ma.attr("filled")(ma.attr("asarray")(o, "float64"), py::float_(trackerr::detail::nan_v));
        arr = py::array(filled);
    }
    auto out = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(arr);
    if (!out) throw py::error_already_set();
    return out;
}

// The data of p when it is a plain numpy array of float64 values, one
// dimension of length n (any length for n < 0), C-contiguous, aligned and in
// native byte order: a tick across n_portfolios read in place, with no
// conversion and no Python object made. Anything else gives nullptr, for the
// checked general path (subclasses such as masked arrays included).
const double* tick_data(const py::handle& p, std::ptrdiff_t n) noexcept {
    const auto& api = py::detail::npy_api::get();
    if (Py_TYPE(p.ptr()) != api.PyArray_Type_) return nullptr;
    const auto* a = py::detail::array_proxy(p.ptr());
    if (a->nd != 1 || (n >= 0 && a->dimensions[0] != n)) return nullptr;
    constexpr int need = py::detail::npy_api::NPY_ARRAY_C_CONTIGUOUS_ | py::detail::npy_api::NPY_ARRAY_ALIGNED_;
    if ((a->flags & need) != need) return nullptr;
    const auto* d = py::detail::array_descriptor_proxy(a->descr);
    const std::uint16_t probe = 1;
    char low;
    std::memcpy(&low, &probe, 1);
    const char foreign = low == 1 ? '>' : '<';  // the byte order that is not this machine's
    if (d->type_num != py::detail::npy_api::NPY_DOUBLE_ || d->byteorder == foreign) return nullptr;
    return reinterpret_cast<const double*>(a->data);
}

// Whether (p, b) (and t, the times of a time-based state) are a batch of
// ticks or one tick, from their shapes; anything else is a ValueError that
// says what the state takes.
bool is_batch(bool scalar, std::ptrdiff_t n, const py::array& p, const py::array& b, const py::array* t) {
    const bool timed = t != nullptr;
    const std::string shapes = "got p of shape " + shape_of(p) + " and b of shape " + shape_of(b) +
                               (timed ? " and t of shape " + shape_of(*t) : std::string());
    if (scalar) {
        if (p.ndim() == 0 && b.ndim() == 0 && (!timed || t->ndim() == 0)) return false;
        if (p.ndim() == 1 && b.ndim() == 1 && b.shape(0) == p.shape(0) &&
            (!timed || (t->ndim() == 1 && t->shape(0) == p.shape(0))))
            return true;
        throw std::invalid_argument(std::string("update(p, b") + (timed ? ", t" : "") +
                                    ") takes one tick (numbers) or a batch (1-D arrays of one length); " +
                                    shapes);
    }
    const std::string nn = std::to_string(n);
    if (p.ndim() == 1 && b.ndim() == 0 && (!timed || t->ndim() == 0)) {
        if (p.shape(0) != n)
            throw std::invalid_argument("a tick has " + std::to_string(p.shape(0)) +
                                        " portfolio values but n_portfolios is " + nn);
        return false;
    }
    if (p.ndim() == 2 && b.ndim() == 1 && (!timed || t->ndim() == 1)) {
        if (p.shape(1) != n || b.shape(0) != p.shape(0) || (timed && t->shape(0) != p.shape(0)))
            throw std::invalid_argument("a batch is a T x " + nn + " array p and a length-T benchmark b" +
                                        (timed ? " and times t" : "") + "; " + shapes);
        return true;
    }
    throw std::invalid_argument("with n_portfolios=" + nn + ", a tick is p of length " + nn +
                                " and one benchmark value b" + (timed ? " and one time t" : "") +
                                ", a batch p of shape (T, " + nn + ") and b of length T; " + shapes);
}

// Every update that is not the float fast path: checks the arguments'
// types and shapes, then one tick or a batch.
template <class State>
void update_any(Bound<State>& s, const py::object& p_obj, const py::object& b_obj, const py::object& t_obj) {
    const bool timed = needs_time(s.state);
    if (timed && t_obj.is_none())
        throw std::invalid_argument("this state is time-based: give each tick's time, update(p, b, t)");
    if (!timed && !t_obj.is_none()) {
        if constexpr (std::is_same_v<State, stream::Window>)
            throw py::type_error(
                "t is for time windows (Window('30D'): a span of time); this window counts ticks: call "
                "update(p, b)");
        throw std::invalid_argument(
            "t is for time-based states (Exponential(halflife=..., time_based=True)); call update(p, b)");
    }
    const auto p = numbers("p", p_obj);
    const auto b = numbers("b", b_obj);
    py::array_t<double, py::array::c_style> t;
    if (timed) t = numbers("t", t_obj);
    const bool batch = is_batch(s.scalar, s.state.portfolios(), p, b, timed ? &t : nullptr);
    const double* pd = p.data();
    const double* bd = b.data();
    if (!batch) {
        if constexpr (std::is_same_v<State, stream::Exponential>) {
            if (timed) {
                s.state.update(pd, *bd, *t.data());
                return;
            }
        }
        tick(s.state, pd, *bd);
        return;
    }
    const py::ssize_t rows = p.shape(0);
    if constexpr (std::is_same_v<State, stream::Exponential>) {
        if (timed) {
            const double* td = t.data();
            py::gil_scoped_release release;  // reads arrays held by this frame; the state is ours
            s.state.update(pd, bd, td, rows);
            return;
        }
    }
    py::gil_scoped_release release;  // reads arrays held by this frame; the state is ours
    ticks(s.state, pd, bd, rows);
}

// Times as a C-contiguous int64 array: a Python int or a numpy integer (one
// tick), or an array of signed integers (a batch). Anything else is a
// TypeError: the Python TimeWindow turns datetimes into int64 nanoseconds.
py::array_t<std::int64_t, py::array::c_style> int64s(const char* name, const py::object& obj) {
    if (PyLong_Check(obj.ptr()) && !PyBool_Check(obj.ptr())) {
        int overflow = 0;
        const long long v = PyLong_AsLongLongAndOverflow(obj.ptr(), &overflow);
        if (overflow != 0 || (v == -1 && PyErr_Occurred())) {
            PyErr_Clear();
            throw std::invalid_argument(std::string(name) + " (=" + shown(obj) +
                                        ") is out of the int64 range");
        }
        py::array_t<std::int64_t, py::array::c_style> out(std::vector<py::ssize_t>{});
        *out.mutable_data() = static_cast<std::int64_t>(v);
        return out;
    }
    py::array arr = py::array::ensure(obj);
    if (!arr) PyErr_Clear();
    if (!arr || arr.dtype().kind() != 'i')
        throw py::type_error(std::string(name) + " must be int64 nanoseconds here, not " + type_name(obj) +
                             " (=" + shown(obj) + ")");
    auto out = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(arr);
    if (!out) throw py::error_already_set();
    return out;
}

// TimeWindow's update: one tick or a batch, each with its time(s).
void update_time(Bound<stream::TimeWindow>& s, const py::object& p_obj, const py::object& b_obj,
                 const py::object& t_obj) {
    if (t_obj.is_none()) throw py::type_error("a time window needs each tick's time: update(p, b, t)");
    // One portfolio's tick as two floats and an int, the live-feed call:
    // straight to the state, without arrays (the same checks and errors).
    if (s.scalar && PyFloat_Check(p_obj.ptr()) && PyFloat_Check(b_obj.ptr()) && PyLong_Check(t_obj.ptr()) &&
        !PyBool_Check(t_obj.ptr())) {
        int overflow = 0;
        const long long v = PyLong_AsLongLongAndOverflow(t_obj.ptr(), &overflow);
        if (overflow == 0 && !(v == -1 && PyErr_Occurred())) {
            const double p = PyFloat_AS_DOUBLE(p_obj.ptr());
            s.state.update(&p, PyFloat_AS_DOUBLE(b_obj.ptr()), static_cast<std::int64_t>(v));
            return;
        }
        PyErr_Clear();  // out of range: the general path says so
    }
    const auto p = numbers("p", p_obj);
    const auto b = numbers("b", b_obj);
    const auto t = int64s("t", t_obj);
    if (!is_batch(s.scalar, s.state.portfolios(), p, b, &t)) {
        s.state.update(p.data(), *b.data(), *t.data());
        return;
    }
    const double* pd = p.data();
    const double* bd = b.data();
    const std::int64_t* td = t.data();
    const py::ssize_t rows = p.shape(0);
    py::gil_scoped_release release;  // reads arrays held by this frame; the state is ours
    s.state.update(pd, bd, td, rows);
}

// An allocation the machine refuses, as a MemoryError that names the sizes.
[[noreturn]] void out_of_memory(const std::string& what) {
    PyErr_SetString(PyExc_MemoryError, ("not enough memory for a state with " + what).c_str());
    throw py::error_already_set();
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

// The one way a state is rebuilt from bytes: from_bytes, pickle and copy all
// come here, so every path checks the checksum, the fields and the scalar flag.
template <class State>
Bound<State> load(const char* name, const py::handle& data) {
    if (!py::isinstance<py::bytes>(data))
        throw py::type_error(std::string(name) + ".from_bytes takes bytes, not " + type_name(data));
    const std::string bytes = py::reinterpret_borrow<py::bytes>(data);
    std::uint32_t flags = 0;
    State st = State::from_bytes(bytes, &flags);
    return Bound<State>{std::move(st), (flags & stream::detail::flag_scalar) != 0,
                        flags & ~stream::detail::flag_scalar};
}
template <class State>
py::bytes dump(const Bound<State>& s) {
    return py::bytes(s.state.to_bytes((s.scalar ? stream::detail::flag_scalar : 0u) | s.zone));
}

// The shapes tracking_error_path takes: a batch (and its times, t).
template <class State>
void check_path(const Bound<State>& s, const py::array& p, const py::array& b, const py::array* t) {
    const std::ptrdiff_t n = s.state.portfolios();
    const bool ok = (s.scalar ? p.ndim() == 1 : p.ndim() == 2 && p.shape(1) == n) && b.ndim() == 1 &&
                    b.shape(0) == p.shape(0) &&
                    (t == nullptr || (t->ndim() == 1 && t->shape(0) == p.shape(0)));
    if (!ok)
        throw std::invalid_argument("tracking_error_path takes a batch: p of shape (T,)" +
                                    std::string(s.scalar ? "" : " x n_portfolios") + " and b of length T" +
                                    (t ? " and times t of length T" : "") + "; got p of shape " +
                                    shape_of(p) + " and b of shape " + shape_of(b) +
                                    (t ? " and t of shape " + shape_of(*t) : ""));
}
// A batch stepped tick by tick, with the tracking error read after every
// tick (rows, or rows x n_portfolios): what a monitor needs to see each
// crossing of a limit, without a Python loop over the ticks. `tick_at(i)`
// steps row i of the checked batch.
template <class State, class Tick>
py::array_t<double> te_path(Bound<State>& s, const py::array& p, const Tick& tick_at) {
    const std::ptrdiff_t n = s.state.portfolios();
    const py::ssize_t rows = p.shape(0);
    py::array_t<double> out = s.scalar ? py::array_t<double>(rows) : py::array_t<double>({rows, n});
    double* od = out.mutable_data();
    py::gil_scoped_release release;  // arrays held by the caller's frame; the state is ours
    for (py::ssize_t i = 0; i < rows; ++i) {
        tick_at(i);
        for (std::ptrdiff_t j = 0; j < n; ++j) od[i * n + j] = s.state.read(j).tracking_error;
    }
    return out;
}
template <class State>
py::array_t<double> tracking_error_path(Bound<State>& s, const py::object& p_obj, const py::object& b_obj) {
    if (needs_time(s.state))
        throw std::invalid_argument("tracking_error_path is for states without times (time_based=False)");
    const auto p = numbers("p", p_obj);
    const auto b = numbers("b", b_obj);
    const double* pd = p.data();
    const double* bd = b.data();
    const std::ptrdiff_t n = s.state.portfolios();
    check_path(s, p, b, nullptr);
    return te_path(s, p, [&](py::ssize_t i) { tick(s.state, pd + i * n, bd[i]); });
}
// TimeWindow's: every time is checked before the first tick is stepped.
py::array_t<double> time_tracking_error_path(Bound<stream::TimeWindow>& s, const py::object& p_obj,
                                             const py::object& b_obj, const py::object& t_obj) {
    const auto p = numbers("p", p_obj);
    const auto b = numbers("b", b_obj);
    const auto t = int64s("t", t_obj);
    check_path(s, p, b, &t);
    s.state.check_times(t.data(), t.shape(0));
    const double* pd = p.data();
    const double* bd = b.data();
    const std::int64_t* td = t.data();
    const std::ptrdiff_t n = s.state.portfolios();
    return te_path(s, p, [&](py::ssize_t i) { s.state.update(pd + i * n, bd[i], td[i]); });
}

// update(p, b) with two floats, the call a tick loop makes millions of
// times, straight from CPython's vectorcall: pybind11's overload dispatch
// costs about 100 ns a call, more than the tick itself. Any other call (ints,
// arrays, a time, keywords, a state for n_portfolios or time-based, a wrong
// number of arguments) goes to the pybind11 overloads, kept as `_update`,
// which do what update always did and give the same errors.
template <class State>
PyObject* fast_update(PyObject* self, PyObject* const* args, Py_ssize_t nargsf, PyObject* kwnames) noexcept {
    const Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (nargs == 2 && kwnames == nullptr && PyFloat_Check(args[0]) && PyFloat_Check(args[1])) {
        py::detail::make_caster<Bound<State>> self_caster;
        if (self_caster.load(self, false)) {
            Bound<State>& s = py::detail::cast_op<Bound<State>&>(self_caster);
            if (s.scalar && !needs_time(s.state)) {
                double p = PyFloat_AS_DOUBLE(args[0]);
                try {
                    s.state.update(&p, PyFloat_AS_DOUBLE(args[1]));
                    Py_RETURN_NONE;
                } catch (...) {
                    // (the state is unchanged: the general path raises it)
                }
            }
        }
    }
    static PyObject* const general = PyUnicode_InternFromString("_update");
    if (general == nullptr) return nullptr;
    const Py_ssize_t total = nargs + (kwnames != nullptr ? PyTuple_GET_SIZE(kwnames) : 0);
    std::vector<PyObject*> call(static_cast<std::size_t>(total + 1));
    call[0] = self;
    for (Py_ssize_t i = 0; i < total; ++i) call[static_cast<std::size_t>(i + 1)] = args[i];
    return PyObject_VectorcallMethod(general, call.data(), static_cast<std::size_t>(nargs + 1), kwnames);
}

template <class State, class Cls>
void install_fast_update(Cls& cls) {
    static PyMethodDef def = {
        "update", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&fast_update<State>)),
        METH_FASTCALL | METH_KEYWORDS,
        "update(p, b) or update(p, b, t): one tick (floats, or arrays across n_portfolios), a batch of "
        "ticks, or ticks with their times (time-based states); see the class docstring."};
    PyObject* descr = PyDescr_NewMethod(reinterpret_cast<PyTypeObject*>(cls.ptr()), &def);
    if (descr == nullptr) throw py::error_already_set();
    cls.attr("update") = py::reinterpret_steal<py::object>(descr);
}

// What every state has: read-outs, reset, copies, checkpoints and pickle.
template <class State, class Cls>
void shared(Cls& cls, const char* name) {
    cls.def_property_readonly("tracking_error",
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
        .def("reset",
             [](Bound<State>& s) {
                 s.state.reset();
                 s.zone = 0;  // a time window's next ticks may be naive or zone-aware again
             })
        .def("copy", [](const Bound<State>& s) { return s; })
        .def("to_bytes", [](const Bound<State>& s) { return dump(s); })
        .def_static(
            "from_bytes", [name](const py::object& data) { return load<State>(name, data); }, py::arg("data"),
            "Rebuild a state from to_bytes(); raises ValueError on bad input.")
        .def(py::pickle([](const Bound<State>& s) { return py::make_tuple(dump(s)); },
                        [name](const py::object& state) {
                            if (!py::isinstance<py::tuple>(state) || py::len(state) != 1)
                                throw py::type_error(std::string(name) +
                                                     ".__setstate__ takes a tuple (checkpoint bytes,)");
                            return load<State>(name, py::tuple(state)[0]);
                        }));
}

template <class State, class Cls>
void common(Cls& cls, const char* name) {
    // A copy constructor: copy() makes the Python subclass's instance from it,
    // a plain C++ copy of a state that is valid already (no checkpoint round trip).
    cls.def(py::init([](const Bound<State>& other) { return other; }), py::arg("other"));
    cls.def("tracking_error_path", &tracking_error_path<State>, py::arg("p"), py::arg("b"),
            "Update with a batch tick by tick; the tracking error after each tick.");
    cls.def(
           "_update",
           [](Bound<State>& s, Real p, Real b) {
               if (!s.scalar)
                   throw std::invalid_argument("with n_portfolios, a tick is an array of portfolio values");
               if (needs_time(s.state))
                   throw std::invalid_argument("this state is time-based: give each tick's time, update(p, b, t)");
               s.state.update(&p.v, b.v);
           },
           py::arg("p"), py::arg("b"), "One tick of floats (the fast path).")
        .def(
            "_update",
            [](Bound<State>& s, const py::object& p, Real b) {
                const double* d = s.scalar || needs_time(s.state) ? nullptr : tick_data(p, s.state.portfolios());
                if (d != nullptr) {
                    tick(s.state, d, b.v);
                    return;
                }
                update_any(s, p, py::float_(b.v), py::none());
            },
            py::arg("p"), py::arg("b"),
            "One tick across n_portfolios: a float64 array read in place (the fast path); anything else "
            "goes through the checked path.")
        .def(
            "_update",
            [](Bound<State>& s, const py::object& p, const py::object& b, const py::object& t) {
                update_any(s, p, b, t);
            },
            py::arg("p"), py::arg("b"), py::arg("t") = py::none(),
            "Numbers or arrays: one tick, a batch of ticks, or one tick across n_portfolios; t: the "
            "ticks' times (time-based states only).")
        .def(
            "_update",
            [name](Bound<State>&, const py::args& args, const py::kwargs& kwargs) {
                throw py::type_error(std::string(name) + ".update takes update(p, b) or update(p, b, t), not " +
                                     std::to_string(args.size()) + " positional argument(s)" +
                                     (kwargs.empty() ? std::string() : " and keywords " + shown(kwargs.attr("keys")())));
            },
            "Anything else: a one-line TypeError.");
    install_fast_update<State>(cls);
    shared<State>(cls, name);
}

template <class State, class Cls>
void mergeable(Cls& cls, const char* name, const char* doc) {
    cls.def(
        "merge",
        [name](Bound<State>& a, const py::object& other) -> Bound<State>& {
            if (!py::isinstance<Bound<State>>(other))
                throw py::type_error(std::string(name) + ".merge takes another " + name + ", not " +
                                     type_name(other) + " (=" + shown(other) + ")");
            const auto& b = other.cast<const Bound<State>&>();
            if (a.scalar != b.scalar)
                throw std::invalid_argument(
                    "cannot merge a state for one portfolio (n_portfolios=None) with one for n_portfolios=1");
            a.state += b.state;
            return a;
        },
        py::arg("other"), py::return_value_policy::reference_internal, doc);
}

}  // namespace

// The cheapest pybind11 method call: two doubles in, nothing done. The
// latency benchmark measures Window.update against it.
struct Probe {};

void register_stream(py::module_& m) {
    py::class_<Probe>(m, "_Probe")
        .def(py::init<>())
        .def("noop", [](Probe&, double, double) {}, py::arg("p"), py::arg("b"))
        .def(
            "noop_tick",
            [](Probe&, const py::object& p, Real b) {
                if (tick_data(p, -1) == nullptr) throw py::type_error("p must be a 1-D float64 array");
                (void)b;
            },
            py::arg("p"), py::arg("b"),
            "The call overhead of a tick across n_portfolios: the same argument checks, no state.");
    auto cum =
        py::class_<Bound<stream::Cumulative>>(m, "Cumulative", "Streaming metrics over every tick seen.");
    cum.def(py::init([](std::ptrdiff_t n, bool scalar, double ddof, double periods,
                        std::ptrdiff_t min_periods, double risk_free) {
                try {
                    return Bound<stream::Cumulative>{
                        stream::Cumulative(n, make_options(ddof, periods, min_periods, risk_free)), scalar};
                } catch (const std::bad_alloc&) {
                    out_of_memory("n_portfolios=" + std::to_string(n));
                }
            }),
            py::arg("n"), py::arg("scalar"), py::arg("ddof"), py::arg("periods"), py::arg("min_periods"),
            py::arg("risk_free"));
    common<stream::Cumulative>(cum, "Cumulative");
    mergeable<stream::Cumulative>(cum, "Cumulative", "Combine with another stream's state (Chan).");

    auto win =
        py::class_<Bound<stream::Window>>(m, "Window", "Streaming metrics over the last `window` ticks.");
    win.def(py::init([](std::ptrdiff_t window, std::ptrdiff_t n, bool scalar, double ddof, double periods,
                        std::ptrdiff_t min_periods, double risk_free) {
                try {
                    return Bound<stream::Window>{
                        stream::Window(window, n, make_options(ddof, periods, min_periods, risk_free)), scalar};
                } catch (const std::bad_alloc&) {
                    out_of_memory("n_portfolios=" + std::to_string(n));
                }
            }),
            py::arg("window"), py::arg("n"), py::arg("scalar"), py::arg("ddof"), py::arg("periods"),
            py::arg("min_periods"), py::arg("risk_free"));
    common<stream::Window>(win, "Window");
    win.def_property_readonly("window", [](const Bound<stream::Window>& s) { return s.state.window(); });

    using stream::TimeWindow;
    auto tw = py::class_<Bound<TimeWindow>>(m, "TimeWindow",
                                            "Streaming metrics over the ticks of the last span of time.");
    tw.def(py::init([](std::int64_t span, std::ptrdiff_t n, bool scalar, double ddof, double periods,
                       std::ptrdiff_t min_periods, double risk_free) {
               try {
                   return Bound<TimeWindow>{
                       TimeWindow(span, n, make_options(ddof, periods, min_periods, risk_free)), scalar};
               } catch (const std::bad_alloc&) {
                   out_of_memory("n_portfolios=" + std::to_string(n));
               }
           }),
           py::arg("span"), py::arg("n"), py::arg("scalar"), py::arg("ddof"), py::arg("periods"),
           py::arg("min_periods"), py::arg("risk_free"));
    tw.def(py::init([](const Bound<TimeWindow>& other) { return other; }), py::arg("other"));
    tw.def("update", &update_time, py::arg("p"), py::arg("b"), py::arg("t") = py::none(),
           "One tick at time t (int64 nanoseconds), or a batch with an int64 array of times.");
    tw.def(
        "tracking_error_path", &time_tracking_error_path, py::arg("p"), py::arg("b"), py::arg("t"),
        "Update with a batch tick by tick (times as int64 nanoseconds); the tracking error after each tick.");
    shared<TimeWindow>(tw, "TimeWindow");
    tw.def_property_readonly("span", [](const Bound<TimeWindow>& s) { return s.state.span(); })
        .def_property_readonly("held", [](const Bound<TimeWindow>& s) { return s.state.held(); })
        .def_property_readonly("ticks", [](const Bound<TimeWindow>& s) { return s.state.ticks(); })
        .def_property_readonly("last_time",
                               [](const Bound<TimeWindow>& s) -> py::object {
                                   if (s.state.held() == 0) return py::none();
                                   return py::int_(s.state.last_time());
                               })
        .def_property(
            "_zone",
            [](const Bound<TimeWindow>& s) -> py::object {
                if (s.zone == TimeWindow::flag_naive) return py::str("naive");
                if (s.zone == TimeWindow::flag_aware) return py::str("aware");
                return py::none();
            },
            [](Bound<TimeWindow>& s, const py::object& zone) {
                if (zone.is_none()) {
                    s.zone = 0;
                    return;
                }
                const std::string z = py::str(zone);
                if (z != "naive" && z != "aware")
                    throw std::invalid_argument("_zone is None, 'naive' or 'aware'");
                s.zone = z == "naive" ? TimeWindow::flag_naive : TimeWindow::flag_aware;
            },
            "Whether the times came from naive or zone-aware datetimes (None before the first tick).");

    auto ewm =
        py::class_<Bound<stream::Exponential>>(m, "Exponential", "Exponentially weighted streaming metrics.");
    ewm.def(py::init([](double alpha, double halflife_time, bool adjust, std::ptrdiff_t n, bool scalar,
                        double ddof, double periods, std::ptrdiff_t min_periods, double risk_free) {
                try {
                    return Bound<stream::Exponential>{
                        stream::Exponential(alpha, n, make_options(ddof, periods, min_periods, risk_free),
                                            halflife_time, adjust),
                        scalar};
                } catch (const std::bad_alloc&) {
                    out_of_memory("n_portfolios=" + std::to_string(n));
                }
            }),
            py::arg("alpha"), py::arg("halflife_time"), py::arg("adjust"), py::arg("n"), py::arg("scalar"),
            py::arg("ddof"), py::arg("periods"), py::arg("min_periods"), py::arg("risk_free"));
    // The float fast path with a time comes first; common() registers the
    // two-float fast path, then the general path (numbers or arrays, t
    // optional) and a catch-all that raises one line.
    ewm.def(
        "_update",
        [](Bound<stream::Exponential>& s, Real p, Real b, Real t) {
            if (!s.scalar)
                throw std::invalid_argument("with n_portfolios, a tick is an array of portfolio values");
            if (!s.state.timed())
                throw std::invalid_argument(
                    "t is for time-based states (Exponential(halflife=..., time_based=True)); call update(p, b)");
            s.state.update(&p.v, b.v, t.v);
        },
        py::arg("p"), py::arg("b"), py::arg("t"), "One tick of floats at time t (time-based decay).");
    common<stream::Exponential>(ewm, "Exponential");
    mergeable<stream::Exponential>(ewm, "Exponential",
                                   "Append another state's stream (its ticks come after this one's).");
    ewm.def_property_readonly("smoothing",
                              [](const Bound<stream::Exponential>& s) { return s.state.smoothing(); });
    ewm.def_property_readonly("halflife_time",
                              [](const Bound<stream::Exponential>& s) { return s.state.halflife(); });
    ewm.def_property_readonly("adjust", [](const Bound<stream::Exponential>& s) { return s.state.adjust(); });
    ewm.def_property_readonly("time_based",
                              [](const Bound<stream::Exponential>& s) { return s.state.timed(); });
}

}  // namespace trackerr::bindings
