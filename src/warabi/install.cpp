// Installing a target into a target-less provider: the destination side of a migration that
// moves a whole target. The config comes from the source, so the checks here protect this
// host's files: a target is never installed over an existing file unless the config says
// override_if_exists, and never over the source's own file (same host or shared file system).
#include "provider_state.hpp"

#include <sys/stat.h>

#include <filesystem>

namespace mochi::warabi::detail {

namespace {

namespace fs = std::filesystem;

[[noreturn]] void refuse(const std::string& why) { throw Exception(ErrorCode::InvalidArgument, why); }

void check_destination_file(const nlohmann::json& config, std::optional<FileIdentity> source_file) {
    if (!config.is_object() || !config.contains("path") || !config["path"].is_string()) return;
    const std::string path = config["path"].get<std::string>();
    fs::path dir = fs::path(path).parent_path();
    std::error_code ec;
    if (!dir.empty() && !fs::is_directory(dir, ec))
        refuse("cannot place the target's file at \"" + path + "\": directory \"" + dir.string() +
               "\" does not exist on the destination (new_root must be an existing directory there)");
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return;  // a new file: the target creates it
    if (source_file && uint64_t(st.st_dev) == source_file->dev && uint64_t(st.st_ino) == source_file->ino)
        refuse("\"" + path + "\" is the source target's own file: give new_root to place the copy elsewhere");
    bool override_ok = config.value("override_if_exists", false) == true;
    if (!override_ok)
        refuse("file \"" + path + "\" already exists on the destination (give another new_root, or set "
               "\"override_if_exists\": true in merge_config to replace it)");
}

}  // namespace

void ProviderState::install_target(const std::string& type, const nlohmann::json& config,
                                   std::optional<FileIdentity> source_file) {
    {
        std::lock_guard<std::mutex> lock(target_mutex_);
        if (target_)
            refuse("warabi provider " + std::to_string(provider_id) + " already has a \"" + target_->type +
                   "\" target: a target is only installed into a provider without one");
        if (installing_)
            refuse("a target is already being installed into warabi provider " + std::to_string(provider_id));
        installing_ = true;  // the slot stays empty, so requests keep getting NoTarget meanwhile
    }
    // Creating a pmdk pool or a file takes a while: done outside the lock.
    std::shared_ptr<InstalledTarget> made;
    try {
        check_destination_file(config, source_file);
        made = std::make_shared<InstalledTarget>(InstalledTarget{type, TargetRegistry::create(type, config)});
    } catch (...) {
        std::lock_guard<std::mutex> lock(target_mutex_);
        installing_ = false;
        throw;
    }
    std::lock_guard<std::mutex> lock(target_mutex_);
    installing_ = false;
    target_ = std::move(made);
}

}  // namespace mochi::warabi::detail
