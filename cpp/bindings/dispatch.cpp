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

// The default: AVX2 where the CPU has it. The AVX-512 copy is built and can
// be chosen (TRACKERR_SIMD=avx512, set_simd), but it measured slower than
// AVX2 on the one AVX-512 host we had (an Intel Xeon, 2 cores: rolling
// tracking error of 1e5 points 540 us against 344 us; beta 466 against
// 504 us): the lanes' gathers do not widen, and 512-bit square roots cost
// more than they save.
const Table& best() {
    if (supported(table_avx2)) return table_avx2;
    return table_baseline;
}

std::atomic<const Table*> current{nullptr};  // kernels read it with the GIL released
std::atomic<bool> chosen{false};              // TRACKERR_SIMD or set_simd named the table

const Table& initial() {
    const char* env = std::getenv("TRACKERR_SIMD");
    if (env && *env) {
        chosen = true;
        return find(env, "the environment variable TRACKERR_SIMD");
    }
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

// stream::Window's tick across portfolios goes the other way: its lanes are
// loads, arithmetic and stores of neighbouring portfolios with no gathers and
// no square roots, and 8 lanes measured faster than 4 on the AVX-512 host
// (1000 portfolios of a warm Window(252), best of 20 x 2000 ticks: 1.23 us
// against 1.68 us; baseline 3.98 us). So unless a table was named, it takes
// AVX-512 where the CPU has it. Every table gives the same bits.
const Table& active_stream() {
    if (!chosen.load() && supported(table_avx512)) return table_avx512;
    return active();
}

void register_dispatch(py::module_& m) {
    current = &initial();  // a bad TRACKERR_SIMD fails the import with its message
    m.def(
        "simd", [] { return std::string(active().name); },
        "The instruction set of the rolling kernels in use: 'baseline' (SSE2), 'avx2' or 'avx512'. "
        "stream.Window's tick across portfolios takes 'avx512' where the CPU has it unless TRACKERR_SIMD "
        "or set_simd() named one (the same bits either way).");
    m.def(
        "set_simd",
        [](const std::string& name) {
            const std::string before = active().name;
            current = &find(name, "simd");
            chosen = true;
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
