// What a provider's RPC handlers share: engine, target, transfer manager, effective config.
#pragma once

#include <mochi/warabi/migration.hpp>
#include <mochi/warabi/target.hpp>

#include "transfer/transfer_manager.hpp"

#include <memory>
#include <vector>

namespace mochi::warabi::detail {

struct ProviderState {
    mochi::margo::Engine engine;
    uint16_t provider_id = 0;
    std::string target_type;  // as configured ("pmem" stays "pmem")
    std::unique_ptr<Target> target;
    std::string tm_type;
    std::unique_ptr<TransferManager> tm;
    std::vector<uint64_t> rpc_ids;

    nlohmann::json config() const;
    // Throws Exception(OutOfRange) naming the operation when the range exceeds the region.
    void check_range(const char* op, const RegionID& id, size_t offset, size_t size) const;
    MigrationResult migrate(const std::string& dest_address, uint16_t dest_provider_id, const MigrationOptions& options);
    // snapshot.cpp: every live region to <dir>/warabi.snapshot, and back.
    void snapshot(const std::string& dest_dir, bool remove_source);
    MigrationResult restore(const std::string& src_dir);
};

// Defines the provider's RPCs on its engine (handlers.cpp).
void register_handlers(const std::shared_ptr<ProviderState>& state, const std::string& pool);

}  // namespace mochi::warabi::detail
