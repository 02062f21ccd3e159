// A one-shot event that a fiber (or a plain thread) waits on and any OS thread sets.
// Handler fibers wait on it for I/O threads and buffer hand-offs without holding their xstream.
#pragma once

#include <boost/fiber/condition_variable.hpp>
#include <boost/fiber/mutex.hpp>

#include <mutex>

namespace mochi::warabi::detail {

class FiberEvent {
  public:
    void set() {
        {
            std::lock_guard<boost::fibers::mutex> lock(mutex_);
            ready_ = true;
        }
        cv_.notify_all();
    }
    void wait() {
        std::unique_lock<boost::fibers::mutex> lock(mutex_);
        cv_.wait(lock, [&] { return ready_; });
    }

  private:
    boost::fibers::mutex mutex_;
    boost::fibers::condition_variable cv_;
    bool ready_ = false;
};

}  // namespace mochi::warabi::detail
