// Provider::snapshot and Provider::restore: the database to and from a snapshot file.
#include <mochi/yokan/provider.hpp>

#include "maintenance.hpp"
#include "snapshot.hpp"
#include "snapshot_file.hpp"

namespace mochi::yokan {

void Provider::snapshot(const std::string& dest_path, const std::string& options_json, bool remove_source) {
    auto& p = *impl_;
    detail::MaintenanceGuard guard(p, "snapshot");
    auto opts = detail::parse_options(options_json, "snapshot");
    uint64_t chunk_size = detail::option_size(opts, "chunk_size", detail::kDefaultChunkSize, "snapshot");
    Backend& b = p.open_backend();
    detail::snapshot::FileWriter file(dest_path, b.type());
    detail::snapshot::dump(b, chunk_size, [&](std::string&& chunk, uint64_t records) { file.add(chunk, records); });
    file.commit();
    // Only once the file is safely in place.
    if (remove_source) detail::snapshot::clear(b);
}

void Provider::restore(const std::string& src_path, const std::string& options_json) {
    auto& p = *impl_;
    detail::MaintenanceGuard guard(p, "restore");
    auto opts = detail::parse_options(options_json, "restore");
    bool merge = detail::option_bool(opts, "merge", false, "restore");
    Backend& b = p.open_backend();

    // First pass: every checksum and record of the file, and whether this database can hold
    // what it contains, all before the database is touched.
    detail::snapshot::Needs needs;
    std::string what;
    {
        detail::snapshot::FileReader file(src_path);
        what = "snapshot \"" + file.file() + "\" (of a \"" + file.backend_type() + "\" database)";
        std::string chunk;
        while (file.next(chunk)) detail::snapshot::check_chunk(chunk, needs, what);
        if (needs.records != file.records())
            throw Exception(Status::InvalidArgs, what + ": the end marker counts " + std::to_string(file.records()) +
                                                     " records, the chunks hold " + std::to_string(needs.records));
    }
    detail::snapshot::check_target(b, needs, what);

    // Second pass: apply. The file is verified again as it is read, in case it changed since.
    auto notify = [&p](std::string_view key) { p.watcher.notify(key); };
    try {
        if (!merge) detail::snapshot::clear(b);
        detail::snapshot::FileReader file(src_path);
        std::string chunk;
        while (file.next(chunk)) {
            detail::snapshot::Needs again;
            detail::snapshot::check_chunk(chunk, again, what);
            detail::snapshot::apply_chunk(b, chunk, notify);
        }
    } catch (const Exception& e) {
        throw Exception(e.code(), std::string("restore failed part way, the database is incomplete: ") + e.what());
    }
}

}  // namespace mochi::yokan
