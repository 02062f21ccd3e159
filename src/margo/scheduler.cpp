#include "scheduler.hpp"

#include "mochi/margo/engine.hpp"

#include <pthread.h>

namespace kinako::margo {

namespace {
thread_local Xstream* t_current_xstream = nullptr;
thread_local DeferredWakes* t_deferred_wakes = nullptr;
std::atomic<uint64_t> g_stray_wakeups{0};
}  // namespace

DeferredWakes::DeferredWakes() : outer_(t_deferred_wakes) { t_deferred_wakes = this; }

DeferredWakes::~DeferredWakes() {
    t_deferred_wakes = outer_;
    for (int i = 0; i < count_; i++) pending_[i]->wake();
}

bool DeferredWakes::defer(XstreamAlgorithm* algo) {
    DeferredWakes* d = t_deferred_wakes;
    if (!d) return false;
    for (int i = 0; i < d->count_; i++)
        if (d->pending_[i] == algo) return true;
    if (d->count_ == kMax) return false;  // full: wake this one now
    d->pending_[d->count_++] = algo;
    return true;
}

void Pool::push(Task task) {
    Xstream* wake = nullptr;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        // Pushed from the only xstream that runs this pool, with nothing queued before it: start
        // the fiber here rather than queue it, signal our own scheduler and switch to it to pop
        // the task (the progress loop handing a request to a handler on its own xstream).
        Xstream* here = Xstream::current();
        if (here && tasks_.empty() && xstreams_.size() == 1 && xstreams_[0] == here && here->start_fiber(task)) return;
        tasks_.push_back(std::move(task));
        if (!xstreams_.empty()) {
            wake = xstreams_[next_wake_++ % xstreams_.size()];
            wake->begin_notify();  // under the pool lock: a detaching xstream waits for us
        }
    }
    if (wake) {
        wake->signal();
        wake->end_notify();
    }
}

bool Pool::try_pop(Task& out) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (tasks_.empty()) return false;
    out = std::move(tasks_.front());
    tasks_.pop_front();
    return true;
}

size_t Pool::size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return tasks_.size();
}

void Pool::attach(Xstream* xs) {
    std::lock_guard<std::mutex> lock(mutex_);
    xstreams_.push_back(xs);
}

void Pool::detach(Xstream* xs) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = xstreams_.begin(); it != xstreams_.end(); ++it)
        if (*it == xs) { xstreams_.erase(it); break; }
}

void XstreamAlgorithm::awakened(boost::fibers::context* ctx) noexcept {
    ready_.push_back(ctx);
    if (!ctx->is_context(boost::fibers::type::dispatcher_context)) workers_ready_++;
}

boost::fibers::context* XstreamAlgorithm::pick_next() noexcept {
    if (ready_.empty()) return nullptr;
    auto* ctx = ready_.front();
    ready_.pop_front();
    if (!ctx->is_context(boost::fibers::type::dispatcher_context)) workers_ready_--;
    return ctx;
}

void XstreamAlgorithm::suspend_until(std::chrono::steady_clock::time_point const& tp) noexcept {
    std::unique_lock<std::mutex> lock(mutex_);
    if (tp == std::chrono::steady_clock::time_point::max())
        cv_.wait(lock, [&] { return flag_; });
    else
        cv_.wait_until(lock, tp, [&] { return flag_; });
    flag_ = false;
}

void XstreamAlgorithm::notify() noexcept {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        flag_ = true;
    }
    if (!DeferredWakes::defer(this)) wake();
}

void XstreamAlgorithm::wake() noexcept {
    cv_.notify_all();
    xstream_->remote_wakeup();
}

Xstream::Xstream(std::string name, std::vector<std::shared_ptr<Pool>> pools, size_t stack_size)
: name_(std::move(name)), pools_(std::move(pools)), stack_size_(stack_size) {}

Xstream::~Xstream() { stop(); }

Xstream* Xstream::current() { return t_current_xstream; }

uint64_t Xstream::stray_wakeups() { return g_stray_wakeups.load(std::memory_order_relaxed); }

void Xstream::start() {
    for (auto& p : pools_) p->attach(this);
    thread_ = std::thread([this] { run(); });
}

void Xstream::stop() {
    if (!thread_.joinable()) return;
    for (auto& p : pools_) p->detach(this);
    begin_notify();
    {
        std::lock_guard<boost::fibers::mutex> lock(mutex_);
        stop_ = true;
    }
    cv_.notify_all();
    end_notify();
    if (thread_.get_id() == std::this_thread::get_id()) {
        thread_.detach();  // stopping ourselves: the loop ends on its own
    } else {
        thread_.join();
    }
}

void Xstream::signal() {
    {
        std::lock_guard<boost::fibers::mutex> lock(mutex_);
        signaled_ = true;
    }
    DeferredWakes wakes;  // our thread is woken once cv_'s spinlock is free again
    cv_.notify_one();
}

void Xstream::remote_wakeup() {
    remote_flag_.store(true, std::memory_order_release);
    std::lock_guard<std::mutex> lock(waker_mutex_);
    if (idle_waker_) idle_waker_();
}

bool Xstream::has_other_work() {
    // Read before clearing: the progress loop asks every turn, and an exchange (a locked
    // instruction) each time cost more than the load when, as usual, the flag is down.
    bool remote = remote_flag_.load(std::memory_order_relaxed) && remote_flag_.exchange(false, std::memory_order_acq_rel);
    return remote || (algo_ && algo_->has_ready_workers());
}

void Xstream::set_idle_waker(std::function<void()> w) {
    std::lock_guard<std::mutex> lock(waker_mutex_);
    idle_waker_ = std::move(w);
}

bool Xstream::start_fiber(Task& task) {
    if (!stacks_) return false;
    running_fibers_++;
    if (!idle_workers_.empty()) {
        Worker* w = idle_workers_.back();
        idle_workers_.pop_back();
        w->parked = false;
        w->task = std::move(task);
        boost::fibers::context::active()->schedule(w->ctx);
        return true;
    }
    live_workers_++;
    boost::fibers::fiber(std::allocator_arg, *stacks_, [this, t = std::move(task)]() mutable {
        worker_loop(std::move(t));
    }).detach();
    return true;
}

void Xstream::worker_loop(Task first) {
    Worker self{boost::fibers::context::active(), std::move(first)};
    while (self.task) {
        try {
            self.task();
        } catch (...) {
            // A task must handle its own errors; never let one take the xstream down.
        }
        self.task = nullptr;  // drop what the task captured now, not when the next one comes
        if (--running_fibers_ == 0) done_cv_.notify_all();
        if (quitting_ || idle_workers_.size() >= kMaxIdleWorkers) break;
        idle_workers_.push_back(&self);
        // start_fiber() hands over the next task; drain() wakes us empty to end.
        self.parked = true;
        self.ctx->suspend();
        while (self.parked) {
            g_stray_wakeups.fetch_add(1, std::memory_order_relaxed);
            self.ctx->suspend();
        }
    }
    live_workers_--;
}

void Xstream::drain(std::unique_lock<boost::fibers::mutex>& lock) {
    constexpr auto kReportEvery = std::chrono::seconds(5);
    auto report = [&](const char* what, int n) {
        mochi::margo::log_global(mochi::margo::LogLevel::Warning,
                                 "xstream \"" + name_ + "\" is stopping but still waits for " + std::to_string(n) + " " + what);
    };
    // Let the fibers still running on this xstream finish.
    while (!done_cv_.wait_for(lock, kReportEvery, [&] { return running_fibers_.load() == 0; }))
        report("running task(s) to finish", running_fibers_.load());
    lock.unlock();
    // Parked workers must end before the thread does (Boost.Fiber's scheduler waits for every
    // fiber it owns): wake each without a task.
    quitting_ = true;
    for (Worker* w : idle_workers_) {
        w->parked = false;
        boost::fibers::context::active()->schedule(w->ctx);
    }
    idle_workers_.clear();
    auto next_report = std::chrono::steady_clock::now() + kReportEvery;
    while (live_workers_ > 0) {
        boost::this_fiber::yield();
        if (std::chrono::steady_clock::now() >= next_report) {
            report("worker fiber(s) to end", live_workers_);
            next_report += kReportEvery;
        }
    }
}

void Xstream::run() {
    t_current_xstream = this;
    // Named for debuggers and top: "xs:" and the xstream's name, cut to the 15 characters
    // Linux keeps.
    pthread_setname_np(pthread_self(), ("xs:" + name_).substr(0, 15).c_str());
    algo_ = new XstreamAlgorithm(this);
    algo_ref_ = boost::fibers::algo::algorithm::ptr_t(algo_);
    boost::fibers::context::active()->get_scheduler()->set_algo(algo_ref_);
    stacks_.emplace(stack_size_);
    std::unique_lock<boost::fibers::mutex> lock(mutex_);
    while (!stop_) {
        Task task;
        bool got = false;
        // Take work from the pools in order (the first pool has priority), a bounded batch so
        // running fibers are not starved by a flood of new work.
        for (int batch = 0; batch < 16; batch++) {
            bool any = false;
            for (auto& p : pools_) {
                if (p->try_pop(task)) { any = true; break; }
            }
            if (!any) break;
            got = true;
            lock.unlock();
            start_fiber(task);
            lock.lock();
        }
        if (got) {
            lock.unlock();
            boost::this_fiber::yield();
            lock.lock();
            continue;
        }
        if (stop_) break;
        if (!signaled_) cv_.wait(lock, [&] { return signaled_ || stop_; });
        signaled_ = false;
    }
    drain(lock);
    // Threads that notified us may still be returning from Boost.Fiber's notify path.
    while (notifiers_.load() > 0) std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    t_current_xstream = nullptr;
}

}  // namespace kinako::margo
