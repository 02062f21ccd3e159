// Large payload buffers (the input a server pulls, the response a client pulls, the response a
// server exposes for that pull) come from a margo::BufferPool; see buffer_pool.hpp for why.
#pragma once

#include <mochi/margo/buffer_pool.hpp>

#include <memory>
#include <string>

namespace mochi::margo::detail {

using BufferPoolPtr = std::shared_ptr<margo::BufferPool>;

// A payload buffer that goes back to its pool when dropped.
struct PooledBuffer {
    BufferPoolPtr pool;
    std::string bytes;

    PooledBuffer() = default;
    PooledBuffer(PooledBuffer&&) = default;
    PooledBuffer& operator=(PooledBuffer&& o) noexcept {
        release();
        pool = std::move(o.pool);
        bytes = std::move(o.bytes);
        return *this;
    }
    ~PooledBuffer() { release(); }

    void fill(const BufferPoolPtr& from, size_t n) {
        release();
        pool = from;
        bytes = pool ? pool->take(n) : std::string(n, '\0');
    }
    void release() {
        if (pool) pool->give_back(std::move(bytes));
        pool.reset();
        bytes = std::string();
    }
};

}  // namespace mochi::margo::detail
