// Recycled heap buffers for payloads, for the engine and for providers that build large
// responses. Why: on the VMs we run on, a page the process has not touched yet costs 2-3 us
// to fault in, and glibc hands big freed blocks back to the kernel (or to other allocations),
// so a fresh 100 KiB buffer per RPC paid ~25 page faults on each side. Measured: a yokan
// get_multi of 1,000 64-byte values spent ~100 us in page faults building its response when
// the heap had moved on since the previous one. A handful of kept buffers covers the
// payloads in flight at once; larger or surplus ones are simply freed.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace mochi::margo {

class BufferPool {
  public:
    // A buffer of exactly n bytes; its contents are unspecified.
    std::string take(size_t n) {
        std::string b;
        // Nothing kept (small responses never are): skip the lock, a fair share of a small call.
        if (kept_.load(std::memory_order_relaxed) == 0) {
            b.resize(n);
            return b;
        }
        {
            std::lock_guard<std::mutex> lock(mutex_);
            // Prefer a kept buffer big enough; otherwise any (it grows, and is kept again).
            size_t pick = free_.size();
            for (size_t i = 0; i < free_.size(); ++i) {
                if (free_[i].capacity() >= n) { pick = i; break; }
            }
            if (pick == free_.size() && !free_.empty()) pick = free_.size() - 1;
            if (pick < free_.size()) {
                b = std::move(free_[pick]);
                free_.erase(free_.begin() + static_cast<std::ptrdiff_t>(pick));
                kept_.store(free_.size(), std::memory_order_relaxed);
            }
        }
        b.resize(n);  // fills only what was never written: recycled buffers keep their size
        return b;
    }

    void give_back(std::string&& b) {
        if (b.capacity() < kMinKept || b.capacity() > kMaxKeptBytes) return;
        std::lock_guard<std::mutex> lock(mutex_);
        if (free_.size() < kMaxKept) free_.push_back(std::move(b));
        kept_.store(free_.size(), std::memory_order_relaxed);
    }

  private:
    static constexpr size_t kMaxKept = 8;
    static constexpr size_t kMinKept = 4096;               // small ones come from malloc cheaply
    static constexpr size_t kMaxKeptBytes = size_t(64) << 20;  // do not pin huge transfers
    std::mutex mutex_;
    std::vector<std::string> free_;
    // free_.size(), readable without the lock. A stale read only costs a fresh buffer (a kept
    // one is missed) or a lock taken for nothing; it never hands out a buffer twice.
    std::atomic<size_t> kept_{0};
};

}  // namespace mochi::margo
