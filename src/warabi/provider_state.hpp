// What a provider's RPC handlers share: engine, target, transfer manager, effective config.
#pragma once

#include <mochi/warabi/migration.hpp>
#include <mochi/warabi/target.hpp>

#include "remote_target.hpp"
#include "transfer/transfer_manager.hpp"

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace mochi::warabi::detail {

// A target with the type name it was configured under ("pmem" stays "pmem").
struct InstalledTarget {
    std::string type;
    std::unique_ptr<Target> target;
};

struct ProviderState {
    mochi::margo::Engine engine;
    uint16_t provider_id = 0;
    std::string tm_type;
    std::unique_ptr<TransferManager> tm;
    std::vector<uint64_t> rpc_ids;

    // The target, or nullptr when the provider has none. A provider may start without one,
    // get one installed by a migration, and lose it when a migration moves it away, all while
    // handlers run: they take a reference (target()) for the length of one request, so a
    // target that is replaced or removed closes when its last request ends.
    std::shared_ptr<InstalledTarget> current() const;
    // The target, or Exception(NoTarget) "warabi provider <id> has no target".
    std::shared_ptr<Target> target() const;
    void set_target(std::shared_ptr<InstalledTarget> t);
    // Installs a target (install.cpp). Refused when the provider has one, or while another
    // install runs; for file targets, when the file's directory is missing or the file exists
    // (unless the config says override_if_exists) or is the source target's own file.
    // prepare (restore fills the target with it) runs on the new target before requests can
    // see it; when it or the creation fails, the provider stays without a target and a file
    // the install created (or replaced) is removed.
    void install_target(const std::string& type, const nlohmann::json& config, std::optional<FileIdentity> source_file,
                        const std::function<void(Target&)>& prepare = nullptr);
    // Takes the target away (new requests get NoTarget) and returns it.
    std::shared_ptr<InstalledTarget> detach_target();
    // Puts a detached target back, unless another one was installed meanwhile (then false).
    bool reattach_target(std::shared_ptr<InstalledTarget> t);

    nlohmann::json config() const;
    MigrationResult migrate(const std::string& dest_address, uint16_t dest_provider_id, const MigrationOptions& options);
    // snapshot.cpp: every live region to <dir>/warabi.snapshot, and back (installing a target
    // like the snapshot's source when the provider has none).
    void snapshot(const std::string& dest_dir, bool remove_source);
    MigrationResult restore(const std::string& src_dir, const RestoreOptions& options);

  private:
    mutable std::mutex target_mutex_;  // guards the two below; held only to swap pointers
    std::shared_ptr<InstalledTarget> target_;
    bool installing_ = false;
};

// install.cpp, shared by migration and restore:
// The "path" of a file target's config, "" for targets without a file.
std::string target_file(const nlohmann::json& config);
// The file's identity, nullopt when there is no such file.
std::optional<FileIdentity> file_identity(const std::string& path);
// Throws Exception(InvalidArgument) unless merge_config is null or a JSON object.
void check_merge_config(const nlohmann::json& merge_config);
// True when new_root or merge_config asks for something: they only apply to an install.
bool asks_for_install(const std::string& new_root, const nlohmann::json& merge_config);
// The config of a target to install: base (a source's blank_config()) with its file moved
// into new_root (targets without a file ignore new_root), merge_config merged over it.
nlohmann::json install_config(nlohmann::json base, const std::string& new_root, const nlohmann::json& merge_config);

// Throws Exception(OutOfRange) naming the operation when the range exceeds the region.
void check_range(Target& target, const char* op, const RegionID& id, size_t offset, size_t size);

// Defines the provider's RPCs on its engine (handlers.cpp).
void register_handlers(const std::shared_ptr<ProviderState>& state, const std::string& pool);

}  // namespace mochi::warabi::detail
