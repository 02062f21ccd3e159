// The registry entries incoming requests recently named. A request for one of them skips the
// registry's lock and map walk. Entries are stamped with the registry's generation, which
// every change to the registry (define, deregister, a pool or response setting) bumps: a
// stamp that is not the current generation misses, so a change is seen by the next request.
// Slots hold weak references: a deregistered handler (and what it captured, such as its
// provider) is released at once, not when its slot is reused.
// Touched only by the progress context (under the engine's progress lock): no lock of its own.
#pragma once

#include <cstdint>
#include <memory>

namespace kinako::margo {

template <class Entry>
class HandlerCache {
  public:
    // The cached entry for (rpc_id, provider_id) at `generation`, or null.
    std::shared_ptr<Entry> find(uint64_t rpc_id, uint16_t provider_id, uint64_t generation) const {
        for (const Slot& s : slots_)
            if (s.rpc_id == rpc_id && s.provider_id == provider_id && s.generation == generation)
                return s.entry.lock();
        return nullptr;
    }
    // `generation` must have been read before the registry lookup that found `entry`.
    void add(uint64_t rpc_id, uint16_t provider_id, uint64_t generation, const std::shared_ptr<Entry>& entry) {
        Slot& s = slots_[next_++ % kSize];
        s.rpc_id = rpc_id;
        s.provider_id = provider_id;
        s.generation = generation;
        s.entry = entry;
    }

  private:
    struct Slot {
        uint64_t rpc_id = 0;
        uint16_t provider_id = 0;
        uint64_t generation = ~uint64_t(0);  // matches no registry generation
        std::weak_ptr<Entry> entry;
    };
    static constexpr unsigned kSize = 8;
    Slot slots_[kSize];
    unsigned next_ = 0;
};

}  // namespace kinako::margo
