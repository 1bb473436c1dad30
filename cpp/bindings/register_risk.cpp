// Risk metrics (max drawdown, Sortino, Omega, capture ratios): argument
// checks, numpy -> views, GIL release, then the kernels of risk.hpp.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <trackerr/trackerr.hpp>
#include <vector>

#include "kernel_args.hpp"
#include "pybind.hpp"

namespace trackerr::bindings {
namespace {

Risk parse_risk(const std::string& name) {
    static const std::pair<const char*, Risk> table[] = {
        {"max_drawdown", Risk::max_drawdown}, {"sortino_ratio", Risk::sortino_ratio},
        {"omega_ratio", Risk::omega_ratio},   {"up_capture", Risk::up_capture},
        {"down_capture", Risk::down_capture},
    };
    for (const auto& [key, value] : table)
        if (name == key) return value;
    throw std::invalid_argument("unknown risk metric '" + name + "'");
}

bool is64(const py::array& a) {
    return holds<double>(a);
}
bool is32(const py::array& a) {
    return holds<float>(a);
}

template <class T>
View<T> view_1d(const py::array& a) {
    return View<T>(static_cast<const T*>(a.data()), a.shape(0), a.strides(0));
}

template <class T>
Panel<T> panel_of(const py::array& a, std::ptrdiff_t cols) {
    if (a.ndim() == 1) return broadcast(view_1d<T>(a), cols);  // one column shared by every portfolio
    return Panel<T>(static_cast<const T*>(a.data()), a.shape(0), a.shape(1), a.strides(0), a.strides(1));
}

// The benchmark of a two-series metric, or the returns again (ignored) for a one-series one.
const py::array& checked_pair(Risk metric, const py::array& p, const std::optional<py::array>& b) {
    for (const py::array* a : {&p, b ? &*b : nullptr}) {
        if (a == nullptr) continue;
        if (!is64(*a) && !is32(*a)) throw py::type_error("trackerr._core expects float32 or float64 arrays");
        if (a->ndim() != 1 && a->ndim() != 2)
            throw std::invalid_argument("trackerr._core expects 1-D or 2-D arrays");
    }
    const bool two = metric == Risk::up_capture || metric == Risk::down_capture;
    if (!two) return p;
    if (!b) throw std::invalid_argument("a capture ratio needs a benchmark");
    if (b->shape(0) != p.shape(0))
        throw std::invalid_argument("portfolio has length " + std::to_string(p.shape(0)) +
                                    " but benchmark has length " + std::to_string(b->shape(0)));
    if (b->ndim() == 2 && (p.ndim() != 2 || b->shape(1) != p.shape(1)))
        throw std::invalid_argument("a 2-D benchmark must have the portfolio's shape");
    return *b;
}

template <class TP, class TB>
py::object evaluate_typed(Risk metric, const py::array& p, const py::array& b, const RiskParams& prm) {
    if (p.ndim() == 1) {
        const View<TP> pv = view_1d<TP>(p);
        const View<TB> bv = view_1d<TB>(b);
        RiskResult r;
        {
            // Safe: the views point into arrays the caller keeps alive; no Python object is touched.
            py::gil_scoped_release release;
            r = risk(metric, pv, bv, prm);
        }
        return py::make_tuple(r.value, r.skipped);
    }
    const std::ptrdiff_t cols = p.shape(1);
    const Panel<TP> pp = panel_of<TP>(p, cols);
    const Panel<TB> bp = panel_of<TB>(b, cols);
    py::array_t<double> values(cols);
    py::array_t<std::int64_t> skipped(cols);
    double* vout = values.mutable_data();
    std::int64_t* sout = skipped.mutable_data();
    {
        // Safe: outputs were allocated above, inputs are alive in the caller.
        py::gil_scoped_release release;
        risk(metric, pp, bp, prm, vout, sout);
    }
    return py::make_tuple(values, skipped);
}

py::object risk_entry(const std::string& name, const py::array& p, const std::optional<py::array>& b,
                      double target, double periods) {
    const Risk metric = parse_risk(name);
    const py::array& bb = checked_pair(metric, p, b);
    RiskParams prm;
    prm.target = target;
    prm.periods = periods;
    if (is64(p)) {
        if (is64(bb)) return evaluate_typed<double, double>(metric, p, bb, prm);
        return evaluate_typed<double, float>(metric, p, bb, prm);
    }
    if (is64(bb)) return evaluate_typed<float, double>(metric, p, bb, prm);
    return evaluate_typed<float, float>(metric, p, bb, prm);
}

template <class TP, class TB>
void rolling_typed(Risk metric, const py::array& p, const py::array& b, const RiskParams& prm,
                   const py::array& out, int threads) {
    OutView ov{static_cast<double*>(const_cast<void*>(out.data())), out.strides(0)};
    if (p.ndim() == 1) {
        const View<TP> pv = view_1d<TP>(p);
        const View<TB> bv = view_1d<TB>(b);
        py::gil_scoped_release release;  // views into arrays the caller keeps alive
        rolling_risk(metric, pv, bv, prm, ov);
        return;
    }
    const Panel<TP> pp = panel_of<TP>(p, p.shape(1));
    const Panel<TB> bp = panel_of<TB>(b, p.shape(1));
    const std::ptrdiff_t col_stride = out.strides(1);
    py::gil_scoped_release release;  // as above; the output was checked by the caller
    rolling_risk(metric, pp, bp, prm, ov, col_stride, threads);
}

// The checks and the dispatch on dtypes both rolling entries share.
void run_rolling(const std::string& name, const py::array& p, const std::optional<py::array>& b,
                 const RiskParams& prm, const py::array& out, int threads) {
    const Risk metric = parse_risk(name);
    const py::array& bb = checked_pair(metric, p, b);
    if (!is64(out) || !out.writeable()) throw py::type_error("out must be a writeable float64 array");
    if (out.ndim() != p.ndim() || out.shape(0) != p.shape(0) || (p.ndim() == 2 && out.shape(1) != p.shape(1)))
        throw std::invalid_argument("out does not have the portfolio's shape");
    if (is64(p)) {
        if (is64(bb)) return rolling_typed<double, double>(metric, p, bb, prm, out, threads);
        return rolling_typed<double, float>(metric, p, bb, prm, out, threads);
    }
    if (is64(bb)) return rolling_typed<float, double>(metric, p, bb, prm, out, threads);
    return rolling_typed<float, float>(metric, p, bb, prm, out, threads);
}

void rolling_entry(const std::string& name, const py::array& p, const std::optional<py::array>& b,
                   const py::object& window_arg, const py::object& min_periods_arg, double target,
                   double periods, const py::array& out, const py::object& threads_arg_) {
    const long long window = integer_arg(window_arg, "window", 1, PTRDIFF_MAX);
    const long long min_periods = integer_arg(min_periods_arg, "min_periods", 0, window);
    const int threads = threads_arg(threads_arg_);
    RiskParams prm;
    prm.target = target;
    prm.periods = periods;
    prm.window = static_cast<std::ptrdiff_t>(window);
    prm.min_periods = static_cast<std::ptrdiff_t>(min_periods);
    run_rolling(name, p, b, prm, out, threads);
}

// Time windows: int64 times (one per row, non-decreasing: checked by the
// kernel) and a span > 0; min_periods counts observations (0: 1).
void rolling_time_entry(const std::string& name, const py::array& p, const std::optional<py::array>& b,
                        const py::array& times, long long span, const py::object& min_periods_arg, double target,
                        double periods, const py::array& out, const py::object& threads_arg_, long long segment,
                        long long origin) {
    const long long min_periods = integer_arg(min_periods_arg, "min_periods", 0, PTRDIFF_MAX);
    const int threads = threads_arg(threads_arg_);
    RiskParams prm;
    prm.target = target;
    prm.periods = periods;
    prm.window = 1;
    prm.min_periods = static_cast<std::ptrdiff_t>(min_periods);
    prm.times = times_arg(times, p.ndim() >= 1 ? p.shape(0) : 0);
    prm.span = static_cast<std::int64_t>(span);
    prm.segment = static_cast<std::ptrdiff_t>(segment);  // checked by the kernel
    prm.origin = static_cast<std::ptrdiff_t>(origin);
    run_rolling(name, p, b, prm, out, threads);
}

// Mergeable summaries (risk.hpp): one row of bytes per column.
py::array summaries_entry(const std::string& name, const py::array& p, const std::optional<py::array>& b,
                          double target, double periods) {
    const Risk metric = parse_risk(name);
    const py::array& bb = checked_pair(metric, p, b);
    RiskParams prm;
    prm.target = target;
    prm.periods = periods;
    const auto size = static_cast<py::ssize_t>(risk_summary_size(metric));
    const py::ssize_t cols = p.ndim() == 2 ? p.shape(1) : 1;
    py::array_t<std::uint8_t> out(p.ndim() == 2 ? std::vector<py::ssize_t>{cols, size} : std::vector<py::ssize_t>{size});
    unsigned char* dst = out.mutable_data();
    auto run = [&](auto tp, auto tb) {
        using TP = decltype(tp);
        using TB = decltype(tb);
        const Panel<TP> pp = panel_of<TP>(p, cols);
        const Panel<TB> bp = panel_of<TB>(bb, cols);
        py::gil_scoped_release release;  // views into arrays the caller keeps alive
        for (py::ssize_t c = 0; c < cols; ++c)
            risk_summary(metric, pp.column(c), bp.column(bb.ndim() == 2 ? c : 0), prm, dst + c * size);
    };
    if (is64(p)) {
        if (is64(bb)) run(double{}, double{}); else run(double{}, float{});
    } else {
        if (is64(bb)) run(float{}, double{}); else run(float{}, float{});
    }
    return out;
}

py::array merge_entry(const std::string& name, const py::array& left, const py::array& right) {
    const Risk metric = parse_risk(name);
    const auto size = static_cast<py::ssize_t>(risk_summary_size(metric));
    auto l = py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast>::ensure(left);
    auto r = py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast>::ensure(right);
    if (!l || !r || l.ndim() != r.ndim() || l.size() != r.size() || l.size() % size != 0 ||
        l.shape(l.ndim() - 1) != size)
        throw std::invalid_argument("summaries of '" + name + "' must be uint8 arrays of matching shapes, " +
                                    std::to_string(size) + " bytes a column");
    py::array_t<std::uint8_t> out(std::vector<py::ssize_t>(l.shape(), l.shape() + l.ndim()));
    for (py::ssize_t k = 0; k < l.size(); k += size) risk_merge(metric, l.data() + k, r.data() + k, out.mutable_data() + k);
    return out;
}

py::tuple values_entry(const std::string& name, const py::array& summaries, double target, double periods,
                       long long rows) {
    const Risk metric = parse_risk(name);
    const auto size = static_cast<py::ssize_t>(risk_summary_size(metric));
    auto s = py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast>::ensure(summaries);
    if (!s || s.size() % size != 0 || s.ndim() < 1 || s.shape(s.ndim() - 1) != size)
        throw std::invalid_argument("summaries of '" + name + "' must be uint8 arrays of " + std::to_string(size) +
                                    " bytes a column");
    RiskParams prm;
    prm.target = target;
    prm.periods = periods;
    const py::ssize_t cols = s.size() / size;
    py::array_t<double> values(cols);
    py::array_t<std::int64_t> skipped(cols);
    for (py::ssize_t c = 0; c < cols; ++c) {
        const RiskResult r = risk_summary_value(metric, s.data() + c * size, prm, rows);
        values.mutable_data()[c] = r.value;
        skipped.mutable_data()[c] = r.skipped;
    }
    return py::make_tuple(values, skipped);
}

}  // namespace

void register_risk(py::module_& m) {
    m.def("risk_summaries", &summaries_entry, py::arg("metric"), py::arg("returns"), py::arg("benchmark"),
          py::arg("target"), py::arg("periods"),
          "Mergeable summaries of every row of each column (risk.hpp's risk_summary): uint8,\n"
          "one row of bytes per column (a 1-D array for 1-D returns).");
    m.def("risk_merge", &merge_entry, py::arg("metric"), py::arg("left"), py::arg("right"),
          "The summaries of left's rows followed by right's, column by column.");
    m.def("risk_values", &values_entry, py::arg("metric"), py::arg("summaries"), py::arg("target"),
          py::arg("periods"), py::arg("rows"),
          "(values, skipped) of summaries covering `rows` rows, as `risk` gives them.");
    m.def("risk", &risk_entry, py::arg("metric"), py::arg("returns"), py::arg("benchmark"), py::arg("target"),
          py::arg("periods"),
          "Full-sample risk metric (max_drawdown, sortino_ratio, omega_ratio, up_capture,\n"
          "down_capture) of float32/float64 arrays (1-D or T x N). Returns (value, skipped)\n"
          "as `evaluate` does; benchmark is None for the one-series metrics.");
    m.def("rolling_risk", &rolling_entry, py::arg("metric"), py::arg("returns"), py::arg("benchmark"),
          py::arg("window"), py::arg("min_periods"), py::arg("target"), py::arg("periods"), py::arg("out"),
          py::arg("threads"),
          "Rolling risk metric written into `out` (float64, the returns' shape).\n"
          "window >= 1, 0 <= min_periods <= window (0: window), 0 <= threads <= 1024 (0: one per core).");
    m.def("rolling_risk_time", &rolling_time_entry, py::arg("metric"), py::arg("returns"), py::arg("benchmark"),
          py::arg("times"), py::arg("span"), py::arg("min_periods"), py::arg("target"), py::arg("periods"),
          py::arg("out"), py::arg("threads"), py::arg("segment") = 0, py::arg("origin") = 0,
          "Rolling risk metric over time windows (times[t] - span, times[t]]: int64 times (non-decreasing)\n"
          "and span > 0 in one unit; min_periods counts observations (0: 1). segment, origin: where\n"
          "the series is cut (0, 0: its own cuts; see _core.time_segment_length).");
}

}  // namespace trackerr::bindings
