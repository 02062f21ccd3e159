// A Warabi provider: one target (memory, pmdk/pmem, abtio) served under a provider id.
//
//   mochi::margo::Engine engine("na+sm", mochi::margo::Mode::Server);
//   mochi::warabi::Provider provider(engine, 42, R"({"target":{"type":"memory"}})");
//
// Config: {"target": {"type": str, "config": {...}},
//          "transfer_manager": {"type": "__default__"|"pipeline", "config": {...}}}
// "target" may be left out ({} is a valid config): the provider then answers every data
// request with Exception(NoTarget) until a migration or a restore installs a target into it.
#pragma once

#include <mochi/margo/engine.hpp>
#include <mochi/warabi/common.hpp>
#include <mochi/warabi/migration.hpp>

#include <memory>
#include <string>

namespace mochi::warabi {

class Target;
namespace detail { struct ProviderState; }

class Provider {
  public:
    // Throws Exception(InvalidConfig) with a message naming the bad key and value.
    // pool: the engine pool running the handlers ("" = the engine's rpc pool).
    Provider(const mochi::margo::Engine& engine, uint16_t provider_id, const std::string& json_config,
             const std::string& pool = "");
    ~Provider();
    Provider(const Provider&) = delete;
    Provider& operator=(const Provider&) = delete;

    uint16_t provider_id() const;
    // {"target":{"type","config"},"transfer_manager":{"type","config"}} as a JSON string;
    // no "target" key while the provider has none.
    std::string get_config() const;
    // Throws Exception(NoTarget) when the provider has none. The reference stays valid until a
    // migration with remove_source moves the target away.
    Target& target();
    // Moves the handlers to another engine pool ("" = the engine's rpc pool). Throws
    // Exception(InvalidArgument) naming the pool when the engine has none of that name.
    void change_pool(const std::string& pool);
    // Copies (or moves, with remove_source) every region to the provider at
    // (dest_address, dest_provider_id), over RPC. Returns (old id, new id) pairs. A destination
    // without a target first gets one like this provider's installed (see migration.hpp);
    // moving into it with remove_source leaves this provider without a target.
    MigrationResult migrate(const std::string& dest_address, uint16_t dest_provider_id,
                            const MigrationOptions& options = {});
    // Writes every live region to <dest_dir>/warabi.snapshot (the directory is created; the file
    // is synced and renamed into place). remove_source: the regions are erased afterwards.
    void snapshot(const std::string& dest_dir, bool remove_source = false);
    // Adds the regions of <src_dir>/warabi.snapshot to the target. Memory targets keep each
    // region's id when it is free; other targets (and taken ids) get new ids. Returns
    // (id in the snapshot, id now). The whole file is checked first: a damaged or truncated
    // file raises Exception(InvalidArgument) and changes nothing.
    // A provider without a target first gets one like the snapshot's source, placed by
    // options.new_root / options.merge_config as a migration would (see migration.hpp); the
    // target appears only once every region is in it, and a failed restore leaves the
    // provider without a target and removes the file it created.
    MigrationResult restore(const std::string& src_dir, const RestoreOptions& options = {});
    explicit operator bool() const { return static_cast<bool>(state_); }

  private:
    std::shared_ptr<detail::ProviderState> state_;
};

}  // namespace mochi::warabi
