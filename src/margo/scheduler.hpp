// Pools and xstreams on Boost.Fiber (the Argobots role).
// A Pool is a thread-safe queue of work items. An Xstream is an OS thread whose fiber
// scheduler turns work items from its pools (taken in order) into fibers. Fibers stay on the
// xstream that started them; a fiber that blocks (future, mutex, sleep) lets the others run.
#pragma once

#include "task.hpp"

#include <boost/fiber/all.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace kinako::margo {

class Xstream;

class Pool {
  public:
    Pool(std::string name, std::string kind, std::string access)
    : name_(std::move(name)), kind_(std::move(kind)), access_(std::move(access)) {}
    const std::string& name() const { return name_; }
    const std::string& kind() const { return kind_; }
    const std::string& access() const { return access_; }

    void push(Task task);
    bool try_pop(Task& out);
    size_t size() const;
    void attach(Xstream* xs);
    void detach(Xstream* xs);

  private:
    std::string name_, kind_, access_;
    mutable std::mutex mutex_;
    std::deque<Task> tasks_;
    std::vector<Xstream*> xstreams_;
    size_t next_wake_ = 0;
};

class XstreamAlgorithm;

// Holds back the OS-level wake-ups of xstream threads readied from the calling thread until
// the scope ends. Boost.Fiber readies a fiber of another thread (a condition variable's
// notify) while still holding that condition variable's spinlock, and calls our notify()
// from inside. Woken right there, the xstream thread could run its fiber, come back to wait
// on the same condition variable and spin on that spinlock, held by a notifier that the
// wake-up itself had pushed off its core (on 2 vCPUs: ~9 us of spinning per hand-off).
// Only for code that readies fibers without ever suspending inside the scope.
class DeferredWakes {
  public:
    DeferredWakes();
    ~DeferredWakes();
    DeferredWakes(const DeferredWakes&) = delete;
    DeferredWakes& operator=(const DeferredWakes&) = delete;
    // Called by XstreamAlgorithm::notify(): true if a scope on this thread took the wake.
    static bool defer(XstreamAlgorithm* algo);

  private:
    static constexpr int kMax = 4;
    DeferredWakes* outer_;
    XstreamAlgorithm* pending_[kMax];
    int count_ = 0;
};

// Scheduling algorithm installed on each xstream thread.
class XstreamAlgorithm : public boost::fibers::algo::algorithm {
  public:
    explicit XstreamAlgorithm(Xstream* xs) : xstream_(xs) {}
    // Wakes the xstream's thread if it sleeps in suspend_until (the second half of notify()).
    void wake() noexcept;
    void awakened(boost::fibers::context* ctx) noexcept override;
    boost::fibers::context* pick_next() noexcept override;
    bool has_ready_fibers() const noexcept override { return !ready_.empty(); }
    void suspend_until(std::chrono::steady_clock::time_point const& tp) noexcept override;
    void notify() noexcept override;
    // Fibers other than the scheduler's own dispatcher are ready to run.
    bool has_ready_workers() const noexcept { return workers_ready_ > 0; }

  private:
    Xstream* xstream_;
    std::deque<boost::fibers::context*> ready_;
    size_t workers_ready_ = 0;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool flag_ = false;
};

class Xstream {
  public:
    Xstream(std::string name, std::vector<std::shared_ptr<Pool>> pools, size_t stack_size);
    ~Xstream();
    const std::string& name() const { return name_; }
    const std::vector<std::shared_ptr<Pool>>& pools() const { return pools_; }
    void start();
    void stop();  // lets running fibers finish, then joins the thread
    // Wakes the scheduler loop: new work in a pool.
    void signal();
    void begin_notify() { notifiers_++; }
    void end_notify() { notifiers_--; }
    // Resumes of parked workers that nobody asked for (see Worker::parked), over all xstreams
    // of the process: expected to stay 0, checked by the stress tests.
    static uint64_t stray_wakeups();
    // Called by the algorithm when a fiber of this xstream was readied from another thread.
    void remote_wakeup();
    // For the progress loop: is anything else runnable here? Clears the remote-wakeup flag.
    bool has_other_work();
    // Extra wake-up hook (the progress loop sleeping on the transport registers one).
    void set_idle_waker(std::function<void()> w);
    std::thread::id thread_id() const { return thread_.get_id(); }

    // The xstream the calling thread belongs to, or nullptr for a foreign thread.
    static Xstream* current();

    // Fibers started from tasks that have not finished yet (running, ready, sleeping or waiting).
    int task_fibers() const { return running_fibers_.load(std::memory_order_relaxed); }
    // Runs `task` in a fiber of this xstream (a parked worker if one is idle, else a new one);
    // called on the xstream's own thread. False (and `task` untouched) before the scheduler is up.
    bool start_fiber(Task& task);

  private:
    // A fiber that runs tasks one after another and parks between them. Handing a task to a
    // parked worker costs a ready-queue push; a new fiber costs its setup and a cold first
    // switch (~165 ns more on the request path).
    struct Worker {
        boost::fibers::context* ctx;
        Task task;
        // Set while the worker sits in idle_workers_; only start_fiber() and shutdown clear it.
        // A resume that finds it still set is a stray wake-up: the worker parks again instead
        // of leaving a dangling entry in idle_workers_.
        bool parked = false;
    };
    static constexpr size_t kMaxIdleWorkers = 16;  // more than this finish instead of parking
    void worker_loop(Task first);
    void run();
    // Shutdown: waits until no task is running, then ends the parked workers. Reports (through
    // the global log) every few seconds while it waits, naming what is left: a stop that
    // never ends then says why in the log instead of hanging silently.
    void drain(std::unique_lock<boost::fibers::mutex>& lock);
    std::string name_;
    std::vector<std::shared_ptr<Pool>> pools_;
    size_t stack_size_;
    std::thread thread_;
    XstreamAlgorithm* algo_ = nullptr;
    // Kept alive past the thread's exit: Boost.Fiber may still call notify() on it from a
    // thread that readied one of our fibers just before we exited.
    boost::fibers::algo::algorithm::ptr_t algo_ref_;
    std::atomic<int> notifiers_{0};  // foreign threads inside signal()/stop() right now
    boost::fibers::mutex mutex_;
    boost::fibers::condition_variable cv_;
    bool signaled_ = false;
    bool stop_ = false;
    std::atomic<bool> remote_flag_{false};
    std::mutex waker_mutex_;
    std::function<void()> idle_waker_;
    std::atomic<int> running_fibers_{0};
    std::optional<boost::fibers::pooled_fixedsize_stack> stacks_;  // set up by run(), used on its thread only
    boost::fibers::condition_variable done_cv_;
    // Touched on the xstream's own thread only.
    std::vector<Worker*> idle_workers_;
    int live_workers_ = 0;
    bool quitting_ = false;
};

}  // namespace kinako::margo
