// The provider's internals: its backend, its watcher, and the RPC handlers (one file per
// family: provider_kv.cpp, provider_list.cpp, provider_doc.cpp).
#pragma once

#include <mochi/margo/buffer_pool.hpp>
#include <mochi/margo/engine.hpp>
#include <mochi/yokan/backend.hpp>

#include "watcher.hpp"
#include "wire.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace mochi::yokan::detail {

// When a request's waits must end (its timeout_ms counted from arrival).
struct Deadline {
    explicit Deadline(double timeout_ms)
    : has(timeout_ms > 0),
      at(std::chrono::steady_clock::now() + std::chrono::microseconds(int64_t(timeout_ms * 1000))) {}
    // What is left, in ms, for a wait (0 = unbounded); negative once expired.
    double remaining_ms() const {
        if (!has) return 0;
        auto left = std::chrono::duration<double, std::milli>(at - std::chrono::steady_clock::now()).count();
        return left > 0 ? left : -1;
    }
    bool has;
    std::chrono::steady_clock::time_point at;
};

class ProviderImpl {
  public:
    using Body = Status (ProviderImpl::*)(const wire::RequestHeader&, wire::Reader&, wire::Writer&);

    margo::Engine engine;
    uint16_t provider_id = 0;
    std::string pool;
    std::unique_ptr<Backend> backend;  // null when the config opens no database
    nlohmann::json config;
    KeyWatcher watcher;
    margo::BufferPool responses;  // response buffers, recycled (large ones would fault pages in)
    std::vector<uint64_t> rpc_ids;
    // Set once the database has moved away (migrate with remove_source): every request then
    // gets Migrated, with migrated_to as its message (written before the flag is raised).
    std::atomic<bool> migrated{false};
    std::string migrated_to;
    // Raised while a snapshot, restore or migration runs: they refuse to overlap (Busy).
    std::atomic<bool> maintenance{false};

    void register_rpcs(const std::shared_ptr<ProviderImpl>& self);
    void deregister_rpcs();
    // Decodes the header, runs body, and responds: status (+ message on error) then output.
    void serve(const margo::Request& req, Body body);

    // key/value (provider_kv.cpp)
    Status count(const wire::RequestHeader&, wire::Reader&, wire::Writer&);
    Status put(const wire::RequestHeader&, wire::Reader&, wire::Writer&);
    Status get(const wire::RequestHeader&, wire::Reader&, wire::Writer&);
    Status exists(const wire::RequestHeader&, wire::Reader&, wire::Writer&);
    Status length(const wire::RequestHeader&, wire::Reader&, wire::Writer&);
    Status erase(const wire::RequestHeader&, wire::Reader&, wire::Writer&);
    Status erase_range(const wire::RequestHeader&, wire::Reader&, wire::Writer&);
    // listing (provider_list.cpp)
    Status list_keys(const wire::RequestHeader&, wire::Reader&, wire::Writer&);
    Status list_keyvals(const wire::RequestHeader&, wire::Reader&, wire::Writer&);
    // documents (provider_doc.cpp)
    Status coll_create(const wire::RequestHeader&, wire::Reader&, wire::Writer&);
    Status coll_drop(const wire::RequestHeader&, wire::Reader&, wire::Writer&);
    Status coll_exists(const wire::RequestHeader&, wire::Reader&, wire::Writer&);
    Status coll_last_id(const wire::RequestHeader&, wire::Reader&, wire::Writer&);
    Status coll_size(const wire::RequestHeader&, wire::Reader&, wire::Writer&);
    Status doc_store(const wire::RequestHeader&, wire::Reader&, wire::Writer&);
    Status doc_update(const wire::RequestHeader&, wire::Reader&, wire::Writer&);
    Status doc_load(const wire::RequestHeader&, wire::Reader&, wire::Writer&);
    Status doc_length(const wire::RequestHeader&, wire::Reader&, wire::Writer&);
    Status doc_erase(const wire::RequestHeader&, wire::Reader&, wire::Writer&);
    Status doc_list(const wire::RequestHeader&, wire::Reader&, wire::Writer&);
    // migration (provider_migrate.cpp): applies one chunk sent by a migrating provider
    Status migrate_chunk(const wire::RequestHeader&, wire::Reader&, wire::Writer&);

    // Shared checks: a database is open (and has not migrated) and stores key/value pairs
    // (kv_backend) or documents (doc_backend). Filter modes are the listings' business.
    Backend& open_backend();
    Backend& kv_backend(int32_t mode);
    Backend& doc_backend(int32_t mode);
    // With WAIT: runs `attempt` for key until it reports the key present, parking between
    // attempts until a NOTIFY put of that key. Throws Exception(Timeout) at the deadline.
    template <typename Attempt>
    void wait_for(std::string_view key, const Deadline& deadline, Attempt&& attempt) {
        for (;;) {
            auto ticket = watcher.prepare(key);
            if (attempt()) {
                watcher.cancel(ticket);
                return;
            }
            double left = deadline.remaining_ms();
            if (left < 0) {
                watcher.cancel(ticket);
                throw Exception(Status::Timeout, "timed out waiting for a key");
            }
            auto outcome = watcher.wait(ticket, left);
            if (outcome == KeyWatcher::Outcome::Closed)
                throw Exception(Status::Timeout, "provider destroyed while waiting for a key");
            if (outcome == KeyWatcher::Outcome::TimedOut)
                throw Exception(Status::Timeout, "timed out waiting for a key");
        }
    }
};

// Rejects keys the backends cannot store.
inline void check_keys(KeySpan keys) {
    for (size_t i = 0; i < keys.size(); ++i)
        if (keys[i].empty())
            throw Exception(Status::InvalidArgs, "Invalid argument: key " + std::to_string(i) + " is empty");
}

}  // namespace mochi::yokan::detail
