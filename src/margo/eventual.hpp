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
        ready_.store(true, std::memory_order_seq_cst);
        // Most waiters poll ready() (a caller thread driving progress itself): when nobody
        // sleeps on the condition variable, setting is one store. A sleeper announces itself
        // in waiters_ before it checks ready_, and we store ready_ before we read waiters_
        // (both sequentially consistent), so either it sees ready_ or we see it and notify.
        if (waiters_.load(std::memory_order_seq_cst) == 0) return;
        { std::lock_guard<boost::fibers::mutex> lock(mutex_); }  // a sleeper past its check is in wait()
        DeferredWakes wakes;  // a waiter's thread is woken once cv_'s spinlock is free again
        cv_.notify_all();
    }
    bool ready() const { return ready_.load(std::memory_order_acquire); }
    // Returns whether it became ready before the deadline.
    bool wait_until(Clock::time_point deadline) {
        if (ready()) return true;
        Sleeper s(waiters_);
        std::unique_lock<boost::fibers::mutex> lock(mutex_);
        return cv_.wait_until(lock, deadline, [&] { return ready(); });
    }
    void wait() {
        if (ready()) return;
        Sleeper s(waiters_);
        std::unique_lock<boost::fibers::mutex> lock(mutex_);
        cv_.wait(lock, [&] { return ready(); });
    }

  private:
    struct Sleeper {
        explicit Sleeper(std::atomic<int>& n) : n_(n) { n_.fetch_add(1, std::memory_order_seq_cst); }
        ~Sleeper() { n_.fetch_sub(1, std::memory_order_relaxed); }
        std::atomic<int>& n_;
    };
    std::atomic<bool> ready_{false};
    std::atomic<int> waiters_{0};
    boost::fibers::mutex mutex_;
    boost::fibers::condition_variable cv_;
};

}  // namespace kinako::margo
