#include "memory_chunks.hpp"

#include <sys/mman.h>

#include <cstdlib>
#include <new>

namespace mochi::yokan::backends {

namespace {
#ifndef MADV_POPULATE_WRITE
constexpr int MADV_POPULATE_WRITE = 23;  // Linux 5.14; older kernels refuse it and we fault lazily
#endif
size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }
}  // namespace

void* ChunkSource::do_allocate(size_t bytes, size_t alignment) {
    if (bytes < kHugeThreshold) return ::operator new(bytes, std::align_val_t(alignment));
    size_t len = round_up(bytes, kHugePage);
    // Over-map by one huge page so the chunk can start on a 2 MiB boundary (huge pages need it).
    size_t mapped = len + kHugePage;
    void* raw = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) throw std::bad_alloc();
    auto base = reinterpret_cast<uintptr_t>(raw);
    uintptr_t start = round_up(base, kHugePage);
    if (start > base) munmap(raw, start - base);
    if (uintptr_t tail = base + mapped - (start + len)) munmap(reinterpret_cast<void*>(start + len), tail);
    void* p = reinterpret_cast<void*>(start);
    madvise(p, len, MADV_HUGEPAGE);
    madvise(p, len, MADV_POPULATE_WRITE);
    return p;
}

void ChunkSource::do_deallocate(void* p, size_t bytes, size_t alignment) {
    if (bytes < kHugeThreshold) {
        ::operator delete(p, bytes, std::align_val_t(alignment));
        return;
    }
    munmap(p, round_up(bytes, kHugePage));
}

namespace {
std::pmr::pool_options pool_options() {
    std::pmr::pool_options o;
    o.largest_required_pool_block = EntryMemory::kLargestPooled;
    // Chunks double per size class up to this many blocks: a busy class reaches the huge
    // chunks soon, a rare one stays small.
    o.max_blocks_per_chunk = size_t(1) << 16;
    return o;
}
}  // namespace

EntryMemory::EntryMemory() : pools_(pool_options(), &source_) {}

void* EntryMemory::allocate(size_t bytes, size_t alignment) {
    if (bytes > kLargestPooled) {
        void* p = std::malloc(bytes);
        if (!p) throw std::bad_alloc();
        return p;
    }
    return pools_.allocate(bytes, alignment);
}

void EntryMemory::deallocate(void* p, size_t bytes, size_t alignment) {
    if (bytes > kLargestPooled) std::free(p);
    else pools_.deallocate(p, bytes, alignment);
}

}  // namespace mochi::yokan::backends
