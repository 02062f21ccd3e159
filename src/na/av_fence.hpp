// Keeps posts apart from changes to an address vector. Closing an endpoint of this process
// drops its address from every other endpoint's address vector (fabric.cpp explains why); a
// thread sending to that address at the same moment used to read state the removal had
// freed (a crash inside the tcp provider's send). Posts enter the fence (two atomic updates,
// no lock); a change waits for the posts inside to leave and holds new ones off meanwhile.
// Addresses removed stay listed as dead until an insert hands their slot out again, so a
// post through a handle resolved before the removal fails instead of reaching freed state.
#pragma once

#include <rdma/fabric.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace kinako::na {

class AvFence {
  public:
    // Held around one post (never around a wait). dead(): the address was removed meanwhile.
    class Post {
      public:
        Post(AvFence& fence, fi_addr_t dest) : fence_(fence) {
            fence.enter();
            dead_ = fence.dead_count_.load(std::memory_order_relaxed) > 0 && fence.listed_dead(dest);
        }
        ~Post() { fence_.posting_.fetch_sub(1, std::memory_order_release); }
        Post(const Post&) = delete;
        Post& operator=(const Post&) = delete;
        bool dead() const { return dead_; }

      private:
        AvFence& fence_;
        bool dead_ = false;
    };

    // Runs `change` with no post inside the fence. `change` may call mark_dead/mark_alive.
    template <typename F>
    void exclusive(F&& change) {
        std::lock_guard<std::mutex> lock(changer_);
        changing_.store(true, std::memory_order_seq_cst);
        while (posting_.load(std::memory_order_seq_cst) > 0) std::this_thread::yield();
        change();
        changing_.store(false, std::memory_order_release);
    }
    // Inside exclusive() only.
    void mark_dead(fi_addr_t a) {
        if (!listed_dead(a)) dead_.push_back(a);
        dead_count_.store(static_cast<int>(dead_.size()), std::memory_order_relaxed);
    }
    void mark_alive(fi_addr_t a) {
        dead_.erase(std::remove(dead_.begin(), dead_.end(), a), dead_.end());
        dead_count_.store(static_cast<int>(dead_.size()), std::memory_order_relaxed);
    }
    // Outside exclusive(): whether an insert just handed out a slot listed dead (rare).
    bool maybe_dead(fi_addr_t a) {
        if (dead_count_.load(std::memory_order_relaxed) == 0) return false;
        std::lock_guard<std::mutex> lock(changer_);
        return listed_dead(a);
    }

  private:
    void enter() {
        for (;;) {
            // Announce, then look (both sequentially consistent, as exclusive() does the other
            // way round): either we see the change coming, or it sees us inside.
            posting_.fetch_add(1, std::memory_order_seq_cst);
            if (!changing_.load(std::memory_order_seq_cst)) return;
            posting_.fetch_sub(1, std::memory_order_release);
            while (changing_.load(std::memory_order_acquire)) std::this_thread::yield();
        }
    }
    bool listed_dead(fi_addr_t a) const { return std::find(dead_.begin(), dead_.end(), a) != dead_.end(); }

    std::atomic<int> posting_{0};
    std::atomic<bool> changing_{false};
    std::mutex changer_;
    std::vector<fi_addr_t> dead_;  // changed inside exclusive() only, read by posts inside the fence
    std::atomic<int> dead_count_{0};
};

}  // namespace kinako::na
