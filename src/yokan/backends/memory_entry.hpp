// One stored pair of the in-memory backends: the key's bytes then the value's, in a single
// heap block. Keeping a pair in one block (instead of a std::string each for key and value)
// means one malloc per new key instead of three and ~30% less memory per small pair, which
// matters on this kind of VM: a fresh 4 KiB page costs 2-3 us to fault in, so a batch of new
// keys pays for every page its pairs spread over. The blocks come from the backend's pools
// (memory_chunks.hpp).
#pragma once

#include "memory_chunks.hpp"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string_view>

namespace mochi::yokan::backends {

class Entry {
  public:
    // A new block holding k and v, with room for the value to grow to `capacity` bytes.
    static Entry* create(EntryMemory& memory, std::string_view k, std::string_view v, size_t capacity = 0) {
        if (capacity < v.size()) capacity = v.size();
        void* mem = memory.allocate(sizeof(Entry) + k.size() + capacity, alignof(Entry));
        auto* e = new (mem) Entry(k.size(), v.size(), capacity);
        if (!k.empty()) std::memcpy(e->data(), k.data(), k.size());
        if (!v.empty()) std::memcpy(e->data() + k.size(), v.data(), v.size());
        return e;
    }

    std::string_view key() const { return {data(), klen_}; }
    // What create() allocated, for giving it back.
    size_t block_size() const { return sizeof(Entry) + klen_ + vcap_; }
    std::string_view value() const { return {data() + klen_, vlen_}; }

    // Replaces the value in place when it fits; false when the block is too small, or so
    // much larger than needed that keeping it would waste memory.
    bool assign(std::string_view v) {
        if (v.size() > vcap_ || (vcap_ > 256 && v.size() < vcap_ / 4)) return false;
        if (!v.empty()) std::memmove(data() + klen_, v.data(), v.size());
        vlen_ = v.size();
        return true;
    }
    // Appends in place when it fits; false when the block is too small.
    bool append(std::string_view v) {
        if (v.size() > vcap_ - vlen_) return false;
        if (!v.empty()) std::memcpy(data() + klen_ + vlen_, v.data(), v.size());
        vlen_ += v.size();
        return true;
    }

  private:
    Entry(size_t klen, size_t vlen, size_t vcap) : klen_(klen), vlen_(vlen), vcap_(vcap) {}
    char* data() { return reinterpret_cast<char*>(this + 1); }
    const char* data() const { return reinterpret_cast<const char*>(this + 1); }

    size_t klen_, vlen_, vcap_;
};

struct EntryFree {
    EntryMemory* memory = nullptr;
    void operator()(Entry* e) const { memory->deallocate(e, e->block_size(), alignof(Entry)); }
};
using EntryPtr = std::unique_ptr<Entry, EntryFree>;

}  // namespace mochi::yokan::backends
