// Registered staging buffers for transfers to targets that are not byte-addressable (or for
// the pipeline transfer manager), and the double-buffered copy loops that use them.
#pragma once

#include "transfer_manager.hpp"

#include <boost/fiber/condition_variable.hpp>
#include <boost/fiber/mutex.hpp>

#include <vector>

namespace mochi::warabi::detail {

struct StagingBuffer {
    char* data = nullptr;
    size_t size = 0;
    size_t pool = 0;
    mochi::margo::Bulk bulk;  // registered once, reused by every transfer
};

// Pools of buffers of increasing sizes. acquire() parks the calling fiber until a buffer is
// free, so the memory used by transfers stays bounded whatever the load.
class StagingPool {
  public:
    // sizes[i] is the buffer size of pool i; each pool holds `count` buffers aligned to `align`.
    StagingPool(const mochi::margo::Engine& engine, std::vector<size_t> sizes, size_t count, size_t align);
    ~StagingPool();
    StagingPool(const StagingPool&) = delete;
    StagingPool& operator=(const StagingPool&) = delete;

    class Lease {
      public:
        Lease() = default;
        Lease(StagingPool* p, StagingBuffer* b) : pool_(p), buf_(b) {}
        Lease(Lease&& o) noexcept : pool_(o.pool_), buf_(o.buf_) { o.buf_ = nullptr; }
        Lease& operator=(Lease&& o) noexcept {
            std::swap(pool_, o.pool_);
            std::swap(buf_, o.buf_);
            return *this;
        }
        ~Lease() {
            if (buf_) pool_->release(buf_);
        }
        StagingBuffer* operator->() const { return buf_; }
        explicit operator bool() const { return buf_ != nullptr; }

      private:
        StagingPool* pool_ = nullptr;
        StagingBuffer* buf_ = nullptr;
    };

    // The best buffer for `want` bytes: the smallest that holds it, else the largest.
    Lease acquire(size_t want);
    Lease try_acquire(size_t want);

  private:
    size_t pick(size_t want) const;
    StagingBuffer* take_locked(size_t want);
    void release(StagingBuffer* b);
    std::vector<size_t> sizes_;
    std::vector<std::vector<StagingBuffer*>> free_;
    std::vector<std::unique_ptr<StagingBuffer>> all_;
    boost::fibers::mutex mutex_;
    boost::fibers::condition_variable cv_;
};

// Client memory -> region through staging buffers, overlapping RDMA and target writes.
void staged_pull(const mochi::margo::Engine& engine, StagingPool& pool, Target& target, const RegionID& id,
                 size_t offset, size_t size, const RemoteBuffer& src);
// Region -> client memory through staging buffers, overlapping target reads and RDMA.
void staged_push(const mochi::margo::Engine& engine, StagingPool& pool, Target& target, const RegionID& id,
                 size_t offset, size_t size, const RemoteBuffer& dst);

}  // namespace mochi::warabi::detail
