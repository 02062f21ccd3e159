// The provider's RPC handlers. Each decodes its request with the bounds-checked reader, does
// the work, and answers with the response envelope of protocol.hpp; any failure becomes an
// error response (code + message), so a bad request never takes the server down.
#include "protocol.hpp"
#include "provider_state.hpp"

namespace mochi::warabi::detail {

namespace {

using mochi::margo::Request;
using Body = void (*)(ProviderState&, const Request&, wire::Reader&, wire::Writer&);

void serve(ProviderState& st, const Request& req, Body body) {
    std::string out;
    try {
        wire::Reader in(req.input());
        wire::Writer w;
        w.u<uint8_t>(0);
        body(st, req, in, w);
        out = std::move(w.str());
    } catch (const Exception& e) {
        out = rpc::error_response(e.code(), e.what());
    } catch (const mochi::margo::Exception& e) {
        out = rpc::error_response(ErrorCode::RpcError, std::string("transfer failed: ") + e.what());
    } catch (const std::bad_alloc&) {
        out = rpc::error_response(ErrorCode::OutOfSpace, "out of memory");
    } catch (const std::exception& e) {
        out = rpc::error_response(ErrorCode::Internal, e.what());
    }
    try {
        req.respond(out);
    } catch (const std::exception& e) {
        st.engine.log(mochi::margo::LogLevel::Error, std::string("warabi: could not respond: ") + e.what());
    }
}

RemoteBuffer remote_of(ProviderState& st, const Request& req, std::string_view bulk_bytes, size_t size) {
    RemoteBuffer r;
    try {
        r.bulk = st.engine.deserialize_bulk(bulk_bytes);
    } catch (const mochi::margo::Exception& e) {
        throw Exception(ErrorCode::MalformedRequest, std::string("malformed bulk handle: ") + e.what());
    }
    if (r.bulk.size() < size)
        throw Exception(ErrorCode::InvalidArgument, "the client's buffer has " + std::to_string(r.bulk.size()) +
                                                        " bytes, the request moves " + std::to_string(size));
    r.origin = r.bulk.owner();
    if (r.origin.is_null()) r.origin = req.source();
    return r;
}

void do_create(ProviderState& st, const Request&, wire::Reader& in, wire::Writer& out) {
    uint64_t size = in.u<uint64_t>();
    out.id(st.target()->create(size));
}

void do_write(ProviderState& st, const Request& req, wire::Reader& in, wire::Writer&) {
    RegionID id = in.id();
    uint64_t offset = in.u<uint64_t>(), size = in.u<uint64_t>();
    auto bulk = in.bytes();
    bool persist = in.flag();
    auto t = st.target();
    check_range(*t, "write", id, offset, size);
    st.tm->pull(*t, id, offset, size, remote_of(st, req, bulk, size));
    if (persist) t->persist(id, offset, size);
}

void do_write_eager(ProviderState& st, const Request&, wire::Reader& in, wire::Writer&) {
    RegionID id = in.id();
    uint64_t offset = in.u<uint64_t>();
    bool persist = in.flag();
    auto data = in.bytes();
    auto t = st.target();
    check_range(*t, "write", id, offset, data.size());
    t->write(id, offset, data.data(), data.size());
    if (persist) t->persist(id, offset, data.size());
}

void do_persist(ProviderState& st, const Request&, wire::Reader& in, wire::Writer&) {
    RegionID id = in.id();
    uint64_t offset = in.u<uint64_t>(), size = in.u<uint64_t>();
    auto t = st.target();
    check_range(*t, "persist", id, offset, size);
    t->persist(id, offset, size);
}

// Creates a region and fills it; the region is erased again if the fill fails.
template <typename Fill>
RegionID create_filled(Target& t, uint64_t size, Fill fill) {
    RegionID id = t.create(size);
    try {
        fill(id);
    } catch (...) {
        try {
            t.erase(id);
        } catch (...) {
        }
        throw;
    }
    return id;
}

void do_create_write(ProviderState& st, const Request& req, wire::Reader& in, wire::Writer& out) {
    uint64_t size = in.u<uint64_t>();
    auto bulk = in.bytes();
    bool persist = in.flag();
    auto t = st.target();
    RemoteBuffer src = remote_of(st, req, bulk, size);
    out.id(create_filled(*t, size, [&](const RegionID& id) {
        st.tm->pull(*t, id, 0, size, src);
        if (persist) t->persist(id, 0, size);
    }));
}

void do_create_write_eager(ProviderState& st, const Request&, wire::Reader& in, wire::Writer& out) {
    bool persist = in.flag();
    auto data = in.bytes();
    auto t = st.target();
    out.id(create_filled(*t, data.size(), [&](const RegionID& id) {
        t->write(id, 0, data.data(), data.size());
        if (persist) t->persist(id, 0, data.size());
    }));
}

void do_read(ProviderState& st, const Request& req, wire::Reader& in, wire::Writer&) {
    RegionID id = in.id();
    uint64_t offset = in.u<uint64_t>(), size = in.u<uint64_t>();
    auto bulk = in.bytes();
    auto t = st.target();
    check_range(*t, "read", id, offset, size);
    st.tm->push(*t, id, offset, size, remote_of(st, req, bulk, size));
}

void do_read_eager(ProviderState& st, const Request&, wire::Reader& in, wire::Writer& out) {
    RegionID id = in.id();
    uint64_t offset = in.u<uint64_t>(), size = in.u<uint64_t>();
    if (size > (uint64_t(1) << 30))
        throw Exception(ErrorCode::InvalidArgument, "eager read of " + std::to_string(size) + " bytes is too large");
    auto t = st.target();
    check_range(*t, "read", id, offset, size);
    out.u<uint64_t>(size);
    std::string& s = out.str();
    size_t at = s.size();
    s.resize(at + size);
    t->read(id, offset, s.data() + at, size);
}

void do_erase(ProviderState& st, const Request&, wire::Reader& in, wire::Writer&) {
    RegionID id = in.id();
    st.target()->erase(id);
}

void do_get_remi_provider_id(ProviderState&, const Request&, wire::Reader&, wire::Writer& out) {
    out.u<uint8_t>(0);  // no REMI provider: kinako migrates over warabi's own RPCs
}

void do_migrate(ProviderState& st, const Request&, wire::Reader& in, wire::Writer& out) {
    std::string dest(in.bytes());
    uint16_t dest_id = in.u<uint16_t>();
    MigrationOptions opt;
    opt.remove_source = in.flag();
    opt.transfer_size = in.u<uint64_t>();
    if (in.remaining()) {  // requests from before new_root/merge_config end here
        opt.new_root = std::string(in.bytes());
        opt.merge_config = rpc::parse_json(in.bytes(), "merge_config");
    }
    auto result = st.migrate(dest, dest_id, opt);
    out.u<uint64_t>(result.size());
    for (auto& [from, to] : result) out.id(from).id(to);
}

// kinako: tells a migration's source whether this provider has a target, and which type.
void do_target_info(ProviderState& st, const Request&, wire::Reader&, wire::Writer& out) {
    auto t = st.current();
    out.u<uint8_t>(t ? 1 : 0);
    if (t) out.bytes(t->type);
}

// kinako: a migration's source installs a target of its type into this target-less provider.
void do_install_target(ProviderState& st, const Request&, wire::Reader& in, wire::Writer&) {
    std::string type(in.bytes());
    nlohmann::json config = rpc::parse_json(in.bytes(), "target config");
    std::optional<FileIdentity> source_file;
    if (in.flag()) {
        FileIdentity f;
        f.dev = in.u<uint64_t>();
        f.ino = in.u<uint64_t>();
        source_file = f;
    }
    st.install_target(type, config, source_file);
}

}  // namespace

void register_handlers(const std::shared_ptr<ProviderState>& state, const std::string& pool) {
    const std::pair<const char*, Body> table[] = {
        {rpc::kCreate, do_create},
        {rpc::kWrite, do_write},
        {rpc::kWriteEager, do_write_eager},
        {rpc::kPersist, do_persist},
        {rpc::kCreateWrite, do_create_write},
        {rpc::kCreateWriteEager, do_create_write_eager},
        {rpc::kRead, do_read},
        {rpc::kReadEager, do_read_eager},
        {rpc::kErase, do_erase},
        {rpc::kGetRemiProviderId, do_get_remi_provider_id},
        {rpc::kMigrate, do_migrate},
        {rpc::kTargetInfo, do_target_info},
        {rpc::kInstallTarget, do_install_target},
    };
    for (auto& [name, body] : table) {
        Body b = body;
        auto st = state;
        state->rpc_ids.push_back(state->engine.define(
            name, [st, b](const Request& req) { serve(*st, req, b); }, state->provider_id, pool));
    }
}

}  // namespace mochi::warabi::detail
