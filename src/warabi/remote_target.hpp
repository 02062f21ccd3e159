// kinako's admin RPCs that a migration's source sends to the destination provider: which
// target it has, and installing one when it has none (client.cpp sends, handlers.cpp serves).
#pragma once

#include <mochi/warabi/client.hpp>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace mochi::warabi::detail {

// The file a migration's source target lives in (stat's st_dev, st_ino): the destination
// refuses to install a target over that very file (same host, or a shared file system).
struct FileIdentity {
    uint64_t dev = 0, ino = 0;
};

// The type of the target at the handle's provider, or nullopt when it has none.
std::optional<std::string> remote_target_type(const TargetHandle& dest);

// Installs a target of this type and config at the handle's provider; throws the
// destination's error (NoTarget never: InvalidArgument when it already has one, ...).
void remote_install_target(const TargetHandle& dest, const std::string& type, const nlohmann::json& config,
                           std::optional<FileIdentity> source_file);

}  // namespace mochi::warabi::detail
