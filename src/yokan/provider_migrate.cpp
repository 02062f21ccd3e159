// Migration: Provider::migrate streams the database to another yokan provider, one
// "yokan_migrate_chunk" RPC per chunk of records (large chunks move by RMA inside the engine),
// and ProviderImpl::migrate_chunk applies each chunk on the destination.
#include <mochi/yokan/provider.hpp>

#include "maintenance.hpp"
#include "snapshot.hpp"

namespace mochi::yokan {

namespace detail {

// Request: the usual header, then bytes (the chunk's records). Response: status only.
Status ProviderImpl::migrate_chunk(const wire::RequestHeader&, wire::Reader& r, wire::Writer&) {
    Backend& b = open_backend();
    auto chunk = r.bytes();
    const std::string what = "migrated chunk";
    snapshot::Needs needs;
    snapshot::check_chunk(chunk, needs, what);
    snapshot::check_target(b, needs, what);  // refused before any of it is written
    snapshot::apply_chunk(b, chunk, [this](std::string_view key) { watcher.notify(key); });
    return Status::Success;
}

namespace {

// Sends one chunk; throws Exception with the destination's status when it refuses it.
void send_chunk(const margo::Engine& engine, const margo::Address& dest, uint16_t dest_id, const std::string& target,
                std::string_view chunk, double timeout_ms) {
    static const uint64_t rpc = margo::rpc_id_of(wire::rpc::migrate_chunk);
    std::string request;
    request.reserve(chunk.size() + 32);
    wire::Writer w(request);
    w.header({0, timeout_ms});
    w.bytes(chunk);
    margo::Response resp;
    try {
        resp = engine.forward(dest, rpc, request, dest_id, timeout_ms);
    } catch (const margo::Exception& e) {
        if (e.status() == margo::Status::Timeout)
            throw Exception(Status::Timeout, "migrate: sending a chunk to " + target + " timed out");
        if (e.status() == margo::Status::NoEntry)
            throw Exception(Status::InvalidProvider, "migrate: " + target + " has no yokan provider any more");
        throw Exception(Status::FromMercury, "migrate: sending a chunk to " + target + " failed: " + e.what());
    }
    wire::Reader reply(resp.output());
    auto status = static_cast<Status>(reply.pod<int32_t>());
    if (status == Status::Success) return;
    std::string message = reply.remaining() >= sizeof(uint64_t) ? std::string(reply.bytes()) : status_message(status);
    throw Exception(status, "migrate: " + target + " refused a chunk: " + message);
}

}  // namespace

}  // namespace detail

void Provider::migrate(const std::string& dest_address, uint16_t dest_provider_id, const std::string& options_json,
                       bool remove_source) {
    auto& p = *impl_;
    detail::MaintenanceGuard guard(p, "migrate");
    auto opts = detail::parse_options(options_json, "migrate");
    uint64_t transfer_size = detail::option_size(opts, "transfer_size", detail::kDefaultChunkSize, "migrate");
    double timeout_ms = detail::option_ms(opts, "timeout_ms", "migrate");
    Backend& b = p.open_backend();

    const std::string target = "provider " + std::to_string(dest_provider_id) + " at " + dest_address;
    margo::Address dest;
    std::string identity;
    try {
        dest = p.engine.lookup(dest_address);
        // The same default wait as the client's handle check.
        identity = p.engine.provider_identity(dest, dest_provider_id, timeout_ms > 0 ? timeout_ms : 10000);
    } catch (const margo::Exception& e) {
        throw Exception(Status::FromMercury, "migrate: cannot reach " + target + ": " + e.what());
    }
    // Migrating onto itself would destroy the only copy.
    if (dest == p.engine.self() && dest_provider_id == p.provider_id)
        throw Exception(Status::InvalidArgs, "migrate: the destination is this provider itself");
    if (identity != detail::wire::kIdentity)
        throw Exception(Status::InvalidProvider, "migrate: no yokan provider at " + target +
                                                     (identity.empty() ? "" : " (found \"" + identity + "\")"));

    detail::snapshot::dump(b, transfer_size, [&](std::string&& chunk, uint64_t) {
        std::string mine = std::move(chunk);  // freed once sent, not when the dump ends
        detail::send_chunk(p.engine, dest, dest_provider_id, target, mine, timeout_ms);
    });
    if (!remove_source) return;
    // Requests are refused from here on; then the data goes (files included).
    p.migrated_to = "Database migrated to " + target;
    p.migrated.store(true, std::memory_order_release);
    b.destroy();
}

}  // namespace mochi::yokan
