// Bulk: exposing local memory, (de)serializing handles, and RMA transfers between them.
#include "engine_impl.hpp"

#include <rdma/fi_errno.h>

#include <cstring>

namespace mochi::margo::detail {
using kinako::margo::EndpointGate;

namespace {
template <typename T>
void put(std::string& s, T v) { s.append(reinterpret_cast<const char*>(&v), sizeof(v)); }
template <typename T>
T get(std::string_view& s) {
    if (s.size() < sizeof(T)) throw Exception("margo_bulk_deserialize", Status::InvalidArg, "truncated bulk handle");
    T v;
    memcpy(&v, s.data(), sizeof(T));
    s.remove_prefix(sizeof(T));
    return v;
}
constexpr uint32_t kBulkMagic = 0x424b4e4b;
constexpr size_t kMaxChunk = size_t(1) << 30;
}  // namespace

Exception transfer_error(int fi_err) {
    if (fi_err == FI_EHOSTUNREACH)
        return Exception("margo_bulk_transfer", Status::HostUnreach, "the remote side of the transfer is gone");
    if (fi_err == FI_ECANCELED)
        return finalized_error("margo_bulk_transfer");
    return Exception("margo_bulk_transfer", Status::NaError, fi_strerror(fi_err));
}

Exception finalized_error(const char* what) { return Exception(what, Status::Canceled, "engine is finalized"); }

Exception post_error(const char* what, int ret) {
    if (ret == -FI_EHOSTUNREACH)
        return Exception(what, Status::HostUnreach, "the peer's endpoint was closed (its engine was finalized)");
    return Exception(what, Status::NaError, fi_strerror(-ret));
}

Bulk EngineImpl::expose(void* data, size_t size, BulkAccess access) {
    if (!running()) throw finalized_error("margo_bulk_create");
    auto b = std::make_shared<BulkImpl>();
    b->base = data;
    b->size = size;
    b->access = static_cast<int>(access);
    b->local = true;
    b->owner_raw = self_raw_;
    b->engine = weak_from_this();
    if (size > 0) {
        uint64_t acc = FI_READ | FI_WRITE;
        if (access != BulkAccess::WriteOnly) acc |= FI_REMOTE_READ;
        if (access != BulkAccess::ReadOnly) acc |= FI_REMOTE_WRITE;
        b->mr = register_memory("margo_bulk_create", data, size, acc);
        b->remote_addr = b->mr.remote_address(0);
        b->key = b->mr.key();
    }
    return Bulk(b);
}

Bulk EngineImpl::deserialize_bulk(std::string_view data) {
    auto b = std::make_shared<BulkImpl>();
    if (get<uint32_t>(data) != kBulkMagic) throw Exception("margo_bulk_deserialize", Status::InvalidArg, "not a bulk handle");
    b->size = get<uint64_t>(data);
    b->remote_addr = get<uint64_t>(data);
    b->key = get<uint64_t>(data);
    b->access = get<int32_t>(data);
    uint16_t len = get<uint16_t>(data);
    if (data.size() < len) throw Exception("margo_bulk_deserialize", Status::InvalidArg, "truncated bulk handle");
    b->owner_raw.assign(data.data(), len);
    b->engine = weak_from_this();
    return Bulk(b);
}

std::shared_ptr<AsyncTransfer::State> EngineImpl::start_transfer(BulkOp op, const Address& origin, const BulkImpl& remote,
                                                                 size_t roff, const BulkImpl& local, size_t loff,
                                                                 size_t size) {
    if (!running()) throw finalized_error("margo_bulk_transfer");
    if (!local.local) throw Exception("margo_bulk_transfer", Status::InvalidArg, "the local bulk handle is not local memory");
    if (roff > remote.size || size > remote.size - roff)
        throw Exception("margo_bulk_transfer", Status::InvalidArg,
                        "remote range [" + std::to_string(roff) + ", +" + std::to_string(size) + ") exceeds the bulk of " +
                            std::to_string(remote.size) + " bytes");
    if (loff > local.size || size > local.size - loff)
        throw Exception("margo_bulk_transfer", Status::InvalidArg,
                        "local range [" + std::to_string(loff) + ", +" + std::to_string(size) + ") exceeds the bulk of " +
                            std::to_string(local.size) + " bytes");
    auto st = std::make_shared<AsyncTransfer::State>();
    st->engine = weak_from_this();
    st->peer_raw = origin.raw();
    if (size == 0) {
        st->done.set();
        return st;
    }
    char* lptr = static_cast<char*>(local.base) + loff;
    if (origin.raw() == self_raw_ && remote.local) {
        // Both sides are in this process: a plain copy.
        char* rptr = static_cast<char*>(remote.base) + roff;
        if (op == BulkOp::Pull)
            memmove(lptr, rptr, size);
        else
            memmove(rptr, lptr, size);
        st->done.set();
        return st;
    }
    EndpointGate::Pass pass(gate_);  // for the posting only; the caller waits without it
    if (!pass) throw finalized_error("margo_bulk_transfer");
    fi_addr_t peer = resolve_peer(origin.raw(), "margo_bulk_transfer");
    Clock::time_point next_probe{};  // set by retry_post when first needed
    size_t chunks = (size + kMaxChunk - 1) / kMaxChunk;
    st->remaining = static_cast<int>(chunks);
    for (size_t off = 0; off < size; off += kMaxChunk) {
        size_t n = std::min(kMaxChunk, size - off);
        auto* rop = new RmaOp();
        rop->state = st;
        uint64_t raddr = remote.remote_addr + roff + off;
        int ret;
        try {
            while ((ret = op == BulkOp::Pull
                              ? ep_->post_read(peer, lptr + off, n, local.mr.desc(), raddr, remote.key, rop)
                              : ep_->post_write(peer, lptr + off, n, local.mr.desc(), raddr, remote.key, rop)) ==
                   -FI_EAGAIN)
                retry_post("margo_bulk_transfer", origin.raw(), Clock::time_point::max(), next_probe);
        } catch (const Exception& e) {
            if (off == 0) {  // nothing in flight yet: the caller gets the error right away
                delete rop;
                throw;
            }
            ret = -(e.status() == Status::HostUnreach ? FI_EHOSTUNREACH : FI_ECANCELED);
        }
        if (ret) {
            delete rop;
            st->error.store(-ret);
            // Account for the chunks never posted so waiters finish.
            size_t left = (size - off + kMaxChunk - 1) / kMaxChunk;
            if ((st->remaining -= static_cast<int>(left)) == 0) st->done.set();
            break;
        }
    }
    return st;
}

}  // namespace mochi::margo::detail

namespace mochi::margo {

size_t Bulk::size() const { return impl_ ? impl_->size : 0; }

std::string Bulk::serialize() const {
    std::string s;
    if (!impl_) return s;
    detail::put<uint32_t>(s, detail::kBulkMagic);
    detail::put<uint64_t>(s, impl_->size);
    detail::put<uint64_t>(s, impl_->remote_addr);
    detail::put<uint64_t>(s, impl_->key);
    detail::put<int32_t>(s, impl_->access);
    detail::put<uint16_t>(s, static_cast<uint16_t>(impl_->owner_raw.size()));
    s.append(impl_->owner_raw);
    return s;
}

Address Bulk::owner() const {
    if (!impl_) return {};
    auto e = impl_->engine.lock();
    if (!e) return {};
    return e->make_address(impl_->owner_raw);
}

void AsyncTransfer::wait() const {
    if (!state_) return;
    if (state_->waited.exchange(true)) throw Exception("margo_wait", Status::InvalidArg, "Request already waited on");
    if (auto e = state_->engine.lock())
        e->wait_transfer(*state_);
    else
        state_->done.wait();
    if (int err = state_->error.load()) throw detail::transfer_error(err);
}

bool AsyncTransfer::test() const { return !state_ || state_->done.ready(); }

}  // namespace mochi::margo
