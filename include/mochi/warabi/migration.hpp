// Options and result of moving a target's regions to another provider.
//
// Two cases, decided by the destination:
// - it has a target: the regions are copied into it (new_root and merge_config are refused,
//   since nothing is installed there);
// - it has none (started with config {} or only a transfer_manager): the source first installs
//   a target of its own type there, then copies the regions. The installed target's config is
//   the source's, with its file (abtio, pmdk) placed as new_root + "/" + basename(source file),
//   and merge_config merged over the result. With remove_source the source provider is left
//   without a target and its file is deleted (the regions it held have all moved).
#pragma once

#include <mochi/warabi/common.hpp>
#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace mochi::warabi {

struct MigrationOptions {
    bool remove_source = true;              // erase each region once its copy is persisted
    size_t transfer_size = size_t(16) << 20;  // bytes moved per RPC for large regions
    // Installing only: the directory (on the destination's host) for the target's file. Empty:
    // the source's path as is, which fails when that file exists there (same host, shared FS).
    std::string new_root;
    // Installing only: a JSON object merged (RFC 7386 merge patch) over the installed target's
    // config, e.g. {"sync": true} or {"override_if_exists": true}. Null or {}: nothing.
    nlohmann::json merge_config = nlohmann::json::object();
};

// (region id at the source, region id at the destination), in the source's order.
using MigrationResult = std::vector<std::pair<RegionID, RegionID>>;

}  // namespace mochi::warabi
