// Yokan provider: one database (a Backend) served under a provider id on an engine.
// The JSON config is Yokan's: {"database": {"type": "map", "config": {...}}, ...}.
//
//   mochi::yokan::Provider provider(engine, 42, R"({"database":{"type":"map"}})");
#pragma once

#include <mochi/margo/engine.hpp>
#include <mochi/yokan/common.hpp>

#include <memory>
#include <string>

namespace mochi::yokan {

namespace detail {
class ProviderImpl;
}

class Provider {
  public:
    // Throws Exception: InvalidConfig ("missing configuration string", bad JSON, bad key),
    // InvalidBackend (unknown type), InvalidProvider (provider id already used on that engine).
    // pool: the engine pool the handlers run in ("" = the engine's rpc pool).
    Provider(const margo::Engine& engine, uint16_t provider_id, const std::string& config,
             const std::string& pool = "");
    ~Provider();  // deregisters the RPCs; parked WAIT requests get Timeout
    Provider(Provider&&) noexcept;
    Provider& operator=(Provider&&) noexcept;

    uint16_t provider_id() const;
    std::string config() const;  // effective JSON, backend defaults filled in
    // Moves the handlers to another engine pool ("" = the engine's rpc pool). Throws
    // Exception(InvalidArgs) naming the pool when the engine has none; nothing moves then.
    void change_pool(const std::string& pool);

    // Snapshot, restore and migration (Yokan's yk_provider_{snapshot,restore,migrate}_database).
    // They throw Exception; one of them at a time per provider (Busy otherwise). They are not
    // point-in-time: writes made while they run may or may not be included. The file format is
    // described in docs/yokan.md.
    //
    // Writes every pair (and every collection with its documents) to dest_path/yokan.snapshot;
    // dest_path is a directory, created if missing. options_json: "{}" or {"chunk_size": bytes}
    // (default 4 MiB). remove_source: afterwards the database is emptied.
    void snapshot(const std::string& dest_path, const std::string& options_json = "{}",
                  bool remove_source = false);
    // Loads a snapshot written by snapshot() (src_path: its directory, or the file itself) into
    // this provider's database. The whole file is verified first: a missing, truncated, corrupted
    // or foreign file throws InvalidArgs naming the path and leaves the database as it was. By
    // default the database is cleared first; {"merge": true} keeps existing pairs (snapshot pairs
    // overwrite equal keys, snapshot documents equal ids).
    void restore(const std::string& src_path, const std::string& options_json = "{}");
    // Copies the whole database into the yokan provider (dest_address, dest_provider_id), whose
    // "yokan" identity is checked first (InvalidProvider otherwise), in chunks of about
    // {"transfer_size": bytes} (default 4 MiB; {"timeout_ms": ms} bounds each chunk's RPC, default
    // none). The destination keeps what it had (copied pairs overwrite equal keys). Then, when
    // remove_source, this database is destroyed (its files removed) and every later request to
    // this provider gets Migrated (YOKAN_ERR_MIGRATED) with a message naming the destination.
    void migrate(const std::string& dest_address, uint16_t dest_provider_id, const std::string& options_json = "{}",
                 bool remove_source = true);

  private:
    std::shared_ptr<detail::ProviderImpl> impl_;
};

}  // namespace mochi::yokan
