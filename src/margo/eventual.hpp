// A one-shot completion flag that both fibers and plain threads can wait on.
#pragma once

#include "scheduler.hpp"

#include <boost/fiber/condition_variable.hpp>
#include <boost/fiber/mutex.hpp>

#include <atomic>
#include <chrono>
#include <mutex>

namespace kinako::margo {

class Eventual {
  public:
    using Clock = std::chrono::steady_clock;
    void set() {
        {
            std::lock_guard<boost::fibers::mutex> lock(mutex_);
            ready_.store(true, std::memory_order_release);
        }
        DeferredWakes wakes;  // a waiter's thread is woken once cv_'s spinlock is free again
        cv_.notify_all();
    }
    bool ready() const { return ready_.load(std::memory_order_acquire); }
    // Returns whether it became ready before the deadline.
    bool wait_until(Clock::time_point deadline) {
        if (ready()) return true;
        std::unique_lock<boost::fibers::mutex> lock(mutex_);
        return cv_.wait_until(lock, deadline, [&] { return ready(); });
    }
    void wait() {
        if (ready()) return;
        std::unique_lock<boost::fibers::mutex> lock(mutex_);
        cv_.wait(lock, [&] { return ready(); });
    }

  private:
    std::atomic<bool> ready_{false};
    boost::fibers::mutex mutex_;
    boost::fibers::condition_variable cv_;
};

}  // namespace kinako::margo
