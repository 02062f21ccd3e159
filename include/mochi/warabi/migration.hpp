// Options and result of moving a target's regions to another provider.
#pragma once

#include <mochi/warabi/common.hpp>

#include <cstddef>
#include <utility>
#include <vector>

namespace mochi::warabi {

struct MigrationOptions {
    bool remove_source = true;              // erase each region once its copy is persisted
    size_t transfer_size = size_t(16) << 20;  // bytes moved per RPC for large regions
};

// (region id at the source, region id at the destination), in the source's order.
using MigrationResult = std::vector<std::pair<RegionID, RegionID>>;

}  // namespace mochi::warabi
