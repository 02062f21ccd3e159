// kinako's RPC engine (the Margo/Thallium role): addresses, RPC registration by
// (name, provider_id), forward/respond with timeouts, bulk transfers, pools and xstreams.
//
//   auto engine = mochi::margo::Engine("na+sm", mochi::margo::Mode::Server);
//   engine.define("echo", [](const mochi::margo::Request& req) { req.respond(req.input()); });
//   auto out = engine.forward(engine.lookup(addr), "echo", "hello");
#pragma once

#include <mochi/margo/error.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace mochi::margo {

namespace detail {
class EngineImpl;
struct IncomingRequest;
struct PendingCall;
struct BulkImpl;
}  // namespace detail

enum class Mode : int { Client = 0, Server = 1 };
enum class BulkAccess : int { ReadOnly = 1, WriteOnly = 2, ReadWrite = 3 };
enum class BulkOp : int { Push = 0, Pull = 1 };

// Stable identifier of an RPC name (a 64-bit hash), the same in every process.
uint64_t rpc_id_of(std::string_view name);

class Address {
  public:
    Address() = default;
    const std::string& raw() const { return raw_ ? *raw_ : empty_raw(); }  // transport address bytes
    std::string to_string() const;
    bool is_null() const { return !engine_; }
    bool operator==(const Address& other) const { return raw_ == other.raw_ || raw() == other.raw(); }
    bool operator!=(const Address& other) const { return !(*this == other); }
    // Asks the peer to finalize itself (it must have enabled remote shutdown).
    void shutdown() const;

  private:
    friend class detail::EngineImpl;
    friend class Engine;
    Address(std::shared_ptr<detail::EngineImpl> e, std::string raw)
    : engine_(std::move(e)), raw_(std::make_shared<const std::string>(std::move(raw))) {}
    Address(std::shared_ptr<detail::EngineImpl> e, std::shared_ptr<const std::string> raw)
    : engine_(std::move(e)), raw_(std::move(raw)) {}
    static const std::string& empty_raw();
    std::shared_ptr<detail::EngineImpl> engine_;
    // Shared and immutable: copying an address (every request carries its source) costs a
    // reference count, not a string allocation.
    std::shared_ptr<const std::string> raw_;
};

// Exposed memory: a registered buffer plus what a peer needs to reach it. Serializable.
class Bulk {
  public:
    Bulk() = default;
    size_t size() const;
    bool is_null() const { return !impl_; }
    std::string serialize() const;
    // The address of the process owning the memory.
    Address owner() const;

  private:
    friend class detail::EngineImpl;
    friend class Engine;
    explicit Bulk(std::shared_ptr<detail::BulkImpl> impl) : impl_(std::move(impl)) {}
    std::shared_ptr<detail::BulkImpl> impl_;
};

// A request received by a handler. Copies share the same request; respond once.
class Request {
  public:
    Request() = default;
    std::string_view input() const;
    const Address& source() const;
    uint64_t rpc_id() const;
    uint16_t provider_id() const;
    bool response_disabled() const;
    // Sends the response (no-op when responses are disabled). Throws on a second call.
    void respond(std::string_view output) const;
    void respond_error(Status status) const;

  private:
    friend class detail::EngineImpl;
    explicit Request(std::shared_ptr<detail::IncomingRequest> r) : impl_(std::move(r)) {}
    std::shared_ptr<detail::IncomingRequest> impl_;
};

// The result of a forward: owns the response bytes (zero-copy view into the received message).
class Response {
  public:
    Response() = default;
    std::string_view output() const;
    Status status() const;

  private:
    friend class detail::EngineImpl;
    friend class AsyncResponse;
    friend class Engine;
    explicit Response(std::shared_ptr<detail::PendingCall> p) : impl_(std::move(p)) {}
    std::shared_ptr<detail::PendingCall> impl_;
};

// A forward in flight. wait() returns the response or throws (Timeout, peer gone, ...).
class AsyncResponse {
  public:
    AsyncResponse() = default;
    Response wait() const;
    bool test() const;

  private:
    friend class detail::EngineImpl;
    friend class Engine;
    explicit AsyncResponse(std::shared_ptr<detail::PendingCall> p) : impl_(std::move(p)) {}
    std::shared_ptr<detail::PendingCall> impl_;
};

// A bulk transfer in flight.
class AsyncTransfer {
  public:
    AsyncTransfer() = default;
    void wait() const;
    bool test() const;

    struct State;  // internal

  private:
    friend class detail::EngineImpl;
    friend class Engine;
    explicit AsyncTransfer(std::shared_ptr<State> s) : state_(std::move(s)) {}
    std::shared_ptr<State> state_;
};

using Handler = std::function<void(const Request&)>;
enum class LogLevel : int { External = 0, Trace = 1, Debug = 2, Info = 3, Warning = 4, Error = 5, Critical = 6 };
using LogSink = std::function<void(LogLevel, const std::string&)>;

class Engine {
  public:
    Engine() = default;
    // address: a protocol ("na+sm", "tcp", "ofi+tcp;ofi_rxm", ...) or a full address
    // ("ofi+tcp://127.0.0.1:1234"). config: Margo JSON (may be empty). Throws Exception
    // (or std::invalid_argument for a bad config) when the engine cannot start.
    Engine(const std::string& address, Mode mode, const std::string& json_config = "");
    static Engine from_impl(std::shared_ptr<detail::EngineImpl> impl) { Engine e; e.impl_ = std::move(impl); return e; }
    const std::shared_ptr<detail::EngineImpl>& impl() const { return impl_; }
    explicit operator bool() const { return static_cast<bool>(impl_); }

    Address self() const;
    Address lookup(const std::string& address) const;
    bool listening() const;
    std::string config() const;  // effective JSON

    // Registers a handler under (name, provider_id); pool "" means the engine's rpc_pool.
    uint64_t define(const std::string& name, Handler handler, uint16_t provider_id = 0,
                    const std::string& pool = "");
    // Registers the name for calls only (client side).
    uint64_t declare(const std::string& name, uint16_t provider_id = 0);
    void deregister(uint64_t rpc_id, uint16_t provider_id = 0);
    // Moves a registered RPC's handler to another pool ("" = the engine's rpc pool); requests
    // already queued finish where they are. Throws Exception(InvalidArg) for an unknown pool
    // or an RPC that is not registered (Margo's margo_rpc_set_pool).
    void set_rpc_pool(uint64_t rpc_id, uint16_t provider_id, const std::string& pool) const;
    // The name of the pool an RPC's handler runs in.
    std::string rpc_pool(uint64_t rpc_id, uint16_t provider_id = 0) const;
    bool is_registered(uint64_t rpc_id, uint16_t provider_id = 0) const;
    void disable_response(uint64_t rpc_id, uint16_t provider_id, bool disable);
    bool response_disabled(uint64_t rpc_id, uint16_t provider_id) const;

    // timeout_ms <= 0 means no timeout.
    Response forward(const Address& target, uint64_t rpc_id, std::string_view input,
                     uint16_t provider_id = 0, double timeout_ms = 0) const;
    Response forward(const Address& target, const std::string& name, std::string_view input,
                     uint16_t provider_id = 0, double timeout_ms = 0) const {
        return forward(target, rpc_id_of(name), input, provider_id, timeout_ms);
    }
    // The input must stay alive until the response arrives.
    AsyncResponse iforward(const Address& target, uint64_t rpc_id, std::string_view input,
                           uint16_t provider_id = 0, double timeout_ms = 0) const;

    Bulk expose(void* data, size_t size, BulkAccess access) const;
    Bulk deserialize_bulk(std::string_view data) const;
    // Pull: remote (origin) -> local. Push: local -> remote.
    void transfer(BulkOp op, const Address& origin, const Bulk& remote, size_t remote_offset,
                  const Bulk& local, size_t local_offset, size_t size) const;
    AsyncTransfer itransfer(BulkOp op, const Address& origin, const Bulk& remote, size_t remote_offset,
                            const Bulk& local, size_t local_offset, size_t size) const;

    // Provider identities (Margo's margo_provider_register_identity): a provider declares its
    // type under its id; clients check it before trusting a handle. "" removes it.
    void register_identity(uint16_t provider_id, const std::string& identity) const;
    // The identity of (target, provider_id), or "" when that provider id has none.
    // Throws Exception when the target cannot be reached.
    std::string provider_identity(const Address& target, uint16_t provider_id, double timeout_ms = 0) const;

    // Run-time pools and xstreams (used by bedrock). JSON as one entry of argobots.pools /
    // argobots.xstreams; config() reflects the change. Throw std::invalid_argument naming the
    // bad key, or when removing something still in use (progress/rpc pool, a pool an RPC or an
    // xstream uses, __primary__, the last xstream of such a pool, the caller's own xstream).
    void add_pool(const std::string& pool_json) const;
    void remove_pool(const std::string& name) const;
    void add_xstream(const std::string& xstream_json) const;
    void remove_xstream(const std::string& name) const;

    void enable_remote_shutdown() const;
    void push_prefinalize_callback(std::function<void()> cb) const;
    void push_finalize_callback(std::function<void()> cb) const;
    void finalize() const;
    void wait_for_finalize() const;
    bool finalized() const;
    // Sleeps without holding an engine thread (fiber-aware).
    void sleep(double ms) const;

    void set_log_sink(LogSink sink) const;
    void set_log_level(LogLevel level) const;
    void log(LogLevel level, const std::string& msg) const;

  private:
    std::shared_ptr<detail::EngineImpl> impl_;
};

// Process-wide logger used when an engine has none.
void set_global_log_sink(LogSink sink);
void set_global_log_level(LogLevel level);
void log_global(LogLevel level, const std::string& msg);

}  // namespace mochi::margo
