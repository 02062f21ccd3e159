// Migration over RPC: the source provider copies each region to the destination provider
// (create_and_write for small regions, create + chunked writes for large ones), persists the
// copy, then erases the source region when asked to. Byte-addressable sources are exposed
// directly (the destination pulls from the target's memory); file sources are read chunk by
// chunk into a buffer first.
#include <mochi/warabi/client.hpp>

#include "provider_state.hpp"

namespace mochi::warabi::detail {

MigrationResult ProviderState::migrate(const std::string& dest_address, uint16_t dest_provider_id,
                                       const MigrationOptions& options) {
    if (options.transfer_size == 0) throw Exception(ErrorCode::InvalidArgument, "transfer_size must be at least 1");
    Client client(engine);
    TargetHandle dest = client.make_target_handle(dest_address, dest_provider_id);
    if (dest_provider_id == provider_id && engine.lookup(dest_address) == engine.self())
        throw Exception(ErrorCode::InvalidArgument, "cannot migrate a target onto itself");
    // Large eager thresholds would copy whole chunks into RPCs: keep the default.
    MigrationResult result;
    std::vector<char> buffer;
    std::shared_ptr<char> pin;  // keeps mapped target memory alive while the destination pulls it
    for (const RegionInfo& r : target->list()) {
        const size_t size = r.size;
        auto chunk_of = [&](size_t off, size_t n) -> const char* {
            if ((pin = target->map(r.id, off, n))) return pin.get();
            if (buffer.size() < n) buffer.resize(n);
            target->read(r.id, off, buffer.data(), n);
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
        result.emplace_back(r.id, copy);
        if (options.remove_source) target->erase(r.id);
    }
    return result;
}

}  // namespace mochi::warabi::detail
