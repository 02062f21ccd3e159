// Internal state of an engine. See engine.hpp for the public API and DESIGN.md section 4.
#pragma once

#include <mochi/margo/engine.hpp>

#include "../na/fabric.hpp"
#include "address.hpp"
#include "config.hpp"
#include "endpoint_gate.hpp"
#include "eventual.hpp"
#include "handler_cache.hpp"
#include "payload_buffers.hpp"
#include "out_message.hpp"
#include "protocol.hpp"
#include "source_cache.hpp"
#include "scheduler.hpp"

#include <atomic>
#include <condition_variable>
#include <map>
#include <unordered_map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace mochi::margo::detail {

using kinako::margo::Eventual;
using kinako::margo::Pool;
using kinako::margo::Xstream;
using Clock = std::chrono::steady_clock;
using kinako::margo::MsgHeader;

// Receive buffers: kept posted by the progress loop; a received message leases its buffer
// until the request/response that views it is released (zero-copy inputs and outputs).
class RecvBufferPool;
struct RecvBuffer : kinako::na::Operation {
    std::unique_ptr<char[]> data;
    size_t capacity = 0;
    EngineImpl* engine = nullptr;
    // Links of the engine's list of posted receives (PostedList): kept in the buffer itself so
    // posting and completing a receive allocate nothing.
    RecvBuffer* posted_prev = nullptr;
    RecvBuffer* posted_next = nullptr;
    void complete(int err, size_t len) override;
};

// The receives currently posted, so finalize can free them (they never complete once the
// endpoint is closed). Intrusive and unguarded: used under the engine's progress_mutex_.
class PostedList {
  public:
    void add(RecvBuffer* b) {
        b->posted_prev = nullptr;
        b->posted_next = head_;
        if (head_) head_->posted_prev = b;
        head_ = b;
    }
    void remove(RecvBuffer* b) {
        if (b->posted_prev) b->posted_prev->posted_next = b->posted_next;
        else if (head_ == b) head_ = b->posted_next;
        else return;  // not in the list
        if (b->posted_next) b->posted_next->posted_prev = b->posted_prev;
        b->posted_prev = b->posted_next = nullptr;
    }
    void delete_all() {
        while (RecvBuffer* b = head_) {
            head_ = b->posted_next;
            delete b;
        }
    }

  private:
    RecvBuffer* head_ = nullptr;
};
class RecvBufferPool;
// Gives a leased buffer back to its pool; holds the pool so a lease may outlive the engine.
struct RecvLeaseReturn {
    std::shared_ptr<RecvBufferPool> pool;
    void operator()(RecvBuffer* b) const;
};
// A received message's buffer, held while the request or response that views it lives. One
// owner at a time (a unique_ptr): a shared_ptr with a deleter cost an allocation per message.
using RecvLease = std::unique_ptr<RecvBuffer, RecvLeaseReturn>;

class RecvBufferPool : public std::enable_shared_from_this<RecvBufferPool> {
  public:
    RecvBufferPool(EngineImpl* e, size_t capacity) : engine_(e), capacity_(capacity) {}
    RecvBuffer* take();
    void give_back(RecvBuffer* b);
    RecvLease lease(RecvBuffer* b);
    void detach_engine();  // at finalize: buffers still leased are freed when released

  private:
    std::mutex mutex_;
    EngineImpl* engine_;
    size_t capacity_;
    std::vector<std::unique_ptr<RecvBuffer>> free_;
};

struct PendingCall {
    std::weak_ptr<EngineImpl> engine;
    std::shared_ptr<const std::string> target_raw;  // shared with the target Address
    fi_addr_t dest = FI_ADDR_UNSPEC;
    uint64_t seq = 0;
    uint64_t rpc_id = 0;
    Clock::time_point deadline = Clock::time_point::max();
    bool no_response = false;
    Eventual done;
    std::atomic<bool> waited{false};
    Status status = Status::Success;
    // Response payload: a view into a leased receive buffer, or into `owned`.
    RecvLease lease;
    std::string_view output;
    PooledBuffer owned;
    // Large response still to be pulled by the waiter.
    bool large_response = false;
    uint64_t large_addr = 0, large_key = 0, large_size = 0, large_token = 0;
    // Large request input exposed to the server until the response arrives.
    kinako::na::MemoryRegion input_mr;
    PooledBuffer input_copy;
    bool finished = false;  // the waiter has finished post-processing (large pull)
};

struct IncomingRequest {
    std::weak_ptr<EngineImpl> engine;
    Address source;
    fi_addr_t src_fi = FI_ADDR_UNSPEC;
    uint64_t seq = 0;
    uint64_t rpc_id = 0;
    uint16_t provider_id = 0;
    bool no_response = false;
    std::atomic<bool> responded{false};
    RecvLease lease;
    std::string_view input;
    PooledBuffer owned_input;
    bool large_input = false;
    uint64_t large_addr = 0, large_key = 0, large_size = 0;
    std::shared_ptr<PendingCall> self_call;  // set when the caller is this same engine
};

struct BulkImpl {
    void* base = nullptr;
    size_t size = 0;
    int access = 3;
    uint64_t remote_addr = 0, key = 0;
    std::string owner_raw;
    std::weak_ptr<EngineImpl> engine;
    kinako::na::MemoryRegion mr;  // local bulks only
    bool local = false;
    uint64_t local_address(size_t off) const { return remote_addr + off; }
};

struct RpcEntry {
    std::string name;
    Handler handler;  // empty: declared for calls only
    std::shared_ptr<Pool> pool;
    bool disable_response = false;
};

class EngineImpl : public std::enable_shared_from_this<EngineImpl> {
  public:
    EngineImpl(const std::string& address, Mode mode, const std::string& json_config);
    ~EngineImpl();
    void start();  // after construction, once shared_from_this works

    Address make_address(std::string raw) { return Address(shared_from_this(), std::move(raw)); }
    Address self() { return Address(shared_from_this(), self_shared_); }
    // The transport address of a peer; a peer we cannot reach (e.g. a finalized engine of this
    // process) raises Exception(op, HostUnreach) naming it.
    fi_addr_t resolve_peer(const std::string& raw, const char* op);
    Address lookup(const std::string& s);
    std::string address_string(const std::string& raw) const;
    bool listening() const { return mode_ == Mode::Server; }
    std::string config() const;
    const kinako::margo::EngineConfig& engine_config() const { return cfg_; }

    uint64_t define(const std::string& name, Handler handler, uint16_t provider_id, const std::string& pool);
    void deregister(uint64_t rpc_id, uint16_t provider_id);
    void set_rpc_pool(uint64_t rpc_id, uint16_t provider_id, const std::string& pool);
    std::shared_ptr<Pool> find_pool(const std::string& name);  // "" = rpc pool; null if unknown
    std::shared_ptr<RpcEntry> find_entry(uint64_t rpc_id, uint16_t provider_id) const;
    void disable_response(uint64_t rpc_id, uint16_t provider_id, bool disable);

    std::shared_ptr<PendingCall> start_forward(const Address& target, uint64_t rpc_id, std::string_view input,
                                               uint16_t provider_id, double timeout_ms, bool copy_input);
    // Waits for a call (running the progress loop in the caller when it can) and finishes it.
    void wait_call(const std::shared_ptr<PendingCall>& call);

    void respond(IncomingRequest& req, std::string_view output, Status status);

    Bulk expose(void* data, size_t size, BulkAccess access);
    Bulk deserialize_bulk(std::string_view data);
    std::shared_ptr<AsyncTransfer::State> start_transfer(BulkOp op, const Address& origin, const BulkImpl& remote,
                                                         size_t roff, const BulkImpl& local, size_t loff, size_t size);
    void wait_transfer(AsyncTransfer::State& st);

    void enable_remote_shutdown() { remote_shutdown_ = true; }
    // Whether the peer process still exists; probes at most once a second per peer unless fresh.
    // Probes (three times, 100 ms apart) whether the peer `raw` is gone while `done` is not set.
    bool peer_gone(const std::string& raw, const Eventual& done);
    bool peer_alive_cached(const std::string& raw, bool fresh);
    void add_pool(const std::string& pool_json);
    void remove_pool(const std::string& name);
    void add_xstream(const std::string& xstream_json);
    void remove_xstream(const std::string& name);
    // Provider identities ("yokan", "warabi", ...), answered to peers that check a handle.
    void set_identity(uint16_t provider_id, const std::string& identity);
    std::string identity(uint16_t provider_id) const;
    void push_prefinalize(std::function<void()> cb);
    void push_finalize(std::function<void()> cb);
    void finalize();
    void wait_for_finalize();
    bool finalized() const { return state_.load() == kFinalized; }
    bool running() const { return state_.load() == kRunning; }
    void sleep_ms(double ms);

    void set_log_sink(LogSink sink);
    void set_log_level(LogLevel level) { log_level_ = level; }
    void log(LogLevel level, const std::string& msg);

    // Called by receive completions (progress context).
    void on_receive(RecvBuffer* buf, int err, size_t len);
    kinako::na::Endpoint& endpoint() { return *ep_; }
    const std::string& provider() const { return proto_.provider; }
    bool owns_current_thread() const;

  private:
    enum State { kRunning = 0, kFinalizing = 1, kFinalized = 2 };
    void progress_loop();
    // Caller threads (not fibers) waiting in wait_call/wait_transfer drive progress themselves;
    // the loop stays out of their way for caller_nap() (zero: the loop polls).
    void caller_arrives();
    void caller_leaves(Clock::time_point now);  // `now`: a recent clock reading
    std::chrono::microseconds caller_nap(Clock::time_point now) const;
    void ensure_posted(bool idle);
    // Runs one progress step from any thread that needs progress; false if someone else holds it.
    bool try_progress(int wait_ms);
    void progress_or_yield();
    // A caller thread that could not take the progress lock waits here (see engine_core.cpp).
    void wait_for_driver(Eventual& done, Clock::time_point until);
    // Posts a message. It gives up at `deadline`, or, without one (time_point::max()),
    // `patience` after the transport first answered busy.
    void send_message(fi_addr_t dest, kinako::margo::OutMessage& msg, const std::shared_ptr<PendingCall>& call,
                      const std::string& peer_raw, Clock::time_point deadline,
                      Clock::duration patience = Clock::duration::max());
    // An operation could not be posted yet (-FI_EAGAIN): progress once more, or throw `what`
    // with Timeout past the deadline, HostUnreach when the peer is found gone, Canceled when
    // this engine is finalized. `next_probe` starts as Clock::time_point(): the first call
    // sets it a second ahead.
    void retry_post(const char* what, const std::string& peer_raw, Clock::time_point deadline,
                    Clock::time_point& next_probe);
    void dispatch_request(const MsgHeader& h, RecvBuffer* buf, size_t len);
    void dispatch_response(const MsgHeader& h, RecvBuffer* buf, size_t len);
    void complete_call(const std::shared_ptr<PendingCall>& call, Status status);
    void finish_large_response(PendingCall& call);
    void fetch_large_input(IncomingRequest& req);
    void run_handler(std::shared_ptr<IncomingRequest> req, std::shared_ptr<RpcEntry> entry);
    void cancel_all_pending();
    void finalize_now();
    void expire_large_responses();
    // Pulls `size` bytes from a peer's registered memory into local registered memory.
    void rma(bool read, fi_addr_t peer, const std::string& peer_raw, void* local, void* desc, size_t size,
             uint64_t raddr, uint64_t rkey);
    // Registers memory with the endpoint; throws `what` with Canceled once finalize closed it.
    kinako::na::MemoryRegion register_memory(const char* what, void* data, size_t size, uint64_t access);
    // Wakes a progress loop blocked on the transport, unless the endpoint is closing.
    void wake_progress();

    Mode mode_;
    kinako::margo::Protocol proto_;
    kinako::margo::EngineConfig cfg_;
    std::unique_ptr<kinako::na::Endpoint> ep_;
    // Threads other than the engine's own touch ep_ only through a pass; finalize closes the
    // gate (waiting for those passes) before it destroys ep_.
    kinako::margo::EndpointGate gate_;
    // Our raw address, kept after finalize closes ep_ (self() still answers then).
    std::string self_raw_;
    std::shared_ptr<const std::string> self_shared_;  // the same, as addresses hold it
    size_t eager_payload_max_ = 0;

    mutable std::mutex layout_mutex_;  // pools_, xstreams_ and cfg_ changed at run time
    std::vector<std::shared_ptr<Pool>> pools_;
    std::vector<std::unique_ptr<Xstream>> xstreams_;
    std::shared_ptr<Pool> progress_pool_, rpc_pool_;

    mutable std::mutex registry_mutex_;
    std::atomic<bool> any_response_disabled_{false};  // set once any RPC disables responses
    std::map<std::pair<uint64_t, uint16_t>, std::shared_ptr<RpcEntry>> registry_;
    std::atomic<uint64_t> registry_generation_{0};  // bumped by every change to registry_
    void registry_changed() { registry_generation_.fetch_add(1, std::memory_order_acq_rel); }
    kinako::margo::HandlerCache<RpcEntry> handlers_;  // guarded by progress_mutex_

    std::mutex pending_mutex_;
    std::unordered_map<uint64_t, std::shared_ptr<PendingCall>> pending_;
    std::atomic<uint64_t> next_seq_{1};

    struct LargeResponse {
        PooledBuffer data;             // declared first: goes back to the pool after mr is gone
        kinako::na::MemoryRegion mr;
        Clock::time_point expires;
    };
    std::mutex large_mutex_;
    std::unordered_map<uint64_t, LargeResponse> large_responses_;
    std::atomic<uint64_t> next_token_{1};

    std::shared_ptr<RecvBufferPool> buffers_;
    BufferPoolPtr payload_buffers_ = std::make_shared<margo::BufferPool>();
    std::atomic<int> posted_{0};
    PostedList posted_list_;  // guarded by progress_mutex_
    kinako::margo::SourceCache sources_;  // guarded by progress_mutex_

    std::mutex progress_mutex_;  // whoever holds it polls the completion queue
    std::atomic<int> external_waiters_{0};
    std::atomic<Clock::rep> last_waiter_left_{0};  // when a caller thread last left wait_call/wait_transfer
    std::atomic<bool> loop_polling_{false};      // the progress loop holds progress_mutex_ for a poll
    std::atomic<bool> external_polling_{false};  // a caller thread holds it (try_progress)
    std::atomic<uint64_t> external_polls_{0};    // polls by caller threads so far
    std::atomic<bool> stopping_{false};
    Eventual progress_stopped_;

    std::atomic<int> state_{kRunning};
    std::mutex state_mutex_;
    std::condition_variable state_cv_;
    std::vector<std::function<void()>> prefinalize_cbs_, finalize_cbs_;
    std::atomic<bool> remote_shutdown_{false};
    std::mutex liveness_mutex_;
    std::unordered_map<std::string, std::pair<std::chrono::steady_clock::time_point, bool>> liveness_;
    mutable std::mutex identity_mutex_;
    std::unordered_map<uint16_t, std::string> identities_;

    std::mutex log_mutex_;
    LogSink log_sink_;
    std::atomic<LogLevel> log_level_{LogLevel::Warning};
    bool has_log_level_ = false;

    friend class RecvBufferPool;
    friend struct RecvBuffer;
};

}  // namespace mochi::margo::detail

namespace mochi::margo {
struct AsyncTransfer::State {
    kinako::margo::Eventual done;
    std::atomic<int> remaining{0};
    std::atomic<int> error{0};
    std::weak_ptr<detail::EngineImpl> engine;
    std::atomic<bool> waited{false};
    std::string peer_raw;  // the remote side, probed while waiting (a dead peer never completes)
};
}  // namespace mochi::margo

namespace mochi::margo::detail {
// The exception a failed transfer raises, from its FI_E* code (HostUnreach for a peer gone).
Exception transfer_error(int fi_err);
// What an operation `what` throws once the engine stopped running (Canceled).
Exception finalized_error(const char* what);
// What a post that failed with `ret` (negative, not -FI_EAGAIN) throws as `what`.
Exception post_error(const char* what, int ret);

// An RMA operation (one chunk of a transfer); the last chunk to finish completes the state.
struct RmaOp : kinako::na::Operation {
    std::shared_ptr<AsyncTransfer::State> state;
    void complete(int err, size_t) override {
        if (err) state->error.store(err);
        if (--state->remaining == 0) state->done.set();
        delete this;
    }
};
}  // namespace mochi::margo::detail
