#include "staging.hpp"

#include <cstdlib>

namespace mochi::warabi::detail {

using mochi::margo::AsyncTransfer;
using mochi::margo::BulkAccess;
using mochi::margo::BulkOp;

StagingPool::StagingPool(const mochi::margo::Engine& engine, std::vector<size_t> sizes, size_t count, size_t align)
: sizes_(std::move(sizes)), free_(sizes_.size()) {
    for (size_t p = 0; p < sizes_.size(); p++) {
        for (size_t i = 0; i < count; i++) {
            auto b = std::make_unique<StagingBuffer>();
            size_t bytes = (sizes_[p] + align - 1) / align * align;
            b->data = static_cast<char*>(aligned_alloc(align, bytes));
            if (!b->data) throw Exception(ErrorCode::OutOfSpace, "cannot allocate staging buffers");
            b->size = sizes_[p];
            b->pool = p;
            b->bulk = engine.expose(b->data, b->size, BulkAccess::ReadWrite);
            free_[p].push_back(b.get());
            all_.push_back(std::move(b));
        }
    }
}

StagingPool::~StagingPool() {
    for (auto& b : all_) {
        b->bulk = {};
        free(b->data);
    }
}

size_t StagingPool::pick(size_t want) const {
    for (size_t p = 0; p < sizes_.size(); p++)
        if (sizes_[p] >= want) return p;
    return sizes_.size() - 1;
}

StagingBuffer* StagingPool::take_locked(size_t want) {
    // Preferred pool first, then larger ones, then smaller ones.
    size_t first = pick(want);
    for (size_t p = first; p < sizes_.size(); p++)
        if (!free_[p].empty()) {
            auto* b = free_[p].back();
            free_[p].pop_back();
            return b;
        }
    for (size_t p = first; p-- > 0;)
        if (!free_[p].empty()) {
            auto* b = free_[p].back();
            free_[p].pop_back();
            return b;
        }
    return nullptr;
}

StagingPool::Lease StagingPool::acquire(size_t want) {
    std::unique_lock<boost::fibers::mutex> lock(mutex_);
    StagingBuffer* b;
    cv_.wait(lock, [&] { return (b = take_locked(want)) != nullptr; });
    return Lease(this, b);
}

StagingPool::Lease StagingPool::try_acquire(size_t want) {
    std::lock_guard<boost::fibers::mutex> lock(mutex_);
    StagingBuffer* b = take_locked(want);
    return b ? Lease(this, b) : Lease();
}

void StagingPool::release(StagingBuffer* b) {
    {
        std::lock_guard<boost::fibers::mutex> lock(mutex_);
        free_[b->pool].push_back(b);
    }
    cv_.notify_all();
}

namespace {
// Waits for an in-flight transfer even when unwinding: the RDMA must not land in a buffer
// that went back to the pool.
struct TransferGuard {
    AsyncTransfer t;
    bool active = false;
    void start(AsyncTransfer x) {
        t = std::move(x);
        active = true;
    }
    void wait() {
        if (active) {
            active = false;
            t.wait();
        }
    }
    ~TransferGuard() {
        if (active) try {
                t.wait();
            } catch (...) {
            }
    }
};
}  // namespace

void staged_pull(const mochi::margo::Engine& engine, StagingPool& pool, Target& target, const RegionID& id,
                 size_t offset, size_t size, const RemoteBuffer& src) {
    if (size == 0) return;
    StagingPool::Lease cur = pool.acquire(size);
    StagingPool::Lease nxt = size > cur->size ? pool.try_acquire(size - cur->size) : StagingPool::Lease();
    size_t chunk = nxt ? std::min(cur->size, nxt->size) : cur->size;
    size_t pos = 0, n = std::min(chunk, size);
    engine.transfer(BulkOp::Pull, src.origin, src.bulk, src.offset, cur->bulk, 0, n);
    for (;;) {
        size_t next_pos = pos + n, next_n = std::min(chunk, size - next_pos);
        bool more = next_pos < size;
        TransferGuard pending;
        if (more && nxt)
            pending.start(engine.itransfer(BulkOp::Pull, src.origin, src.bulk, src.offset + next_pos, nxt->bulk, 0, next_n));
        target.write(id, offset + pos, cur->data, n);
        if (!more) break;
        if (nxt) {
            pending.wait();
            std::swap(cur, nxt);
        } else {
            engine.transfer(BulkOp::Pull, src.origin, src.bulk, src.offset + next_pos, cur->bulk, 0, next_n);
        }
        pos = next_pos, n = next_n;
    }
}

void staged_push(const mochi::margo::Engine& engine, StagingPool& pool, Target& target, const RegionID& id,
                 size_t offset, size_t size, const RemoteBuffer& dst) {
    if (size == 0) return;
    StagingPool::Lease cur = pool.acquire(size);
    StagingPool::Lease nxt = size > cur->size ? pool.try_acquire(size - cur->size) : StagingPool::Lease();
    size_t chunk = nxt ? std::min(cur->size, nxt->size) : cur->size;
    size_t pos = 0, n = std::min(chunk, size);
    target.read(id, offset, cur->data, n);
    for (;;) {
        size_t next_pos = pos + n, next_n = std::min(chunk, size - next_pos);
        bool more = next_pos < size;
        TransferGuard pending;
        pending.start(engine.itransfer(BulkOp::Push, dst.origin, dst.bulk, dst.offset + pos, cur->bulk, 0, n));
        if (more && nxt) target.read(id, offset + next_pos, nxt->data, next_n);
        pending.wait();
        if (!more) break;
        if (nxt)
            std::swap(cur, nxt);
        else
            target.read(id, offset + next_pos, cur->data, next_n);
        pos = next_pos, n = next_n;
    }
}

}  // namespace mochi::warabi::detail
