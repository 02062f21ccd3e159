// Where the in-memory backends get their memory: a pool of fixed-size blocks per size class
// (std::pmr::unsynchronized_pool_resource) for the index nodes and the pair entries, fed by
// ChunkSource below.
//
// Why not plain malloc: a batch of new keys grows the heap, and on this kind of VM each fresh
// 4 KiB page costs 2-3 us to fault in. A batch of 1,000 new 16 B/64 B pairs touched ~43 new
// pages, about 100 us of a 245 us insert. Large chunks asked for transparent huge pages and
// populated in one call cost one fault per 2 MiB instead (or, without huge pages, one system
// call for the whole chunk instead of one trap per page).
#pragma once

#include <cstddef>
#include <memory_resource>

namespace mochi::yokan::backends {

// Upstream of the pools. Requests of kHugeThreshold bytes or more (the pools' later chunks,
// big bucket arrays) are mapped whole: 2 MiB-aligned, MADV_HUGEPAGE, populated at once.
// Smaller ones go to operator new. Memory is returned on deallocate.
class ChunkSource : public std::pmr::memory_resource {
  public:
    static constexpr size_t kHugeThreshold = size_t(1) << 20;
    static constexpr size_t kHugePage = size_t(2) << 20;

  private:
    void* do_allocate(size_t bytes, size_t alignment) override;
    void do_deallocate(void* p, size_t bytes, size_t alignment) override;
    bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override { return this == &other; }
};

// The pools of one backend. Not synchronized: the backend only allocates and frees under its
// exclusive lock (or, with use_lock false, the user has promised one writer at a time, which
// the standard containers need anyway).
class EntryMemory {
  public:
    // Entries larger than this skip the pools (malloc): pooling big values would keep a chunk
    // per rare size class.
    static constexpr size_t kLargestPooled = 4096;

    EntryMemory();
    std::pmr::memory_resource* resource() { return &pools_; }
    void* allocate(size_t bytes, size_t alignment);
    void deallocate(void* p, size_t bytes, size_t alignment);

  private:
    ChunkSource source_;
    std::pmr::unsynchronized_pool_resource pools_;
};

}  // namespace mochi::yokan::backends
