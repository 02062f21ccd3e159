// Provider construction: config parsing, backend creation, RPC registration, and the common
// request/response framing every handler goes through.
#include <mochi/yokan/provider.hpp>

#include "provider_impl.hpp"

namespace mochi::yokan {

namespace detail {

namespace {

struct RpcBinding {
    const char* name;
    ProviderImpl::Body body;
};

// Each name is also registered with a "_direct" twin (Yokan's NO_RDMA variants).
const RpcBinding kBindings[] = {
    {wire::rpc::count, &ProviderImpl::count},
    {wire::rpc::put, &ProviderImpl::put},
    {wire::rpc::get, &ProviderImpl::get},
    {wire::rpc::fetch, &ProviderImpl::get},
    {wire::rpc::exists, &ProviderImpl::exists},
    {wire::rpc::length, &ProviderImpl::length},
    {wire::rpc::erase, &ProviderImpl::erase},
    {wire::rpc::erase_range, &ProviderImpl::erase_range},
    {wire::rpc::list_keys, &ProviderImpl::list_keys},
    {wire::rpc::list_keyvals, &ProviderImpl::list_keyvals},
    {wire::rpc::coll_create, &ProviderImpl::coll_create},
    {wire::rpc::coll_drop, &ProviderImpl::coll_drop},
    {wire::rpc::coll_exists, &ProviderImpl::coll_exists},
    {wire::rpc::coll_last_id, &ProviderImpl::coll_last_id},
    {wire::rpc::coll_size, &ProviderImpl::coll_size},
    {wire::rpc::doc_store, &ProviderImpl::doc_store},
    {wire::rpc::doc_update, &ProviderImpl::doc_update},
    {wire::rpc::doc_load, &ProviderImpl::doc_load},
    {wire::rpc::doc_fetch, &ProviderImpl::doc_load},
    {wire::rpc::doc_length, &ProviderImpl::doc_length},
    {wire::rpc::doc_erase, &ProviderImpl::doc_erase},
    {wire::rpc::doc_list, &ProviderImpl::doc_list},
};

nlohmann::json parse_config(const std::string& text) {
    if (text.empty()) throw Exception(Status::InvalidConfig, "missing configuration string");
    nlohmann::json cfg;
    try {
        cfg = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        throw Exception(Status::InvalidConfig, std::string("could not parse yokan provider configuration: ") + e.what());
    }
    if (!cfg.is_object())
        throw Exception(Status::InvalidConfig, "yokan provider configuration must be a JSON object, got " + cfg.dump());
    return cfg;
}

// Checks "buffer_cache" and fills in its defaults. The cache only matters for RDMA buffer
// reuse in Yokan; it is accepted and echoed so configs written for Yokan work unchanged.
nlohmann::json check_buffer_cache(const nlohmann::json& given) {
    nlohmann::json bc = given.is_null() ? nlohmann::json::object() : given;
    if (!bc.is_object()) throw Exception(Status::InvalidConfig, "\"buffer_cache\" must be an object, got " + bc.dump());
    if (!bc.contains("type")) bc["type"] = "lru";
    if (!bc["type"].is_string()) throw Exception(Status::InvalidConfig, "buffer_cache.type must be a string");
    auto type = bc["type"].get<std::string>();
    if (type == "lru") {
        if (!bc.contains("capacity")) bc["capacity"] = 32;
        if (!bc.contains("margin")) bc["margin"] = 0.0;
    } else if (type == "keep_all") {
        if (!bc.contains("margin")) bc["margin"] = 0.0;
    } else if (type != "dummy" && type != "external") {
        throw Exception(Status::InvalidConfig, "buffer_cache.type \"" + type +
                                                   "\" is not one of lru, keep_all, dummy, external");
    }
    return bc;
}

}  // namespace

void ProviderImpl::register_rpcs(const std::shared_ptr<ProviderImpl>& self) {
    for (const auto& b : kBindings) {
        Body body = b.body;
        // The handler keeps the provider alive while a request runs; deregister_rpcs drops
        // these references when the provider goes away.
        auto handler = [self, body](const margo::Request& req) { self->serve(req, body); };
        rpc_ids.push_back(engine.define(b.name, handler, provider_id, pool));
        rpc_ids.push_back(engine.define(std::string(b.name) + "_direct", handler, provider_id, pool));
    }
    // Provider-to-provider only, so no "_direct" twin.
    auto migrate = [self](const margo::Request& req) { self->serve(req, &ProviderImpl::migrate_chunk); };
    rpc_ids.push_back(engine.define(wire::rpc::migrate_chunk, migrate, provider_id, pool));
    engine.register_identity(provider_id, wire::kIdentity);
}

void ProviderImpl::deregister_rpcs() {
    try {
        if (engine.finalized()) return;
        for (auto id : rpc_ids) engine.deregister(id, provider_id);
        engine.register_identity(provider_id, "");
    } catch (...) {
        // The engine is going away too; nothing left to undo.
    }
    rpc_ids.clear();
}

void ProviderImpl::serve(const margo::Request& req, Body body) {
    std::string out = responses.take(0);
    wire::Writer w(out);
    w.pod<int32_t>(0);
    Status status = Status::Success;
    std::string message;
    try {
        wire::Reader r(req.input());
        auto header = r.header();
        status = (this->*body)(header, r, w);
    } catch (const Exception& e) {
        status = e.code();
        message = e.what();
    } catch (const std::bad_alloc&) {
        status = Status::Allocation;
    } catch (const std::exception& e) {
        status = Status::Other;
        message = e.what();
    }
    if (status != Status::Success) {
        out.clear();
        w.pod<int32_t>(static_cast<int32_t>(status));
        w.bytes(message);
    }
    try {
        req.respond(out);
    } catch (...) {
        // The caller is gone (timed out or dead); nothing to tell it.
    }
    responses.give_back(std::move(out));
}

Backend& ProviderImpl::open_backend() {
    if (!backend) throw Exception(Status::InvalidDatabase, "this yokan provider has no database");
    if (migrated.load(std::memory_order_acquire)) throw Exception(Status::Migrated, migrated_to);
    return *backend;
}

// The filter modes (LUA_FILTER, LIB_FILTER, FILTER_VALUE) matter to listings only (filters/);
// like Yokan's backends, every other call accepts and ignores them.
Backend& ProviderImpl::kv_backend(int32_t) {
    open_backend();
    if (!backend->supports_kv())
        throw Exception(Status::OpUnsupported,
                        "Unsupported operation or mode: backend \"" + backend->type() + "\" stores documents only");
    return *backend;
}

Backend& ProviderImpl::doc_backend(int32_t) {
    open_backend();
    if (!backend->supports_documents())
        throw Exception(Status::OpUnsupported, "Unsupported operation or mode: backend \"" + backend->type() +
                                                   "\" stores keys only, so it cannot hold documents");
    return *backend;
}

}  // namespace detail

Provider::Provider(const margo::Engine& engine, uint16_t provider_id, const std::string& config_text,
                   const std::string& pool) {
    if (!engine) throw Exception(Status::InvalidMid, "Invalid margo instance");
    auto cfg = detail::parse_config(config_text);
    if (engine.is_registered(margo::rpc_id_of(detail::wire::rpc::count), provider_id))
        throw Exception(Status::InvalidProvider,
                        "Invalid provider: a yokan provider with id " + std::to_string(provider_id) +
                            " is already registered on this engine");
    auto impl = std::make_shared<detail::ProviderImpl>();
    impl->engine = engine;
    impl->provider_id = provider_id;
    impl->pool = pool;
    nlohmann::json effective = nlohmann::json::object();
    if (cfg.contains("database")) {
        const auto& db = cfg["database"];
        if (!db.is_object()) throw Exception(Status::InvalidConfig, "\"database\" must be an object, got " + db.dump());
        if (!db.contains("type") || !db["type"].is_string())
            throw Exception(Status::InvalidConfig, "database.type must be a string naming a backend");
        auto type = db["type"].get<std::string>();
        nlohmann::json bcfg = db.contains("config") ? db["config"] : nlohmann::json::object();
        impl->backend = create_backend(type, bcfg);
        effective["database"] = {{"type", type}, {"config", impl->backend->config()}};
    }
    effective["buffer_cache"] = detail::check_buffer_cache(cfg.contains("buffer_cache") ? cfg["buffer_cache"] : nullptr);
    for (auto& [key, value] : cfg.items())
        if (!effective.contains(key)) effective[key] = value;  // keep keys we do not interpret
    impl->config = std::move(effective);
    impl->register_rpcs(impl);
    impl_ = std::move(impl);
}

Provider::~Provider() {
    if (!impl_) return;
    impl_->watcher.close();
    impl_->deregister_rpcs();
}

Provider::Provider(Provider&&) noexcept = default;
Provider& Provider::operator=(Provider&&) noexcept = default;

uint16_t Provider::provider_id() const { return impl_->provider_id; }

void Provider::change_pool(const std::string& pool) {
    try {
        for (auto id : impl_->rpc_ids) impl_->engine.set_rpc_pool(id, impl_->provider_id, pool);
    } catch (const margo::Exception& e) {
        // The engine checks the pool before moving the first RPC, so a refusal moves none.
        throw Exception(Status::InvalidArgs, std::string("cannot change the pool: ") + e.what());
    }
    impl_->pool = pool;
}
std::string Provider::config() const { return impl_->config.dump(); }

}  // namespace mochi::yokan
