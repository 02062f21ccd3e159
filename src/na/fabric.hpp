// Transport layer: one libfabric RDM endpoint with its completion queue, address vector and
// memory registration. The engine above it only sees raw addresses, posted operations and
// completions; nothing here knows about RPCs.
#pragma once

#include "av_fence.hpp"

#include <rdma/fabric.h>
#include <rdma/fi_domain.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace kinako::na {

// Every posted operation carries one of these; libfabric hands it back in the completion.
// fi_context2 must come first: providers with FI_CONTEXT mode use that space.
struct Operation {
    fi_context2 fi_ctx;
    virtual ~Operation() = default;
    // Called from the progress loop. err is 0 or a positive FI_E* code; len is the received size.
    virtual void complete(int err, size_t len) = 0;
};

// A registered memory region; deregistered when destroyed.
class MemoryRegion {
  public:
    MemoryRegion() = default;
    MemoryRegion(fid_mr* mr, void* base, size_t size, bool virt_addr);
    MemoryRegion(MemoryRegion&& o) noexcept { *this = std::move(o); }
    MemoryRegion& operator=(MemoryRegion&& o) noexcept;
    MemoryRegion(const MemoryRegion&) = delete;
    MemoryRegion& operator=(const MemoryRegion&) = delete;
    ~MemoryRegion();

    uint64_t key() const;
    void* desc() const;
    // Address a peer must use to reach `base + offset` (virtual address or offset, per provider).
    uint64_t remote_address(size_t offset = 0) const;
    void* base() const { return base_; }
    size_t size() const { return size_; }
    bool valid() const { return mr_ != nullptr; }

  private:
    fid_mr* mr_ = nullptr;
    void* base_ = nullptr;
    size_t size_ = 0;
    bool virt_addr_ = false;
};

class Endpoint {
  public:
    // provider: a libfabric provider name ("shm", "tcp;ofi_rxm"). bind: raw address to bind
    // (sockaddr_in bytes for tcp), empty for any.
    Endpoint(const std::string& provider, const std::string& bind);
    ~Endpoint();
    Endpoint(const Endpoint&) = delete;
    Endpoint& operator=(const Endpoint&) = delete;

    const std::string& provider() const { return provider_; }
    const std::string& name() const { return name_; }  // our raw address
    size_t inject_size() const { return inject_size_; }

    // Resolves a raw address to an fi_addr_t (inserted once, then cached).
    fi_addr_t resolve(const std::string& raw);
    void forget(const std::string& raw);
    // Changes whenever forget() drops an address: caches of resolve() results built at an
    // older generation must resolve again.
    uint64_t av_generation() const { return av_generation_.load(std::memory_order_acquire); }

    // Posting: return 0, -FI_EAGAIN (caller must progress and retry) or another negative error.
    int post_send(fi_addr_t dest, const void* buf, size_t len, void* desc, Operation* op);
    int inject(fi_addr_t dest, const void* buf, size_t len);
    int post_recv(void* buf, size_t len, void* desc, Operation* op);
    int post_read(fi_addr_t src, void* local, size_t len, void* desc, uint64_t raddr, uint64_t rkey, Operation* op);
    int post_write(fi_addr_t dst, const void* local, size_t len, void* desc, uint64_t raddr, uint64_t rkey, Operation* op);

    MemoryRegion register_memory(void* buf, size_t len, uint64_t access);

    // Reads up to `max` completions and runs their operations. Returns how many were handled.
    // Only one thread may poll at a time (the engine's progress loop holds that right).
    int poll(int max = 32);

    // Blocks until the completion queue may have something, `wake()` was called, or timeout_ms passes.
    void wait(int timeout_ms);
    void wake();

  private:
    void open_endpoint();            // fi_endpoint + binds to the AV and the CQ
    bool remove_stale_shm_region();  // see fabric.cpp
    std::string provider_;
    std::string name_;
    fi_info* info_ = nullptr;
    fid_fabric* fabric_ = nullptr;
    fid_domain* domain_ = nullptr;
    fid_av* av_ = nullptr;
    fid_cq* cq_ = nullptr;
    fid_ep* ep_ = nullptr;
    int cq_fd_ = -1;       // wait fd of the CQ, -1 when the provider has none (shm)
    int wake_fd_ = -1;     // eventfd used by wake()
    // Threads blocked in wait() right now: wake() costs a syscall only when someone sleeps.
    // wake_pending_ closes the race with a thread about to sleep (see wake()).
    std::atomic<int> sleepers_{0};
    std::atomic<bool> wake_pending_{false};
    size_t inject_size_ = 0;
    bool mr_virt_addr_ = false;
    bool mr_prov_key_ = false;
    bool mr_endpoint_ = false;
    std::atomic<uint64_t> next_key_{1};
    std::mutex av_mutex_;
    std::unordered_map<std::string, fi_addr_t> av_cache_;
    std::atomic<uint64_t> av_generation_{0};
    AvFence fence_;  // posts against removals from av_ (lock order: av_mutex_, then the fence)
};

// Raises std::runtime_error with the libfabric message.
[[noreturn]] void throw_fi_error(const char* what, int ret);

}  // namespace kinako::na
