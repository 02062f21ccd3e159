// Installing a target into a target-less provider: the destination side of a migration that
// moves a whole target, and a restore of a snapshot into a provider without a target. The
// config comes from the source (over RPC, or recorded in the snapshot), so the checks here
// protect this host's files: a target is never installed over an existing file unless the
// config says override_if_exists, and never over the source's own file (same host or shared
// file system).
#include "provider_state.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

namespace mochi::warabi::detail {

namespace {

namespace fs = std::filesystem;

[[noreturn]] void refuse(const std::string& why) { throw Exception(ErrorCode::InvalidArgument, why); }

void check_destination_file(const nlohmann::json& config, std::optional<FileIdentity> source_file) {
    const std::string path = target_file(config);
    if (path.empty()) return;
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

bool file_exists(const std::string& path) {
    struct stat st;
    return !path.empty() && ::lstat(path.c_str(), &st) == 0;
}

}  // namespace

std::string target_file(const nlohmann::json& config) {
    return config.is_object() && config.contains("path") && config["path"].is_string() ? config["path"].get<std::string>()
                                                                                      : std::string();
}

std::optional<FileIdentity> file_identity(const std::string& path) {
    struct stat st;
    if (path.empty() || ::stat(path.c_str(), &st) != 0) return std::nullopt;
    return FileIdentity{uint64_t(st.st_dev), uint64_t(st.st_ino)};
}

void check_merge_config(const nlohmann::json& merge_config) {
    if (!merge_config.is_null() && !merge_config.is_object())
        refuse("merge_config must be a JSON object, got " + merge_config.dump());
}

bool asks_for_install(const std::string& new_root, const nlohmann::json& merge_config) {
    return !new_root.empty() || (merge_config.is_object() && !merge_config.empty());
}

nlohmann::json install_config(nlohmann::json base, const std::string& new_root, const nlohmann::json& merge_config) {
    std::string path = target_file(base);
    if (!path.empty() && !new_root.empty()) base["path"] = (fs::path(new_root) / fs::path(path).filename()).string();
    if (merge_config.is_object()) base.merge_patch(merge_config);
    return base;
}

void ProviderState::install_target(const std::string& type, const nlohmann::json& config,
                                   std::optional<FileIdentity> source_file,
                                   const std::function<void(Target&)>& prepare) {
    {
        std::lock_guard<std::mutex> lock(target_mutex_);
        if (target_)
            refuse("warabi provider " + std::to_string(provider_id) + " already has a \"" + target_->type +
                   "\" target: a target is only installed into a provider without one");
        if (installing_)
            refuse("a target is already being installed into warabi provider " + std::to_string(provider_id));
        installing_ = true;  // the slot stays empty, so requests keep getting NoTarget meanwhile
    }
    // Creating a pmdk pool or a file, and filling the target, take a while: done outside the lock.
    std::shared_ptr<InstalledTarget> made;
    const std::string file = target_file(config);
    const bool existed = file_exists(file);
    try {
        check_destination_file(config, source_file);
        made = std::make_shared<InstalledTarget>(InstalledTarget{type, TargetRegistry::create(type, config)});
        if (prepare) prepare(*made->target);
    } catch (...) {
        // The file is this install's when it was not there before, or when the target opened
        // (it then replaced the file, override_if_exists): a failed install leaves none behind.
        const bool ours = made || !existed;
        made.reset();  // closes the target before its file goes
        if (ours && !file.empty()) ::unlink(file.c_str());
        std::lock_guard<std::mutex> lock(target_mutex_);
        installing_ = false;
        throw;
    }
    std::lock_guard<std::mutex> lock(target_mutex_);
    installing_ = false;
    target_ = std::move(made);
}

}  // namespace mochi::warabi::detail
