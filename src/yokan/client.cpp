// Client and handle creation, and the shared call path.
#include "client_impl.hpp"

#include <unordered_map>

namespace mochi::yokan {

namespace detail {

namespace {
// RPC ids are hashes of the names; compute each once.
uint64_t id_of(const char* rpc) {
    thread_local std::unordered_map<const char*, uint64_t> cache;
    auto it = cache.find(rpc);
    if (it != cache.end()) return it->second;
    return cache[rpc] = margo::rpc_id_of(rpc);
}
}  // namespace

DatabaseImpl::Reply DatabaseImpl::call(const char* rpc, std::string_view request, double timeout_ms) const {
    margo::Response resp;
    try {
        resp = engine.forward(address, id_of(rpc), request, provider_id, timeout_ms);
    } catch (const margo::Exception& e) {
        switch (e.status()) {
            case margo::Status::Timeout: throw Exception(Status::Timeout, std::string("Timeout: ") + rpc + " timed out");
            case margo::Status::NoEntry:
                throw Exception(Status::InvalidProvider, "Invalid provider: no yokan provider with id " +
                                                             std::to_string(provider_id) + " at " + address.to_string());
            default: throw Exception(Status::FromMercury, std::string("Mercury error: ") + e.what());
        }
    }
    Reply reply{std::move(resp), wire::Reader(std::string_view())};
    reply.reader = wire::Reader(reply.response.output());
    auto status = static_cast<Status>(reply.reader.pod<int32_t>());
    if (status != Status::Success) {
        std::string message;
        if (reply.reader.remaining() >= sizeof(uint64_t)) message = std::string(reply.reader.bytes());
        if (message.empty()) message = status_message(status);
        throw Exception(status, message);
    }
    return reply;
}

}  // namespace detail

Client::Client(margo::Engine engine) : engine_(std::move(engine)) {
    if (!engine_) throw Exception(Status::InvalidMid, "Invalid margo instance");
}

Database Client::make_database_handle(const margo::Address& address, uint16_t provider_id, bool check) const {
    if (address.is_null()) throw Exception(Status::InvalidArgs, "Invalid argument: null address");
    if (check) {
        std::string identity;
        try {
            identity = engine_.provider_identity(address, provider_id, 10000);
        } catch (const margo::Exception& e) {
            throw Exception(Status::FromMercury, std::string("Mercury error: ") + e.what());
        }
        if (identity != detail::wire::kIdentity)
            throw Exception(Status::InvalidProvider,
                            "Invalid provider: no yokan provider with id " + std::to_string(provider_id) + " at " +
                                address.to_string() + (identity.empty() ? "" : " (found \"" + identity + "\")"));
    }
    auto impl = std::make_shared<detail::DatabaseImpl>();
    impl->engine = engine_;
    impl->address = address;
    impl->provider_id = provider_id;
    return Database(std::move(impl));
}

const margo::Address& Database::address() const { return impl_->address; }
uint16_t Database::provider_id() const { return impl_->provider_id; }

}  // namespace mochi::yokan
