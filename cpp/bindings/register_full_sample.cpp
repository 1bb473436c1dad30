// Full-sample metrics: array checks, numpy -> views, GIL release, then the
// C++ kernels. No arithmetic on samples happens here.
#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <trackerr/trackerr.hpp>
#include <vector>

#include "kernel_args.hpp"
#include "pybind.hpp"

namespace trackerr::bindings {
namespace {

enum class Metric {
    tracking_error,
    tracking_difference,
    tracking_difference_arithmetic,
    active_return,
    active_return_geometric,
    information_ratio,
    information_ratio_geometric,
    beta,
    alpha,
    alpha_geometric,
    correlation,
    r_squared,
};

Metric parse_metric(const std::string& name) {
    static const std::pair<const char*, Metric> table[] = {
        {"tracking_error", Metric::tracking_error},
        {"tracking_difference", Metric::tracking_difference},
        {"tracking_difference_arithmetic", Metric::tracking_difference_arithmetic},
        {"active_return", Metric::active_return},
        {"active_return_geometric", Metric::active_return_geometric},
        {"information_ratio", Metric::information_ratio},
        {"information_ratio_geometric", Metric::information_ratio_geometric},
        {"beta", Metric::beta},
        {"alpha", Metric::alpha},
        {"alpha_geometric", Metric::alpha_geometric},
        {"correlation", Metric::correlation},
        {"r_squared", Metric::r_squared},
    };
    for (const auto& [key, value] : table)
        if (name == key) return value;
    throw std::invalid_argument("unknown metric '" + name + "'");
}

struct Options {
    double ddof;
    double periods;  // NaN: per period
    double risk_free;
};

// Which states a metric reads.
bool needs_mean_only(Metric m) {
    return m == Metric::tracking_difference_arithmetic || m == Metric::active_return;
}
bool needs_moments(Metric m) {
    return m == Metric::tracking_error || needs_mean_only(m) || m == Metric::information_ratio ||
           m == Metric::information_ratio_geometric;
}
bool needs_growth(Metric m) {
    return m == Metric::tracking_difference || m == Metric::active_return_geometric ||
           m == Metric::information_ratio_geometric;
}
bool needs_comoments(Metric m) {
    return m == Metric::beta || m == Metric::alpha || m == Metric::alpha_geometric ||
           m == Metric::correlation || m == Metric::r_squared;
}

struct States {
    Accumulated<Moments> moments;
    Accumulated<CoMoments> co;
    Accumulated<Growth> growth;
    std::int64_t skipped() const { return std::max({moments.skipped, co.skipped, growth.skipped}); }
};

double value_of(Metric m, const States& s, const Options& o) {
    namespace mt = trackerr::metrics;
    const int sa = s.moments.scale_p, sp = s.co.scale_p, sb = s.co.scale_b;  // see Accumulated
    switch (m) {
        case Metric::tracking_error:
            return mt::tracking_error(s.moments.state, o.ddof, o.periods, sa);
        case Metric::tracking_difference:
            return mt::tracking_difference(s.growth.state, o.periods);
        case Metric::tracking_difference_arithmetic:
            return mt::tracking_difference_arithmetic(s.moments.state, o.periods, sa);
        case Metric::active_return:
            return mt::active_return(s.moments.state, o.periods, sa);
        case Metric::active_return_geometric:
            return mt::active_return_geometric(s.growth.state, o.periods);
        case Metric::information_ratio:
            return mt::information_ratio(s.moments.state, o.ddof, o.periods);
        case Metric::information_ratio_geometric:
            return mt::information_ratio_geometric(s.moments.state, s.growth.state, o.ddof, o.periods, sa);
        case Metric::beta:
            return mt::beta(s.co.state, sp, sb);
        case Metric::alpha:
            return mt::alpha(s.co.state, o.risk_free, o.periods, sp, sb);
        case Metric::alpha_geometric:
            return mt::alpha_geometric(s.co.state, o.risk_free, o.periods, sp, sb);
        case Metric::correlation:
            return mt::correlation(s.co.state);
        case Metric::r_squared:
            return mt::r_squared(s.co.state);
    }
    return trackerr::detail::nan_v;
}

template <class T>
View<T> view_1d(const py::array& a) {
    return View<T>(static_cast<const T*>(a.data()), a.shape(0), a.strides(0));
}

template <class T>
Panel<T> panel_of(const py::array& a, std::ptrdiff_t cols) {
    if (a.ndim() == 1)  // a benchmark column shared by every portfolio
        return broadcast(view_1d<T>(a), cols);
    return Panel<T>(static_cast<const T*>(a.data()), a.shape(0), a.shape(1), a.strides(0), a.strides(1));
}

template <class TP, class TB>
py::tuple evaluate_typed(Metric metric, const py::array& p, const py::array& b, const Options& o) {
    if (p.ndim() == 1) {
        if (b.ndim() != 1) throw std::invalid_argument("a 1-D portfolio needs a 1-D benchmark");
        const View<TP> pv = view_1d<TP>(p);
        const View<TB> bv = view_1d<TB>(b);
        States s;
        double value;
        {
            // Safe: the views point into arrays this frame keeps alive, and
            // the kernels touch no Python object.
            py::gil_scoped_release release;
            if (needs_mean_only(metric))
                s.moments = active_mean(pv, bv);
            else if (needs_moments(metric))
                s.moments = active_moments(pv, bv);
            if (needs_growth(metric)) s.growth = growth(pv, bv);
            if (needs_comoments(metric)) s.co = comoments(pv, bv);
            value = value_of(metric, s, o);
        }
        return py::make_tuple(value, s.skipped());
    }
    const std::ptrdiff_t cols = p.shape(1);
    const Panel<TP> pp = panel_of<TP>(p, cols);
    const Panel<TB> bp = panel_of<TB>(b, cols);
    py::array_t<double> values(cols);
    py::array_t<std::int64_t> skipped(cols);
    double* vout = values.mutable_data();
    std::int64_t* sout = skipped.mutable_data();
    {
        // Safe: outputs were allocated above; inputs are kept alive by the caller's frame.
        py::gil_scoped_release release;
        std::vector<States> s(static_cast<std::size_t>(cols));
        std::vector<Accumulated<Moments>> am;
        std::vector<Accumulated<CoMoments>> ac;
        std::vector<Accumulated<Growth>> ag;
        if (needs_moments(metric)) {
            am.resize(s.size());
            active_moments(pp, bp, am.data());
        }
        if (needs_growth(metric)) {
            ag.resize(s.size());
            growth(pp, bp, ag.data());
        }
        if (needs_comoments(metric)) {
            ac.resize(s.size());
            comoments(pp, bp, ac.data());
        }
        for (std::size_t j = 0; j < s.size(); ++j) {
            if (!am.empty()) s[j].moments = am[j];
            if (!ag.empty()) s[j].growth = ag[j];
            if (!ac.empty()) s[j].co = ac[j];
            vout[j] = value_of(metric, s[j], o);
            sout[j] = s[j].skipped();
        }
    }
    return py::make_tuple(values, skipped);
}

bool is_float64(const py::array& a) {
    return holds<double>(a);
}
bool is_float32(const py::array& a) {
    return holds<float>(a);
}

py::tuple evaluate(const std::string& name, const py::array& p, const py::array& b, double ddof,
                   double periods, double risk_free) {
    const Metric metric = parse_metric(name);
    for (const auto* a : {&p, &b}) {
        if (!is_float64(*a) && !is_float32(*a))
            throw py::type_error("trackerr._core expects float32 or float64 arrays");
        if (a->ndim() != 1 && a->ndim() != 2)
            throw std::invalid_argument("trackerr._core expects 1-D or 2-D arrays");
    }
    if (p.shape(0) != b.shape(0))
        throw std::invalid_argument("portfolio has length " + std::to_string(p.shape(0)) +
                                    " but benchmark has length " + std::to_string(b.shape(0)));
    if (b.ndim() == 2 && (p.ndim() != 2 || p.shape(1) != b.shape(1)))
        throw std::invalid_argument("a 2-D benchmark must have the portfolio's shape");
    if (!(ddof >= 0.0)) throw std::invalid_argument("ddof must be >= 0");
    const Options o{ddof, periods, risk_free};
    if (is_float64(p)) {
        if (is_float64(b)) return evaluate_typed<double, double>(metric, p, b, o);
        return evaluate_typed<double, float>(metric, p, b, o);
    }
    if (is_float64(b)) return evaluate_typed<float, double>(metric, p, b, o);
    return evaluate_typed<float, float>(metric, p, b, o);
}

// The growth state (comoments.hpp's Growth) of each column, for merging in
// parts (trackerr.dask's tracking difference): one row of n, mant_p, mant_b,
// exp_p, exp_b, bad, skipped per column (exponents are exact in a double).
template <class TP, class TB>
py::array growth_typed(const py::array& p, const py::array& b) {
    const std::ptrdiff_t cols = p.ndim() == 2 ? p.shape(1) : 1;
    const Panel<TP> pp = p.ndim() == 2 ? panel_of<TP>(p, cols) : broadcast(view_1d<TP>(p), 1);
    const Panel<TB> bp = panel_of<TB>(b, cols);
    py::array_t<double> out(std::vector<py::ssize_t>{static_cast<py::ssize_t>(cols), 7});
    double* o = out.mutable_data();
    {
        py::gil_scoped_release release;  // views into arrays the caller keeps alive
        for (std::ptrdiff_t c = 0; c < cols; ++c, o += 7) {
            const Accumulated<Growth> g = growth(pp.column(c), bp.column(b.ndim() == 2 ? c : 0));
            const Growth& s = g.state;
            const double row[7] = {s.n,        s.mant_p, s.mant_b, static_cast<double>(s.exp_p),
                                   static_cast<double>(s.exp_b), s.bad, static_cast<double>(g.skipped)};
            std::copy(row, row + 7, o);
        }
    }
    return out;
}

py::array growth_states(const py::array& p, const py::array& b) {
    for (const auto* a : {&p, &b})
        if (!is_float64(*a) && !is_float32(*a))
            throw py::type_error("trackerr._core expects float32 or float64 arrays");
    if (p.ndim() < 1 || p.ndim() > 2 || b.ndim() != 1 || p.shape(0) != b.shape(0))
        throw std::invalid_argument("growth_states takes a 1-D or T x N portfolio and a length-T benchmark");
    if (is_float64(p)) return is_float64(b) ? growth_typed<double, double>(p, b) : growth_typed<double, float>(p, b);
    return is_float64(b) ? growth_typed<float, double>(p, b) : growth_typed<float, float>(p, b);
}

}  // namespace

void register_full_sample(py::module_& m) {
    m.def("growth_states", &growth_states, py::arg("portfolio"), py::arg("benchmark"),
          "Growth states (n, mant_p, mant_b, exp_p, exp_b, bad, skipped) of each column: (N, 7).");
    m.def("evaluate", &evaluate, py::arg("metric"), py::arg("portfolio"), py::arg("benchmark"),
          py::arg("ddof"), py::arg("periods"), py::arg("risk_free"),
          "Full-sample metric over float32/float64 arrays (1-D, or T x N panels).\n\n"
          "Returns (value, skipped): value is a float for 1-D input and an (N,) float64\n"
          "array for a panel; skipped counts the pairs left out because either side was NaN.");
}

}  // namespace trackerr::bindings
