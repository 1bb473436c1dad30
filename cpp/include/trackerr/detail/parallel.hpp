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
//
// The threads are kept (a pool, created on first use and grown to the most
// parts asked for at once, at most one per core beside the caller): starting
// and joining a thread per part costs tens of microseconds, a sizeable share
// of a rolling kernel on 1e5 rows.
// The caller always takes part in its own job, so a job completes even when
// every pool thread is busy with other callers' jobs (kernels called from
// several threads at once) or none could be created. After fork() the child
// starts a pool of its own (the parent's threads do not exist there).
#pragma once

#include "isa.hpp"

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>
#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

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

/// Calls part(i) for every i in [0, k): parts 1..k-1 on threads started by
/// `spawn` (while they can be created), part 0 and any part whose thread
/// could not start on the calling thread. Joins every started thread, then
/// rethrows the exception of the lowest-numbered part that threw, if any.
/// (The two-argument run_parts below runs on the pool instead.)
template <class Part, class Spawn>
void run_parts(std::ptrdiff_t k, const Part& part, const Spawn& spawn) {
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

/// One caller's parts on the pool: parts [1, k) are claimed one at a time by
/// pool threads and by the caller (under the pool's lock).
struct PoolJob {
    void (*call)(const void*, std::ptrdiff_t) noexcept = nullptr;
    const void* ctx = nullptr;
    std::ptrdiff_t k = 0;
    std::ptrdiff_t next = 1;      // the next part to claim
    std::ptrdiff_t finished = 0;  // parts of [1, k) finished
    std::ptrdiff_t helpers = 0;   // pool threads that may work on the job at once
    std::ptrdiff_t busy = 0;      // pool threads working on it now
};

/// Threads that wait for parts of jobs. Never destroyed (its threads wait
/// forever and end with the process), so nothing runs at exit.
class WorkerPool {
public:
    /// The pool of this process.
    static WorkerPool& get() {
#if defined(__unix__) || defined(__APPLE__)
        static std::mutex guard;
        static WorkerPool* pool = nullptr;
        static pid_t owner = 0;
        std::lock_guard<std::mutex> lock(guard);
        const pid_t pid = getpid();
        if (pool == nullptr || owner != pid) {  // first use, or a child after fork(): a new pool
            pool = new WorkerPool();
            owner = pid;
        }
        return *pool;
#else
        static WorkerPool* pool = new WorkerPool();
        return *pool;
#endif
    }

    /// Runs job's parts [1, k) on up to job.helpers pool threads and on
    /// the caller, after `first` (part 0, on the caller); returns when all
    /// are done. Parts are claimed one at a time by whoever is free, so a
    /// helper that wakes late takes fewer.
    template <class First>
    void run(PoolJob& job, const First& first) noexcept {
        {
            std::lock_guard<std::mutex> lock(mu_);
            grow(std::min(job.k - 1, job.helpers));
            jobs_.push_back(&job);
        }
        work_.notify_all();
        first();
        std::unique_lock<std::mutex> lock(mu_);
        while (job.next < job.k) take(job, lock);
        done_.wait(lock, [&job] { return job.finished == job.k - 1; });
    }

private:
    WorkerPool() = default;

    // Claims and runs the next part of `job` (lock held on entry and exit).
    void take(PoolJob& job, std::unique_lock<std::mutex>& lock) noexcept {
        const std::ptrdiff_t i = job.next++;
        if (job.next == job.k) {  // every part claimed: no one else needs to see the job
            for (std::size_t j = 0; j < jobs_.size(); ++j)
                if (jobs_[j] == &job) {
                    jobs_.erase(jobs_.begin() + static_cast<std::ptrdiff_t>(j));
                    break;
                }
        }
        lock.unlock();
        job.call(job.ctx, i);
        lock.lock();
        if (++job.finished == job.k - 1) done_.notify_all();
    }

    // Starts threads until there are `want` (lock held). A thread that cannot
    // be created is simply not there: the callers run its share.
    void grow(std::ptrdiff_t want) noexcept {
        // Never more than one thread per core beside the callers: a request
        // for more parts than cores runs them on the threads there are (idle
        // threads beyond the cores would only hold memory for their stacks).
        const std::ptrdiff_t cores = static_cast<std::ptrdiff_t>(std::thread::hardware_concurrency());
        const std::ptrdiff_t cap = cores > 2 ? cores - 1 : 1;
        while (threads_ < want && threads_ < cap) {
            try {
                std::thread([this] { serve(); }).detach();
            } catch (...) {
                return;
            }
            ++threads_;
        }
    }

    // The first job a pool thread may help with (lock held), or null.
    PoolJob* claimable() const noexcept {
        for (PoolJob* j : jobs_)
            if (j->busy < j->helpers) return j;
        return nullptr;
    }

    void serve() noexcept {
        std::unique_lock<std::mutex> lock(mu_);
        for (;;) {
            work_.wait(lock, [this] { return claimable() != nullptr; });
            PoolJob& job = *claimable();
            ++job.busy;
            while (job.next < job.k) take(job, lock);
            // Still under the lock taken when the last part here finished:
            // the caller cannot have seen every part done and left yet.
            --job.busy;
        }
    }

    std::mutex mu_;
    std::condition_variable work_, done_;
    std::vector<PoolJob*> jobs_;
    std::ptrdiff_t threads_ = 0;
};

/// run_parts on the process's pool of threads: the same contract (every part
/// runs once, part 0 on the caller, the lowest part's exception rethrown
/// after all parts ran), without starting a thread per part.
template <class Part>
void run_parts(std::ptrdiff_t k, const Part& part);

/// run_parts with at most `helpers` pool threads beside the caller, whatever
/// k: k may exceed the threads (parts are claimed as threads come free, so
/// the work evens out when a thread starts late).
template <class Part>
void run_parts_shared(std::ptrdiff_t k, std::ptrdiff_t helpers, const Part& part) {
    if (k <= 0) return;
    if (k == 1) return part(std::ptrdiff_t{0});
    std::vector<std::exception_ptr> errors(static_cast<std::size_t>(k));
    struct Ctx {
        const Part* part;
        std::exception_ptr* errors;
    } ctx{&part, errors.data()};
    PoolJob job;
    job.call = [](const void* c, std::ptrdiff_t i) noexcept {
        const Ctx& x = *static_cast<const Ctx*>(c);
        try {
            (*x.part)(i);
        } catch (...) {
            x.errors[i] = std::current_exception();
        }
    };
    job.ctx = &ctx;
    job.k = k;
    job.helpers = std::max<std::ptrdiff_t>(helpers, 0);
    if (job.helpers == 0) {
        for (std::ptrdiff_t i = 0; i < k; ++i) job.call(&ctx, i);
    } else {
        WorkerPool::get().run(job, [&] { job.call(&ctx, 0); });
    }
    for (const std::exception_ptr& e : errors)
        if (e) std::rethrow_exception(e);
}

template <class Part>
void run_parts(std::ptrdiff_t k, const Part& part) {
    run_parts_shared(k, k - 1, part);
}

}  // namespace detail

TRACKERR_ISA_END
}  // namespace trackerr
