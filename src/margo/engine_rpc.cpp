// RPCs: registration, forward (eager or large payloads), dispatch of incoming messages,
// responses, and waiting for calls with timeouts and peer liveness checks.
#include "address.hpp"
#include "engine_impl.hpp"

#include <rdma/fi_errno.h>
#include <cstring>
#include <xxhash.h>

#include <cstring>
#include <thread>

namespace mochi::margo {
uint64_t rpc_id_of(std::string_view name) { return XXH64(name.data(), name.size(), 0x6b696e616b6fULL); }
}  // namespace mochi::margo

namespace mochi::margo::detail {

using kinako::margo::EndpointGate;
using kinako::margo::kLarge;
using kinako::margo::kMagic;
using kinako::margo::kNoResponse;
using kinako::margo::MsgHeader;
using kinako::margo::MsgType;
using kinako::margo::OutMessage;

namespace {

// A send in flight: owns the message bytes until the transport is done with them.
struct SendOp : kinako::na::Operation {
    std::string msg;
    std::weak_ptr<PendingCall> call;
    std::weak_ptr<EngineImpl> engine;
    void complete(int err, size_t) override {
        if (err) {
            if (auto c = call.lock()) {
                if (auto e = engine.lock()) {
                    // Fail the call: the request never left.
                    c->status = Status::NaError;
                    c->done.set();
                }
            }
        }
        delete this;
    }
};

// A message with its header filled in; `extra` bytes (address, payload) are still to come.
OutMessage make_header(MsgType type, uint8_t flags, uint16_t provider_id, int32_t status, uint64_t rpc_id,
                       uint64_t seq, uint64_t payload_size, size_t extra) {
    MsgHeader h{};
    h.magic = kMagic;
    h.type = static_cast<uint8_t>(type);
    h.flags = flags;
    h.provider_id = provider_id;
    h.status = status;
    h.rpc_id = rpc_id;
    h.seq = seq;
    h.payload_size = payload_size;
    return OutMessage(h, extra);
}

}  // namespace

// ---------------------------------------------------------------- registry

uint64_t EngineImpl::define(const std::string& name, Handler handler, uint16_t provider_id, const std::string& pool) {
    uint64_t id = rpc_id_of(name);
    auto entry = std::make_shared<RpcEntry>();
    entry->name = name;
    entry->handler = std::move(handler);
    entry->pool = find_pool(pool);
    if (!entry->pool) throw Exception("margo_register", Status::InvalidArg, "no pool named \"" + pool + "\"");
    std::lock_guard<std::mutex> lock(registry_mutex_);
    auto& slot = registry_[{id, provider_id}];
    if (slot) entry->disable_response = slot->disable_response;
    slot = entry;
    registry_changed();
    return id;
}

void EngineImpl::deregister(uint64_t rpc_id, uint16_t provider_id) {
    std::lock_guard<std::mutex> lock(registry_mutex_);
    registry_.erase({rpc_id, provider_id});
    registry_changed();
}

std::shared_ptr<Pool> EngineImpl::find_pool(const std::string& name) {
    if (name.empty()) return rpc_pool_;
    std::lock_guard<std::mutex> layout(layout_mutex_);
    for (auto& p : pools_)
        if (p->name() == name) return p;
    return nullptr;
}

void EngineImpl::set_rpc_pool(uint64_t rpc_id, uint16_t provider_id, const std::string& pool) {
    auto target = find_pool(pool);
    if (!target) throw Exception("margo_rpc_set_pool", Status::InvalidArg, "no pool named \"" + pool + "\"");
    std::lock_guard<std::mutex> lock(registry_mutex_);
    auto it = registry_.find({rpc_id, provider_id});
    if (it == registry_.end() || !it->second->handler)
        throw Exception("margo_rpc_set_pool", Status::InvalidArg,
                        "no handler registered for RPC id " + std::to_string(rpc_id) + " with provider id " +
                            std::to_string(provider_id));
    // Entries are shared with requests in flight, so the change is a new entry, not a write.
    auto moved = std::make_shared<RpcEntry>(*it->second);
    moved->pool = target;
    it->second = std::move(moved);
    registry_changed();
}

std::shared_ptr<RpcEntry> EngineImpl::find_entry(uint64_t rpc_id, uint16_t provider_id) const {
    std::lock_guard<std::mutex> lock(registry_mutex_);
    auto it = registry_.find({rpc_id, provider_id});
    return it == registry_.end() ? nullptr : it->second;
}

void EngineImpl::disable_response(uint64_t rpc_id, uint16_t provider_id, bool disable) {
    std::lock_guard<std::mutex> lock(registry_mutex_);
    auto& slot = registry_[{rpc_id, provider_id}];
    if (!slot) {
        slot = std::make_shared<RpcEntry>();
        slot->pool = rpc_pool_;
    }
    slot->disable_response = disable;
    registry_changed();
    if (disable) any_response_disabled_.store(true, std::memory_order_release);
}

// ---------------------------------------------------------------- sending

void EngineImpl::retry_post(const char* what, const std::string& peer_raw, Clock::time_point deadline,
                            Clock::time_point& next_probe) {
    // The transport is busy (or still connecting, which over tcp is also what a peer that is
    // gone looks like): progress, but never past the deadline and never forever against a
    // peer that is gone.
    auto now = Clock::now();
    if (now >= deadline) throw Exception(what, Status::Timeout, "could not post before the deadline");
    if (next_probe == Clock::time_point()) next_probe = now + std::chrono::seconds(1);  // first busy answer
    if (now >= next_probe) {
        next_probe = now + std::chrono::seconds(1);
        if (!kinako::margo::peer_alive(proto_.provider, peer_raw))
            throw Exception(what, Status::HostUnreach, "peer " + address_string(peer_raw) + " is gone");
    }
    if (!running()) throw finalized_error(what);
    progress_or_yield();
}

void EngineImpl::send_message(fi_addr_t dest, OutMessage& msg, const std::shared_ptr<PendingCall>& call,
                              const std::string& peer_raw, Clock::time_point deadline, Clock::duration patience) {
    // The clock is read only once the transport answers busy: a send that posts at once (the
    // usual case) reads no clock.
    Clock::time_point next_probe{};
    auto busy = [&] {
        if (deadline == Clock::time_point::max() && patience != Clock::duration::max()) deadline = Clock::now() + patience;
        retry_post("margo_forward", peer_raw, deadline, next_probe);
    };
    if (msg.size() <= ep_->inject_size()) {
        int ret;
        while ((ret = ep_->inject(dest, msg.data(), msg.size())) == -FI_EAGAIN) busy();
        if (ret) throw post_error("margo_forward", ret);
        return;
    }
    auto* op = new SendOp();
    op->msg = msg.take();
    op->call = call;
    op->engine = weak_from_this();
    int ret;
    try {
        while ((ret = ep_->post_send(dest, op->msg.data(), op->msg.size(), nullptr, op)) == -FI_EAGAIN) busy();
    } catch (...) {
        delete op;
        throw;
    }
    if (ret) {
        delete op;
        throw post_error("margo_forward", ret);
    }
}

std::shared_ptr<PendingCall> EngineImpl::start_forward(const Address& target, uint64_t rpc_id, std::string_view input,
                                                       uint16_t provider_id, double timeout_ms, bool copy_input) {
    if (!running()) throw finalized_error("margo_forward");
    if (target.is_null()) throw Exception("margo_forward", Status::InvalidArg, "null address");
    auto call = std::make_shared<PendingCall>();
    call->engine = weak_from_this();
    call->target_raw = target.raw_;
    call->rpc_id = rpc_id;
    call->seq = next_seq_.fetch_add(1);
    if (timeout_ms > 0)
        call->deadline = Clock::now() + std::chrono::microseconds(static_cast<int64_t>(timeout_ms * 1000));
    // Only an RPC marked "responses disabled" changes the call; until one is, skip the lookup
    // (a registry lock and a map walk on every forward).
    if (any_response_disabled_.load(std::memory_order_acquire))
        if (auto entry = find_entry(rpc_id, provider_id)) call->no_response = entry->disable_response;

    if (target.raw() == self_raw_) {
        // Calls to ourselves never touch the transport.
        auto entry = find_entry(rpc_id, provider_id);
        if (!entry || !entry->handler) {
            call->status = Status::NoEntry;
            call->done.set();
            return call;
        }
        auto req = std::make_shared<IncomingRequest>();
        req->engine = weak_from_this();
        req->source = target;
        req->rpc_id = rpc_id;
        req->provider_id = provider_id;
        req->no_response = call->no_response;
        req->owned_input.bytes.assign(input.data(), input.size());
        req->input = req->owned_input.bytes;
        req->self_call = call;
        if (call->no_response) {
            call->done.set();
        } else {
            std::lock_guard<std::mutex> lock(pending_mutex_);
            pending_[call->seq] = call;  // so that a timeout can withdraw it
        }
        // Tasks hold a raw pointer: finalize drains the xstreams before the engine goes away,
        // and a task must never be what destroys the engine (it would run on our own thread).
        entry->pool->push([this, req, entry] { run_handler(req, entry); });
        return call;
    }

    // Held while we touch the endpoint, up to the send: a finalize on another thread waits
    // for it before closing the endpoint (the caller's wait below needs none).
    EndpointGate::Pass pass(gate_);
    if (!pass) throw finalized_error("margo_forward");
    call->dest = resolve_peer(target.raw(), "margo_forward");
    const std::string& me = self_raw_;
    uint8_t flags = call->no_response ? kNoResponse : 0;
    bool large = input.size() > eager_payload_max_;
    OutMessage msg = make_header(MsgType::Request, flags | (large ? kLarge : 0), provider_id, 0, rpc_id, call->seq,
                                  input.size(), me.size() + (large ? 0 : input.size()));
    msg.header()->src_len = static_cast<uint16_t>(me.size());
    msg.append(me);
    if (large) {
        // Expose the input; the server pulls it. It must outlive the call.
        const char* data = input.data();
        if (copy_input) {
            call->input_copy.fill(payload_buffers_, input.size());
            std::memcpy(call->input_copy.bytes.data(), input.data(), input.size());
            data = call->input_copy.bytes.data();
        }
        call->input_mr = register_memory("margo_forward", const_cast<char*>(data), input.size(), FI_REMOTE_READ);
        msg.header()->large_addr = call->input_mr.remote_address(0);
        msg.header()->large_key = call->input_mr.key();
    } else {
        msg.append(input.data(), input.size());
    }
    if (!call->no_response) {
        std::lock_guard<std::mutex> lock(pending_mutex_);
        pending_[call->seq] = call;
    }
    try {
        send_message(call->dest, msg, call, *call->target_raw, call->deadline);
    } catch (...) {
        std::lock_guard<std::mutex> lock(pending_mutex_);
        pending_.erase(call->seq);
        throw;
    }
    if (call->no_response) call->done.set();
    return call;
}

// ---------------------------------------------------------------- waiting

void EngineImpl::wait_call(const std::shared_ptr<PendingCall>& call) {
    const bool in_fiber = Xstream::current() != nullptr;
    auto now = Clock::now();
    // A peer that died never answers: check now and then that it still exists.
    auto next_liveness = now + std::chrono::seconds(2);
    if (!in_fiber) caller_arrives();
    auto spin_until = now + std::chrono::microseconds(static_cast<int64_t>(cfg_.spindown_ms * 1000));
    unsigned turn = 0;
    bool slept = false;  // the last turn may have blocked: its `now` is old
    while (!call->done.ready()) {
        // While a caller thread spins on the transport, a clock read (20-40 ns on a VM, about
        // what an empty poll costs) every turn would slow noticing the response: read it every
        // 8th turn, which makes deadlines and the spin window coarser by well under 1 us. A turn
        // that may have blocked (a fiber's wait, another thread driving) reads it every time.
        if (in_fiber || slept || now >= spin_until || (++turn & 7) == 0) now = Clock::now();
        slept = false;
        if (now >= call->deadline) break;
        if (!running()) {
            // Finalize cancels the calls pending when it starts; one registered just after
            // that sweep would otherwise wait for a response nobody will receive (a handler
            // doing so holds up finalize itself, which waits for its handlers to end).
            complete_call(call, Status::Canceled);
            if (call->done.ready()) break;
        }
        auto slice_end = std::min(call->deadline, now + std::chrono::milliseconds(200));
        if (in_fiber) {
            call->done.wait_until(slice_end);
        } else {
            // Drive progress ourselves when nobody else does: no thread hand-off on the way back.
            // Only one outside thread can drive progress at a time; the others sleep until
            // their call completes (the driver or the progress loop sets `done`). Waking them
            // every millisecond instead swamps the cores when hundreds of threads wait.
            int wait_ms = now < spin_until ? 0 : 1;
            if (!running()) {
                call->done.wait_until(std::min(slice_end, now + std::chrono::milliseconds(1)));
                slept = true;
            } else if (!try_progress(wait_ms)) {
                wait_for_driver(call->done, std::min(slice_end, now + std::chrono::milliseconds(20)));
                slept = true;
            }
        }
        if (!call->done.ready() && now >= next_liveness) {  // `now` of this turn: one clock read per turn
            next_liveness = Clock::now() + std::chrono::seconds(1);
            if (peer_gone(*call->target_raw, call->done)) complete_call(call, Status::HostUnreach);
        }
    }
    if (!in_fiber) caller_leaves(now);
    if (!call->done.ready()) {
        // Timed out: forget the call; a late response is dropped.
        bool removed;
        {
            std::lock_guard<std::mutex> lock(pending_mutex_);
            removed = pending_.erase(call->seq) > 0;
        }
        if (removed) {
            call->status = Status::Timeout;
            call->done.set();
        } else {
            call->done.wait();
        }
    }
    if (call->status == Status::Success && call->large_response && !call->finished) finish_large_response(*call);
    call->finished = true;
    call->input_mr = kinako::na::MemoryRegion();
}

bool EngineImpl::peer_gone(const std::string& raw, const Eventual& done) {
    // Declared dead only when several probes in a row say so (a busy peer may drop one), and
    // only if what we wait for has not completed meanwhile.
    bool dead = true;
    for (int probe = 0; probe < 3 && dead && !done.ready(); probe++) {
        if (probe) sleep_ms(100);
        dead = !peer_alive_cached(raw, probe > 0);
    }
    return dead && !done.ready();
}

bool EngineImpl::peer_alive_cached(const std::string& raw, bool fresh) {
    // Many calls waiting on one peer share one probe a second (a tcp probe is a connect).
    auto now = Clock::now();
    {
        std::lock_guard<std::mutex> lock(liveness_mutex_);
        auto it = liveness_.find(raw);
        if (!fresh && it != liveness_.end() && now - it->second.first < std::chrono::seconds(1))
            return it->second.second;
    }
    bool alive = kinako::margo::peer_alive(proto_.provider, raw);
    std::lock_guard<std::mutex> lock(liveness_mutex_);
    liveness_[raw] = {Clock::now(), alive};
    return alive;
}

void EngineImpl::complete_call(const std::shared_ptr<PendingCall>& call, Status status) {
    bool removed;
    {
        std::lock_guard<std::mutex> lock(pending_mutex_);
        removed = pending_.erase(call->seq) > 0;
    }
    if (!removed) return;
    call->status = status;
    call->done.set();
    if (external_waiters_.load() > 0) wake_progress();
}

void EngineImpl::wake_progress() {
    EndpointGate::Pass pass(gate_);
    if (pass) ep_->wake();
}

kinako::na::MemoryRegion EngineImpl::register_memory(const char* what, void* data, size_t size, uint64_t access) {
    EndpointGate::Pass pass(gate_);
    if (!pass) throw finalized_error(what);
    return ep_->register_memory(data, size, access);
}

void EngineImpl::finish_large_response(PendingCall& call) {
    call.owned.fill(payload_buffers_, call.large_size);
    try {
        char* data = call.owned.bytes.data();
        auto mr = register_memory("margo_forward", data, call.large_size, FI_READ);
        rma(true, call.dest, *call.target_raw, data, mr.desc(), call.large_size, call.large_addr, call.large_key);
        call.output = call.owned.bytes;
    } catch (const Exception& e) {
        call.status = e.status();
    }
    call.lease.reset();
    // Tell the server it can release its copy.
    OutMessage msg = make_header(MsgType::LargeDone, 0, 0, 0, 0, call.seq, 0, 0);
    msg.header()->token = call.large_token;
    EndpointGate::Pass pass(gate_);
    if (!pass) return;  // finalized meanwhile: the server's copy expires on its own
    try {
        send_message(call.dest, msg, nullptr, *call.target_raw, Clock::time_point::max(), std::chrono::seconds(10));
    } catch (...) {
    }
}

void EngineImpl::rma(bool read, fi_addr_t peer, const std::string& peer_raw, void* local, void* desc, size_t size,
                     uint64_t raddr, uint64_t rkey) {
    auto st = std::make_shared<AsyncTransfer::State>();
    st->remaining = 1;
    st->peer_raw = peer_raw;
    {
        EndpointGate::Pass pass(gate_);  // for the posting only, not for the wait below
        if (!pass) throw finalized_error("margo_bulk_transfer");
        auto* op = new RmaOp();
        op->state = st;
        int ret;
        Clock::time_point next_probe{};  // set by retry_post when first needed
        try {
            while ((ret = read ? ep_->post_read(peer, local, size, desc, raddr, rkey, op)
                               : ep_->post_write(peer, local, size, desc, raddr, rkey, op)) == -FI_EAGAIN)
                retry_post("margo_bulk_transfer", peer_raw, Clock::time_point::max(), next_probe);
        } catch (...) {
            delete op;
            throw;
        }
        if (ret) {
            delete op;
            throw post_error("margo_bulk_transfer", ret);
        }
    }
    wait_transfer(*st);
    if (int err = st->error.load()) throw transfer_error(err);
}

void EngineImpl::wait_transfer(AsyncTransfer::State& st) {
    // A transfer has no deadline, but one whose peer died never completes (over shm the peer
    // takes part in moving the bytes): after two seconds, probe the peer once a second.
    bool in_fiber = Xstream::current() != nullptr;
    auto next_liveness = Clock::now() + std::chrono::seconds(2);
    if (!in_fiber) caller_arrives();
    auto spin_until = Clock::now() + std::chrono::microseconds(static_cast<int64_t>(cfg_.spindown_ms * 1000));
    while (!st.done.ready()) {
        if (finalized()) {
            // The endpoint is closed: nothing completes the operation any more. Only now may
            // the caller release its buffers (the provider could still use them before).
            int expected = 0;
            st.error.compare_exchange_strong(expected, FI_ECANCELED);
            st.done.set();
            break;
        }
        auto now = Clock::now();
        if (!running()) {
            // Finalize stopped the progress loop (and, if we are a handler, waits for us to
            // end): drive the transfer ourselves; its peer's liveness bounds the wait below.
            try_progress(0);
            st.done.wait_until(now + std::chrono::milliseconds(1));
        } else if (in_fiber) {
            st.done.wait_until(now + std::chrono::milliseconds(200));
        } else {
            int wait_ms = now < spin_until ? 0 : 1;
            if (!try_progress(wait_ms)) wait_for_driver(st.done, now + std::chrono::milliseconds(1));
        }
        if (!st.done.ready() && !st.peer_raw.empty() && now >= next_liveness) {
            next_liveness = Clock::now() + std::chrono::seconds(1);
            if (peer_gone(st.peer_raw, st.done)) {
                // The operations stay posted (their RmaOp keeps the state alive); a late
                // completion finds `done` already set.
                int expected = 0;
                st.error.compare_exchange_strong(expected, FI_EHOSTUNREACH);
                st.done.set();
            }
        }
    }
    if (!in_fiber) caller_leaves(Clock::now());
}

// ---------------------------------------------------------------- receiving

void EngineImpl::on_receive(RecvBuffer* buf, int err, size_t len) {
    posted_--;
    posted_list_.remove(buf);
    if (err || len < sizeof(MsgHeader)) {
        buffers_->give_back(buf);  // canceled or garbage: ignore, the buffer goes back
        return;
    }
    MsgHeader h;
    memcpy(&h, buf->data.get(), sizeof(h));
    if (h.magic != kMagic) {
        buffers_->give_back(buf);
        return;
    }
    switch (static_cast<MsgType>(h.type)) {
        case MsgType::Request:
            dispatch_request(h, buf, len);
            break;
        case MsgType::Response:
            dispatch_response(h, buf, len);
            break;
        case MsgType::LargeDone: {
            std::lock_guard<std::mutex> lock(large_mutex_);
            large_responses_.erase(h.token);
            buffers_->give_back(buf);
            break;
        }
        default:
            buffers_->give_back(buf);
    }
}

void EngineImpl::dispatch_request(const MsgHeader& h, RecvBuffer* buf, size_t len) {
    size_t body = sizeof(MsgHeader) + h.src_len;
    bool large = h.flags & kLarge;
    if (h.src_len == 0 || body > len || (!large && body + h.payload_size > len)) {
        buffers_->give_back(buf);  // malformed: drop it
        return;
    }
    std::string_view src(buf->data.get() + sizeof(MsgHeader), h.src_len);
    const uint64_t generation = ep_->av_generation();
    const kinako::margo::SourceCache::Entry* peer = sources_.find(src, generation);
    if (!peer) {
        auto raw = std::make_shared<const std::string>(src);
        try {
            fi_addr_t fi = ep_->resolve(*raw);
            peer = &sources_.add(std::move(raw), fi, generation);
        } catch (...) {
            buffers_->give_back(buf);
            return;
        }
    }
    auto req = std::make_shared<IncomingRequest>();
    req->engine = weak_from_this();
    req->src_fi = peer->fi;
    req->source = Address(shared_from_this(), peer->raw);
    req->seq = h.seq;
    req->rpc_id = h.rpc_id;
    req->provider_id = h.provider_id;
    req->no_response = h.flags & kNoResponse;
    if (large) {
        req->large_input = true;
        req->large_addr = h.large_addr;
        req->large_key = h.large_key;
        req->large_size = h.payload_size;
        buffers_->give_back(buf);
    } else {
        req->lease = buffers_->lease(buf);
        req->input = std::string_view(buf->data.get() + body, h.payload_size);
    }
    const uint64_t registry_generation = registry_generation_.load(std::memory_order_acquire);
    std::shared_ptr<RpcEntry> entry = handlers_.find(h.rpc_id, h.provider_id, registry_generation);
    if (!entry) {
        entry = find_entry(h.rpc_id, h.provider_id);
        if (entry) handlers_.add(h.rpc_id, h.provider_id, registry_generation, entry);
    }
    if (!entry || !entry->handler) {
        // Unknown RPC or provider: answer with an error so the caller does not hang.
        rpc_pool_->push([this, req] {
            try { respond(*req, {}, Status::NoEntry); } catch (...) {}
        });
        return;
    }
    if (entry->disable_response) req->no_response = true;
    // The references move along (into the task, then into the handler): each copy of a
    // shared_ptr is an atomic increment and decrement on the request's path.
    Pool& pool = *entry->pool;
    pool.push([this, req = std::move(req), entry = std::move(entry)]() mutable {
        run_handler(std::move(req), std::move(entry));
    });
}

void EngineImpl::run_handler(std::shared_ptr<IncomingRequest> req, std::shared_ptr<RpcEntry> entry) {
    if (req->large_input) {
        try {
            fetch_large_input(*req);
        } catch (const Exception& e) {
            log(LogLevel::Error, std::string("could not pull a large request: ") + e.what());
            respond(*req, {}, e.status());
            return;
        }
    }
    IncomingRequest& r = *req;
    const Request request(std::move(req));
    try {
        entry->handler(request);
    } catch (const std::exception& e) {
        log(LogLevel::Error, "handler of RPC \"" + entry->name + "\" threw: " + e.what());
        if (!r.responded.load()) respond(r, {}, Status::OtherError);
    } catch (...) {
        log(LogLevel::Error, "handler of RPC \"" + entry->name + "\" threw");
        if (!r.responded.load()) respond(r, {}, Status::OtherError);
    }
}

void EngineImpl::fetch_large_input(IncomingRequest& req) {
    req.owned_input.fill(payload_buffers_, req.large_size);
    char* data = req.owned_input.bytes.data();
    auto mr = register_memory("margo_bulk_transfer", data, req.large_size, FI_READ);
    rma(true, req.src_fi, req.source.raw(), data, mr.desc(), req.large_size, req.large_addr, req.large_key);
    req.input = req.owned_input.bytes;
}

void EngineImpl::dispatch_response(const MsgHeader& h, RecvBuffer* buf, size_t len) {
    std::shared_ptr<PendingCall> call;
    {
        std::lock_guard<std::mutex> lock(pending_mutex_);
        auto it = pending_.find(h.seq);
        if (it != pending_.end()) {
            call = std::move(it->second);
            pending_.erase(it);
        }
    }
    bool large = h.flags & kLarge;
    if (!call) {
        buffers_->give_back(buf);  // late response of a timed-out call
        return;
    }
    call->status = static_cast<Status>(h.status);
    if (large) {
        call->large_response = true;
        call->large_addr = h.large_addr;
        call->large_key = h.large_key;
        call->large_size = h.payload_size;
        call->large_token = h.token;
        buffers_->give_back(buf);
    } else if (sizeof(MsgHeader) + h.payload_size <= len) {
        call->lease = buffers_->lease(buf);
        call->output = std::string_view(buf->data.get() + sizeof(MsgHeader), h.payload_size);
    } else {
        buffers_->give_back(buf);
        call->status = Status::ProtocolError;
    }
    call->done.set();
}

// ---------------------------------------------------------------- responding

void EngineImpl::respond(IncomingRequest& req, std::string_view output, Status status) {
    if (req.responded.exchange(true)) throw Exception("margo_respond", Status::InvalidArg, "already responded");
    if (req.no_response) return;
    if (req.self_call) {
        auto call = req.self_call;
        {
            std::lock_guard<std::mutex> lock(pending_mutex_);
            if (pending_.erase(call->seq) == 0) return;  // the caller gave up (timeout)
        }
        call->owned.bytes.assign(output.data(), output.size());
        call->output = call->owned.bytes;
        call->status = status;
        call->done.set();
        if (external_waiters_.load() > 0) wake_progress();
        return;
    }
    if (!running()) return;
    EndpointGate::Pass pass(gate_);
    if (!pass) return;  // finalize is closing the endpoint: the caller learns it another way
    bool large = output.size() > eager_payload_max_;
    OutMessage msg = make_header(MsgType::Response, large ? kLarge : 0, req.provider_id, static_cast<int32_t>(status),
                                  req.rpc_id, req.seq, output.size(), large ? 0 : output.size());
    if (large) {
        uint64_t token = next_token_.fetch_add(1);
        LargeResponse lr;
        lr.data.fill(payload_buffers_, output.size());
        std::memcpy(lr.data.bytes.data(), output.data(), output.size());
        lr.mr = ep_->register_memory(lr.data.bytes.data(), output.size(), FI_REMOTE_READ);  // under our pass
        lr.expires = Clock::now() + std::chrono::seconds(120);
        msg.header()->large_addr = lr.mr.remote_address(0);
        msg.header()->large_key = lr.mr.key();
        msg.header()->token = token;
        std::lock_guard<std::mutex> lock(large_mutex_);
        large_responses_.emplace(token, std::move(lr));
    } else {
        msg.append(output.data(), output.size());
    }
    send_message(req.src_fi, msg, nullptr, req.source.raw(), Clock::time_point::max(), std::chrono::seconds(60));
}

void EngineImpl::expire_large_responses() {
    auto now = Clock::now();
    std::lock_guard<std::mutex> lock(large_mutex_);
    for (auto it = large_responses_.begin(); it != large_responses_.end();) {
        if (it->second.expires < now)
            it = large_responses_.erase(it);
        else
            ++it;
    }
}

}  // namespace mochi::margo::detail
