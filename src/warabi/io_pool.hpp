// A pool of OS threads for blocking I/O (pread/pwrite/fdatasync/msync): the abt-io role.
// run() hands a job to the pool and parks the calling fiber until it is done, so handler
// xstreams keep serving other requests while the disk works.
#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mochi::warabi::detail {

class IoPool {
  public:
    explicit IoPool(size_t threads);
    ~IoPool();
    IoPool(const IoPool&) = delete;
    IoPool& operator=(const IoPool&) = delete;
    size_t size() const { return threads_.size(); }
    // Runs job on an I/O thread and waits (fiber-friendly); rethrows what the job threw.
    void run(const std::function<void()>& job);

  private:
    void loop();
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> jobs_;
    bool stop_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace mochi::warabi::detail
