// Lets threads that are not the engine's own use its transport endpoint while finalize may
// be closing it. The engine's fibers are drained before the endpoint goes; a caller's thread
// (a client's, a provider's background thread) is not, and used to post into an endpoint that
// finalize had just destroyed.
#pragma once

#include <atomic>
#include <thread>

namespace kinako::margo {

class EndpointGate {
  public:
    // Held while touching the endpoint (posting, registering memory, waking the progress
    // loop), never while waiting for a completion: close() waits for every pass to end.
    class Pass {
      public:
        explicit Pass(EndpointGate& gate) : gate_(&gate) {
            // Announce first, then look (both sequentially consistent, as in close(), the other
            // way round): either we see the gate closed, or close() sees us inside.
            gate.inside_.fetch_add(1, std::memory_order_seq_cst);
            if (gate.closed_.load(std::memory_order_seq_cst)) leave();
        }
        ~Pass() { leave(); }
        Pass(const Pass&) = delete;
        Pass& operator=(const Pass&) = delete;
        // False when the gate was already closed: the endpoint must not be touched.
        explicit operator bool() const { return gate_ != nullptr; }

      private:
        void leave() {
            if (gate_) gate_->inside_.fetch_sub(1, std::memory_order_release);
            gate_ = nullptr;
        }
        EndpointGate* gate_;
    };

    // Refuses new passes and waits until the holders of earlier ones have left. Holders never
    // block on the engine (a busy transport makes them give up once the engine stops running).
    void close() {
        closed_.store(true, std::memory_order_seq_cst);
        while (inside_.load(std::memory_order_seq_cst) > 0) std::this_thread::yield();
    }

  private:
    std::atomic<int> inside_{0};
    std::atomic<bool> closed_{false};
};

}  // namespace kinako::margo
