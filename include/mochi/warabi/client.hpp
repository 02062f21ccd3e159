// Warabi client: a Client per engine, a TargetHandle per (address, provider id).
//
//   mochi::warabi::Client client(engine);
//   auto target = client.make_target_handle("na+sm://1234-0", 42);
//   auto region = target.create_and_write(data, size, /*persist=*/true);
//   target.read(region, 0, out, size);
//
// Buffers passed to the *_async forms must stay valid until wait() returns.
#pragma once

#include <mochi/margo/engine.hpp>
#include <mochi/warabi/common.hpp>
#include <mochi/warabi/migration.hpp>

#include <memory>
#include <string>

namespace mochi::warabi {

namespace detail {
struct AsyncState;
struct HandleState;
struct HandleAccess;  // the provider's migration code sends kinako's admin RPCs through handles
}  // namespace detail

// An operation in flight. wait() throws Exception on failure; a second wait() returns at once
// (rethrowing the same error).
class AsyncRequest {
  public:
    AsyncRequest() = default;
    void wait() const;
    bool completed() const;
    explicit operator bool() const { return static_cast<bool>(state_); }

  protected:
    friend class TargetHandle;
    explicit AsyncRequest(std::shared_ptr<detail::AsyncState> s) : state_(std::move(s)) {}
    std::shared_ptr<detail::AsyncState> state_;
};

// A create (or create-and-write) in flight: wait() returns the new region's id.
class AsyncCreateRequest : public AsyncRequest {
  public:
    AsyncCreateRequest() = default;
    RegionID wait() const;

  private:
    friend class TargetHandle;
    using AsyncRequest::AsyncRequest;
};

class TargetHandle {
  public:
    static constexpr size_t kDefaultEagerThreshold = 2048;

    TargetHandle() = default;
    explicit operator bool() const { return static_cast<bool>(state_); }
    std::string address() const;
    uint16_t provider_id() const;

    RegionID create(size_t size) const;
    AsyncCreateRequest create_async(size_t size) const;
    void write(const RegionID& region, size_t offset, const char* data, size_t size, bool persist = false) const;
    AsyncRequest write_async(const RegionID& region, size_t offset, const char* data, size_t size,
                             bool persist = false) const;
    void read(const RegionID& region, size_t offset, char* data, size_t size) const;
    AsyncRequest read_async(const RegionID& region, size_t offset, char* data, size_t size) const;
    void persist(const RegionID& region, size_t offset, size_t size) const;
    AsyncRequest persist_async(const RegionID& region, size_t offset, size_t size) const;
    void erase(const RegionID& region) const;
    AsyncRequest erase_async(const RegionID& region) const;
    RegionID create_and_write(const char* data, size_t size, bool persist = false) const;
    AsyncCreateRequest create_and_write_async(const char* data, size_t size, bool persist = false) const;

    // Transfers up to this size travel inside the RPC instead of by RDMA (default 2048).
    void set_eager_write_threshold(size_t size);
    void set_eager_read_threshold(size_t size);
    size_t eager_write_threshold() const;
    size_t eager_read_threshold() const;

    // Asks the provider to copy (or move) all its regions to (dest_address, dest_provider_id).
    MigrationResult migrate(const std::string& dest_address, uint16_t dest_provider_id,
                            const MigrationOptions& options = {}) const;

  private:
    friend class Client;
    friend struct detail::HandleAccess;
    explicit TargetHandle(std::shared_ptr<detail::HandleState> s) : state_(std::move(s)) {}
    std::shared_ptr<detail::HandleState> state_;
};

class Client {
  public:
    Client() = default;
    explicit Client(const mochi::margo::Engine& engine);
    const mochi::margo::Engine& engine() const { return engine_; }
    // check: ask the peer that a warabi provider has this id (one RPC); throws
    // Exception(NoProvider) otherwise.
    TargetHandle make_target_handle(const std::string& address, uint16_t provider_id, bool check = true) const;
    TargetHandle make_target_handle(const mochi::margo::Address& address, uint16_t provider_id,
                                    bool check = true) const;
    std::string get_config() const;  // JSON: {}
    explicit operator bool() const { return static_cast<bool>(engine_); }

  private:
    mochi::margo::Engine engine_;
};

}  // namespace mochi::warabi
