// Rolling metrics: argument checks, numpy -> views, output arrays, GIL
// release, then the C++ rolling kernels.
#include <cstdint>
#include <string>
#include <trackerr/trackerr.hpp>
#include <vector>

#include "kernel_args.hpp"
#include "kernels.hpp"
#include "pybind.hpp"

namespace trackerr::bindings {
namespace {

constexpr const char* metric_names[7] = {"tracking_error", "active_return", "information_ratio", "beta",
                                         "alpha",          "correlation",   "r_squared"};

int metric_index(const std::string& name) {
    for (int k = 0; k < 7; ++k)
        if (name == metric_names[k]) return k;
    throw std::invalid_argument("unknown rolling metric '" + name + "'");
}

void rolling_entry(const std::vector<std::string>& metrics, const py::array& p, const py::array& b,
                   const py::object& window_arg, const py::object& min_periods_arg, double ddof, double periods,
                   double risk_free, bool geometric_alpha, const std::vector<py::array>& outputs,
                   const py::object& threads_arg_, long long segment, long long origin) {
    const long long window = integer_arg(window_arg, "window", 2, PTRDIFF_MAX);
    const long long min_periods = integer_arg(min_periods_arg, "min_periods", 0, window);
    const int threads = threads_arg(threads_arg_);
    if (metrics.size() != outputs.size()) throw std::invalid_argument("one output array per metric");
    const auto is64 = [](const py::array& a) { return holds<double>(a); };
    const auto is32 = [](const py::array& a) { return holds<float>(a); };
    for (const auto* a : {&p, &b})
        if (!is64(*a) && !is32(*a)) throw py::type_error("trackerr._core expects float32 or float64 arrays");
    if (p.ndim() != 1 && p.ndim() != 2) throw std::invalid_argument("portfolio must be 1-D or 2-D");
    if (b.ndim() != 1 && !(b.ndim() == 2 && p.ndim() == 2 && b.shape(1) == p.shape(1)))
        throw std::invalid_argument("benchmark must be 1-D or have the portfolio's shape");
    kernels::RollingJob job;
    auto array = [&](const py::array& a) {
        kernels::Array out;
        out.data = a.data();
        out.f32 = is32(a);
        out.ndim = static_cast<int>(a.ndim());
        out.rows = a.shape(0);
        out.row_stride = a.strides(0);
        out.cols = a.ndim() == 2 ? a.shape(1) : 1;
        out.col_stride = a.ndim() == 2 ? a.strides(1) : 0;
        return out;
    };
    job.p = array(p);
    job.b = array(b);
    job.window = static_cast<std::ptrdiff_t>(window);
    job.min_periods = static_cast<std::ptrdiff_t>(min_periods);
    job.segment = static_cast<std::ptrdiff_t>(segment);  // checked by the kernel
    job.origin = static_cast<std::ptrdiff_t>(origin);
    job.ddof = ddof;
    job.periods = periods;
    job.risk_free = risk_free;
    job.geometric_alpha = geometric_alpha;
    job.threads = threads;
    for (std::size_t i = 0; i < metrics.size(); ++i) {
        const py::array& o = outputs[i];
        if (!is64(o) || !o.writeable()) throw py::type_error("outputs must be writeable float64 arrays");
        if (o.ndim() != p.ndim() || o.shape(0) != p.shape(0) || (p.ndim() == 2 && o.shape(1) != p.shape(1)))
            throw std::invalid_argument("an output array does not have the portfolio's shape");
        const int k = metric_index(metrics[i]);
        job.out[k] = static_cast<double*>(const_cast<void*>(o.data()));
        job.out_row_stride[k] = o.strides(0);
        job.out_col_stride[k] = o.ndim() == 2 ? o.strides(1) : 0;
    }
    const kernels::Table& table = kernels::active();
    py::gil_scoped_release release;  // views into arrays the caller keeps alive
    table.rolling(job);
}

// Time windows: float64 inputs (the Python layer converts), int64 times.
void rolling_time_entry(const std::vector<std::string>& metrics, const py::array& p, const py::array& b,
                        const py::array& times, long long span, const py::object& min_periods_arg, double ddof,
                        double periods, double risk_free, bool geometric_alpha,
                        const std::vector<py::array>& outputs, const py::object& threads_arg_, long long segment,
                        long long origin) {
    const int threads = threads_arg(threads_arg_);
    const long long rows = p.ndim() >= 1 ? static_cast<long long>(p.shape(0)) : 0;
    const long long min_periods = integer_arg(min_periods_arg, "min_periods", 0, PTRDIFF_MAX);
    if (metrics.size() != outputs.size()) throw std::invalid_argument("one output array per metric");
    const auto is64 = [](const py::array& a) { return holds<double>(a); };
    if (!is64(p) || !is64(b)) throw py::type_error("trackerr._core.rolling_time expects float64 arrays");
    const std::int64_t* tv = times_arg(times, rows);
    if (p.ndim() != 1 && p.ndim() != 2) throw std::invalid_argument("portfolio must be 1-D or 2-D");
    if (b.ndim() != 1 && !(b.ndim() == 2 && p.ndim() == 2 && b.shape(1) == p.shape(1)))
        throw std::invalid_argument("benchmark must be 1-D or have the portfolio's shape");
    if (b.shape(0) != rows) throw std::invalid_argument("portfolio and benchmark lengths differ");
    RollingParams prm;
    prm.window = 2;
    prm.min_periods = static_cast<std::ptrdiff_t>(min_periods);
    prm.ddof = ddof;
    prm.periods = periods;
    prm.risk_free = risk_free;
    prm.geometric_alpha = geometric_alpha;
    prm.segment = static_cast<std::ptrdiff_t>(segment);  // checked by the kernel
    prm.origin = static_cast<std::ptrdiff_t>(origin);
    OutPanel out{};
    OutView* fields[7] = {&out.columns.tracking_error, &out.columns.active_return, &out.columns.information_ratio,
                          &out.columns.beta,           &out.columns.alpha,         &out.columns.correlation,
                          &out.columns.r_squared};
    for (std::size_t i = 0; i < metrics.size(); ++i) {
        const py::array& o = outputs[i];
        if (!is64(o) || !o.writeable()) throw py::type_error("outputs must be writeable float64 arrays");
        if (o.ndim() != p.ndim() || o.shape(0) != rows || (p.ndim() == 2 && o.shape(1) != p.shape(1)))
            throw std::invalid_argument("an output array does not have the portfolio's shape");
        const int k = metric_index(metrics[i]);
        *fields[k] = OutView{static_cast<double*>(const_cast<void*>(o.data())), o.strides(0)};
        out.col_stride[k] = o.ndim() == 2 ? o.strides(1) : 0;
    }
    const auto* pd = static_cast<const double*>(p.data());
    const auto* bd = static_cast<const double*>(b.data());
    py::gil_scoped_release release;  // views into arrays the caller keeps alive
    if (p.ndim() == 1) {
        rolling_time(View<double>(pd, rows, p.strides(0)), View<double>(bd, rows, b.strides(0)), tv,
                     static_cast<std::int64_t>(span), prm, out.columns, threads);
        return;
    }
    const Panel<double> pp(pd, rows, p.shape(1), p.strides(0), p.strides(1));
    const Panel<double> bp = b.ndim() == 1 ? broadcast(View<double>(bd, rows, b.strides(0)), p.shape(1))
                                           : Panel<double>(bd, rows, b.shape(1), b.strides(0), b.strides(1));
    rolling_time(pp, bp, tv, static_cast<std::int64_t>(span), prm, out, threads);
}

}  // namespace

void register_rolling(py::module_& m) {
    m.def("rolling", &rolling_entry, py::arg("metrics"), py::arg("portfolio"), py::arg("benchmark"),
          py::arg("window"), py::arg("min_periods"), py::arg("ddof"), py::arg("periods"),
          py::arg("risk_free"), py::arg("geometric_alpha"), py::arg("outputs"), py::arg("threads"),
          py::arg("segment") = 0, py::arg("origin") = 0,
          "Rolling metrics written into the given float64 output arrays (one per metric name),\n"
          "each of the portfolio's shape. window >= 2, 0 <= min_periods <= window (0: window),\n"
          "0 <= threads <= 1024 (0: one per core). segment, origin: where the series is cut\n"
          "(RollingParams; 0, 0: the default cuts).");
    m.def("segment_length", [](long long rows, long long window) {
              if (rows < 0 || window < 2) throw std::invalid_argument("rows >= 0 and window >= 2");
              return static_cast<long long>(
                  detail::segment_length(static_cast<std::ptrdiff_t>(rows), static_cast<std::ptrdiff_t>(window)));
          }, py::arg("rows"), py::arg("window"),
          "Rows per segment of the rolling kernels' default cuts for a series of `rows` rows.");
    m.def("rolling_time", &rolling_time_entry, py::arg("metrics"), py::arg("portfolio"), py::arg("benchmark"),
          py::arg("times"), py::arg("span"), py::arg("min_periods"), py::arg("ddof"), py::arg("periods"),
          py::arg("risk_free"), py::arg("geometric_alpha"), py::arg("outputs"), py::arg("threads"),
          py::arg("segment") = 0, py::arg("origin") = 0,
          "Rolling metrics over time windows (times[t] - span, times[t]]: float64 inputs, int64\n"
          "times (non-decreasing) and span > 0 in one unit; min_periods counts observations (0: 1).\n"
          "segment, origin: where the series is cut (0, 0: its own cuts; see time_segment_length).");
    m.def("time_segment_length", [](std::int64_t first, std::int64_t last, long long rows, std::int64_t span) {
              if (rows < 0 || span <= 0 || last < first) throw std::invalid_argument("rows >= 0, span > 0, last >= first");
              return static_cast<long long>(
                  detail::time_segment_length(first, last, static_cast<std::ptrdiff_t>(rows), span));
          }, py::arg("first"), py::arg("last"), py::arg("rows"), py::arg("span"),
          "Rows per segment of the time-window kernels' own cuts for `rows` rows of times from\n"
          "`first` to `last` and windows of `span` (the same unit).");
}

}  // namespace trackerr::bindings
