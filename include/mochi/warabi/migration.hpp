// Options and result of moving a target's regions to another provider, and the options of
// restoring a snapshot (Provider::restore), which installs a target the same way.
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

// Restoring a snapshot into a provider without a target first installs a target like the
// snapshot's source (type and config are recorded in the snapshot file), placed and adjusted
// exactly as a migration's installed target is: new_root and merge_config mean the same as in
// MigrationOptions. Into a provider that has a target, both must be left empty.
struct RestoreOptions {
    // The directory (on this host) for the installed target's file: new_root + "/" +
    // basename(the source's file). Empty: the source's path as is.
    std::string new_root;
    // A JSON object merged (RFC 7386 merge patch) over the installed target's config.
    nlohmann::json merge_config = nlohmann::json::object();
};

// (region id at the source, region id at the destination), in the source's order.
using MigrationResult = std::vector<std::pair<RegionID, RegionID>>;

}  // namespace mochi::warabi
