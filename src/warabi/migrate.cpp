// Migration over RPC, the source side. The source provider copies each region to the
// destination provider (create_and_write for small regions, create + chunked writes for large
// ones), persists the copy, then erases the source region when asked to. Byte-addressable
// sources are exposed directly (the destination pulls from the target's memory); file sources
// are read chunk by chunk into a buffer first.
//
// A destination without a target first gets one installed (install.cpp): the whole target
// moves, REMI-style. With remove_source the source then ends target-less and deletes its file:
// every region in it has been erased after its copy was persisted, so the file holds nothing
// (a pmdk pool would otherwise keep its whole size on disk), and a restart from the old config
// should fail loudly rather than come back with an empty target that looks like data loss.
#include <mochi/warabi/client.hpp>

#include "provider_state.hpp"
#include "remote_target.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <optional>

namespace mochi::warabi::detail {

namespace {

using json = nlohmann::json;

void copy_regions(Target& target, const std::vector<RegionInfo>& regions, const TargetHandle& dest,
                  const MigrationOptions& options, MigrationResult& result) {
    std::vector<char> buffer;
    std::shared_ptr<char> pin;  // keeps mapped target memory alive while the destination pulls it
    for (const RegionInfo& r : regions) {
        const size_t size = r.size;
        auto chunk_of = [&](size_t off, size_t n) -> const char* {
            if ((pin = target.map(r.id, off, n))) return pin.get();
            if (buffer.size() < n) buffer.resize(n);
            target.read(r.id, off, buffer.data(), n);
            return buffer.data();
        };
        RegionID copy;
        if (size <= options.transfer_size) {
            copy = dest.create_and_write(chunk_of(0, size), size, /*persist=*/true);
        } else {
            copy = dest.create(size);
            for (size_t off = 0; off < size; off += options.transfer_size) {
                size_t n = std::min(options.transfer_size, size - off);
                dest.write(copy, off, chunk_of(off, n), n);
            }
            dest.persist(copy, 0, size);
        }
        pin.reset();
        result.emplace_back(r.id, copy);
        if (options.remove_source) target.erase(r.id);
    }
}

}  // namespace

MigrationResult ProviderState::migrate(const std::string& dest_address, uint16_t dest_provider_id,
                                       const MigrationOptions& options) {
    if (options.transfer_size == 0) throw Exception(ErrorCode::InvalidArgument, "transfer_size must be at least 1");
    check_merge_config(options.merge_config);
    std::shared_ptr<InstalledTarget> source = current();
    if (!source) target();  // throws NoTarget, naming this provider
    Client client(engine);
    TargetHandle dest = client.make_target_handle(dest_address, dest_provider_id);
    if (dest_provider_id == provider_id && engine.lookup(dest_address) == engine.self())
        throw Exception(ErrorCode::InvalidArgument, "cannot migrate a target onto itself");
    const std::string there = "warabi provider " + std::to_string(dest_provider_id) + " at " + dest_address;

    std::optional<std::string> dest_type = detail::remote_target_type(dest);
    const bool install = !dest_type;
    if (install) {
        json config = install_config(source->target->blank_config(), options.new_root, options.merge_config);
        try {
            remote_install_target(dest, source->type, config, file_identity(target_file(source->target->config())));
        } catch (const Exception& e) {
            throw Exception(e.code(), "cannot install a \"" + source->type + "\" target into " + there + ": " + e.what());
        }
    } else if (asks_for_install(options.new_root, options.merge_config)) {
        // Those options describe a target to install: ignoring them would look like they applied.
        throw Exception(ErrorCode::InvalidArgument,
                        there + " already has a \"" + *dest_type +
                            "\" target: new_root and merge_config only apply when the migration installs the "
                            "target into a provider without one (an existing target is never replaced)");
    }

    MigrationResult result;
    copy_regions(*source->target, source->target->list(), dest, options, result);
    if (!install || !options.remove_source) return result;

    // The target moved: take it away from this provider (new requests get NoTarget), wait for
    // requests that took it before (bounded), move what they created, then delete its file.
    std::shared_ptr<InstalledTarget> taken = detach_target();
    if (taken != source) {  // a concurrent migration moved or replaced it: leave that one alone
        if (taken && !reattach_target(taken))
            engine.log(mochi::margo::LogLevel::Error, "warabi provider " + std::to_string(provider_id) +
                                                          ": lost a target replaced during a migration");
        return result;
    }
    taken.reset();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (source.use_count() > 1 && std::chrono::steady_clock::now() < deadline) engine.sleep(1);
    try {
        copy_regions(*source->target, source->target->list(), dest, options, result);
    } catch (...) {
        // The source keeps what did not move.
        if (!reattach_target(source))
            engine.log(mochi::margo::LogLevel::Error, "warabi provider " + std::to_string(provider_id) +
                                                          ": could not take back its target after a failed migration");
        throw;
    }
    std::string path = target_file(source->target->config());
    // Unlinked while still open: the target closes when its last reference goes.
    if (!path.empty() && ::unlink(path.c_str()) != 0)
        engine.log(mochi::margo::LogLevel::Warning, "warabi provider " + std::to_string(provider_id) +
                                                        ": migrated away but cannot remove \"" + path +
                                                        "\": " + std::strerror(errno));
    return result;
}

}  // namespace mochi::warabi::detail
