// Choosing the copy of the dispatched kernels (kernels.hpp) at import: the
// widest one this CPU runs, unless TRACKERR_SIMD names one; trackerr.simd()
// reports the choice and trackerr.set_simd() changes it.
#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "kernels.hpp"
#include "pybind.hpp"

namespace trackerr::bindings::kernels {
namespace {

const Table* const all_tables[] = {&table_baseline, &table_avx2, &table_avx512};

/// Whether this CPU (and its operating system) runs the table's instructions.
bool supported(const Table& t) {
    if (!t.compiled) return false;
    const std::string name = t.name;
    if (name == "baseline") return true;
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (name == "avx2") return __builtin_cpu_supports("avx2");
    if (name == "avx512")
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("avx512f") &&
               __builtin_cpu_supports("avx512dq");
#endif
    return false;
}

std::string names(bool only_supported) {
    std::string out;
    for (const Table* t : all_tables) {
        if (only_supported && !supported(*t)) continue;
        if (!out.empty()) out += ", ";
        out += t->name;
    }
    return out;
}

const Table& find(const std::string& name, const char* what) {
    for (const Table* t : all_tables) {
        if (name != t->name) continue;
        if (!supported(*t))
            throw std::invalid_argument(std::string(what) + " (='" + name +
                                        "') is not available on this machine; available: " + names(true));
        return *t;
    }
    throw std::invalid_argument(std::string(what) + " (='" + name + "') must be one of " + names(false) +
                                " (available here: " + names(true) + ")");
}

// The default: the widest copy the CPU runs. Measured on the AVX-512 host (an
// Intel Xeon, 2 cores), AVX-512 against AVX2, one thread, ns per element:
// rolling tracking error of 1e5 / 1e6 points 3.72 / 3.45 against 3.85 / 3.25,
// correlation 4.85 / 4.36 against 5.82 / 5.60, beta 4.56 / 4.21 against
// 5.49 / 5.00; a 1000-portfolio Window tick 1.23 us against 1.68 us. (Before
// the 1-D lanes read their stretches as transposed blocks, and before the
// block sums' lanes took the copy's width, AVX-512 was the slower.)
const Table& best() {
    if (supported(table_avx512)) return table_avx512;
    if (supported(table_avx2)) return table_avx2;
    return table_baseline;
}

std::atomic<const Table*> current{nullptr};  // kernels read it with the GIL released

const Table& initial() {
    const char* env = std::getenv("TRACKERR_SIMD");
    if (env && *env) return find(env, "the environment variable TRACKERR_SIMD");
    return best();
}

}  // namespace

const Table& active() {
    const Table* t = current.load();
    if (!t) {
        t = &initial();
        current.store(t);
    }
    return *t;
}

// stream::Window's tick across portfolios: the same table as the rolling
// kernels (kept as its own entry point for the stream bindings).
const Table& active_stream() {
    return active();
}

void register_dispatch(py::module_& m) {
    current = &initial();  // a bad TRACKERR_SIMD fails the import with its message
    m.def(
        "simd", [] { return std::string(active().name); },
        "The instruction set of the rolling kernels and stream.Window's tick in use: 'baseline' (SSE2), "
        "'avx2' or 'avx512' (the same bits on each).");
    m.def(
        "set_simd",
        [](const std::string& name) {
            const std::string before = active().name;
            current = &find(name, "simd");
            return before;
        },
        py::arg("name"), "Selects the kernels' instruction set; returns the previous one.");
    m.def(
        "simd_available",
        [] {
            py::list out;
            for (const Table* t : all_tables)
                if (supported(*t)) out.append(t->name);
            return out;
        },
        "The instruction sets this machine runs, narrowest first.");
}

}  // namespace trackerr::bindings::kernels
