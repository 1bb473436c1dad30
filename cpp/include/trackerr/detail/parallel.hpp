// Running a kernel's independent parts on threads, exception-safe.
//
// A std::thread whose function throws calls std::terminate, and so does a
// std::thread destroyed while still joinable (which is what happens when a
// later thread fails to start and the exception unwinds the pool). Every
// kernel that splits its work therefore goes through run_parts: each part runs
// inside a try block that stores what it threw, every thread that was started
// is joined, and the caller gets the first part's exception (in part order,
// so the same input reports the same error whatever the scheduling) as an
// ordinary C++ exception.
//
// If a thread cannot be created (std::system_error when the system is out of
// threads or memory), the parts it would have run are run on the calling
// thread instead. Results never depend on how many threads ran: the parts are
// fixed by the caller, and each writes only its own outputs.
#pragma once

#include "isa.hpp"

#include <cstddef>
#include <exception>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace trackerr {
TRACKERR_ISA_BEGIN

namespace detail {

/// Largest `threads` argument the kernels accept. Parts beyond the work
/// available are never started, so this only bounds what a caller may ask.
inline constexpr int max_threads = 1024;

/// Throws std::invalid_argument unless 1 <= threads <= max_threads.
inline void check_threads(long long threads) {
    if (threads < 1 || threads > max_threads)
        throw std::invalid_argument("threads (=" + std::to_string(threads) + ") must be between 1 and " +
                                    std::to_string(max_threads));
}

/// Starts a thread running f(i) at the end of pool (the default spawner of
/// run_parts; tests pass one that fails, to check the fallback).
struct SpawnThread {
    template <class F>
    void operator()(std::vector<std::thread>& pool, const F& f, std::ptrdiff_t i) const {
        pool.emplace_back(f, i);
    }
};

/// Calls part(i) for every i in [0, k): parts 1..k-1 on new threads (while
/// they can be created), part 0 and any part whose thread could not start on
/// the calling thread. Joins every started thread, then rethrows the
/// exception of the lowest-numbered part that threw, if any.
template <class Part, class Spawn = SpawnThread>
void run_parts(std::ptrdiff_t k, const Part& part, const Spawn& spawn = Spawn{}) {
    if (k <= 0) return;
    if (k == 1) return part(std::ptrdiff_t{0});
    // Allocated before any thread starts: a failure here throws in the caller
    // with nothing to join.
    std::vector<std::exception_ptr> errors(static_cast<std::size_t>(k));
    std::vector<std::thread> pool;
    pool.reserve(static_cast<std::size_t>(k - 1));  // no reallocation (which could throw) below
    auto guarded = [&part, &errors](std::ptrdiff_t i) noexcept {
        try {
            part(i);
        } catch (...) {
            errors[static_cast<std::size_t>(i)] = std::current_exception();
        }
    };
    std::ptrdiff_t started = 1;  // parts [1, started) run on threads of the pool
    for (; started < k; ++started) {
        try {
            spawn(pool, guarded, started);
        } catch (...) {  // std::system_error: no thread was created; run the rest here
            break;
        }
    }
    guarded(0);
    for (std::ptrdiff_t i = started; i < k; ++i) guarded(i);
    for (std::thread& th : pool) th.join();
    for (const std::exception_ptr& e : errors)
        if (e) std::rethrow_exception(e);
}

}  // namespace detail

TRACKERR_ISA_END
}  // namespace trackerr
