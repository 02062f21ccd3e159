// The peers requests recently came from. A request from one of them gets its source Address
// (a shared string) and its transport address from here: no string allocation and no trip
// through the endpoint's locked address table per request.
// Touched only by the progress context (under the engine's progress lock): no lock of its own.
#pragma once

#include <rdma/fabric.h>

#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace kinako::margo {

class SourceCache {
  public:
    struct Entry {
        std::shared_ptr<const std::string> raw;
        fi_addr_t fi = FI_ADDR_UNSPEC;
        uint64_t generation = 0;  // the endpoint's av_generation() when resolved
    };

    // The entry for these address bytes, or nullptr; entries of an older generation miss.
    const Entry* find(std::string_view raw, uint64_t generation) const {
        for (const Entry& e : entries_)
            if (e.raw && e.generation == generation && e.raw->size() == raw.size() &&
                std::memcmp(e.raw->data(), raw.data(), raw.size()) == 0)
                return &e;
        return nullptr;
    }
    // Remembers a resolved peer, replacing the oldest entry.
    const Entry& add(std::shared_ptr<const std::string> raw, fi_addr_t fi, uint64_t generation) {
        Entry& e = entries_[next_++ % kSize];
        e.raw = std::move(raw);
        e.fi = fi;
        e.generation = generation;
        return e;
    }
    void clear() {
        for (Entry& e : entries_) e = Entry();
    }

  private:
    static constexpr unsigned kSize = 8;
    Entry entries_[kSize];
    unsigned next_ = 0;
};

}  // namespace kinako::margo
