#include "io_pool.hpp"

#include "fiber_event.hpp"

#include <memory>

namespace mochi::warabi::detail {

IoPool::IoPool(size_t threads) {
    if (threads == 0) threads = 1;
    for (size_t i = 0; i < threads; i++) threads_.emplace_back([this] { loop(); });
}

IoPool::~IoPool() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
}

void IoPool::loop() {
    for (;;) {
        std::function<void()> job;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            cv_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
            if (jobs_.empty()) return;  // stopping and drained
            job = std::move(jobs_.front());
            jobs_.pop_front();
        }
        job();
    }
}

void IoPool::run(const std::function<void()>& job) {
    // Shared with the I/O thread: set() may still be touching the event after the waiter
    // has woken up and returned, so the waiter's stack must not own it.
    struct Pending {
        FiberEvent done;
        std::exception_ptr error;
    };
    auto pending = std::make_shared<Pending>();
    {
        std::lock_guard<std::mutex> lock(mutex_);
        jobs_.emplace_back([pending, &job] {
            try {
                job();
            } catch (...) {
                pending->error = std::current_exception();
            }
            pending->done.set();
        });
    }
    cv_.notify_one();
    pending->done.wait();
    if (pending->error) std::rethrow_exception(pending->error);
}

}  // namespace mochi::warabi::detail
