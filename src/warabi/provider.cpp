// Provider construction: config validation, target and transfer manager, RPC registration.
#include <mochi/warabi/provider.hpp>

#include "config_check.hpp"
#include "protocol.hpp"
#include "provider_state.hpp"

#include <optional>

namespace mochi::warabi {

using detail::ProviderState;
using json = nlohmann::json;

namespace detail {

std::shared_ptr<InstalledTarget> ProviderState::current() const {
    std::lock_guard<std::mutex> lock(target_mutex_);
    return target_;
}

std::shared_ptr<Target> ProviderState::target() const {
    auto t = current();
    if (!t)
        throw Exception(ErrorCode::NoTarget, "warabi provider " + std::to_string(provider_id) +
                                                 " has no target (it was started without one, or its target "
                                                 "migrated away; migrate a target into it or restore a snapshot into it first)");
    return std::shared_ptr<Target>(t, t->target.get());  // shares ownership with the slot's entry
}

void ProviderState::set_target(std::shared_ptr<InstalledTarget> t) {
    std::lock_guard<std::mutex> lock(target_mutex_);
    target_ = std::move(t);
}

std::shared_ptr<InstalledTarget> ProviderState::detach_target() {
    std::lock_guard<std::mutex> lock(target_mutex_);
    return std::move(target_);
}

bool ProviderState::reattach_target(std::shared_ptr<InstalledTarget> t) {
    std::lock_guard<std::mutex> lock(target_mutex_);
    if (target_ || installing_) return false;
    target_ = std::move(t);
    return true;
}

// Without a target the config has no "target" key, as the provider was (or could be) started.
json ProviderState::config() const {
    json c = {{"transfer_manager", {{"type", tm_type}, {"config", tm->config()}}}};
    if (auto t = current()) c["target"] = {{"type", t->type}, {"config", t->target->config()}};
    return c;
}

void check_range(Target& target, const char* op, const RegionID& id, size_t offset, size_t size) {
    size_t rs = target.region_size(id);
    if (offset > rs || size > rs - offset)
        throw Exception(ErrorCode::OutOfRange, std::string("cannot ") + op + " bytes [" + std::to_string(offset) + ", " +
                                                   std::to_string(offset + size) + ") of region " + to_hex(id) +
                                                   ": the region has " + std::to_string(rs) + " bytes");
}

}  // namespace detail

namespace {
json parse_config(const std::string& text) {
    if (text.empty()) return json::object();
    try {
        return json::parse(text);
    } catch (const json::exception& e) {
        throw Exception(ErrorCode::InvalidConfig, std::string("invalid provider configuration: not JSON: ") + e.what());
    }
}

// Reads {"type": ..., "config": {...}} of a "target" or "transfer_manager" section. A
// missing section (null) takes default_type; only transfer_manager has one.
void section(const json& s, const char* name, std::string& type, json& config, const char* default_type) {
    const std::string where = name;
    if (s.is_null() && default_type) {
        type = default_type;
        config = json::object();
        return;
    }
    detail::cfg::require_object(s, where);
    detail::cfg::only_keys(s, {"type", "config"}, where);
    if (s.contains("type") || !default_type)
        type = detail::cfg::get_string(s, "type", where);
    else
        type = default_type;
    config = s.value("config", json::object());
    if (!config.is_object()) detail::cfg::fail(where, "\"config\" must be an object, got " + config.dump());
}
}  // namespace

Provider::Provider(const mochi::margo::Engine& engine, uint16_t provider_id, const std::string& json_config,
                   const std::string& pool) {
    if (!engine) throw Exception(ErrorCode::InvalidArgument, "the engine is not valid");
    json c = parse_config(json_config);
    detail::cfg::require_object(c, "provider");
    // As in Warabi, "target" is optional: without one the provider serves only errors
    // (NoTarget) until a migration installs a target into it.
    std::optional<json> target;
    if (c.contains("target")) {
        target = c["target"];
    } else if (c.contains("targets")) {
        // Legacy form from the Warabi docs: "targets": [ {type, config} ] with a single target.
        const json& ts = c["targets"];
        if (!ts.is_array() || ts.size() != 1)
            detail::cfg::fail("provider", "\"targets\" must be an array with exactly one target, got " + ts.dump());
        target = ts[0];
    }
    detail::cfg::only_keys(c, {"target", "targets", "transfer_manager"}, "provider");
    auto st = std::make_shared<ProviderState>();
    st->engine = engine;
    st->provider_id = provider_id;
    json tcfg, mcfg;
    std::string ttype;
    if (target) section(*target, "target", ttype, tcfg, nullptr);
    section(c.value("transfer_manager", json()), "transfer_manager", st->tm_type, mcfg, "__default__");
    if (engine.is_registered(mochi::margo::rpc_id_of(rpc::kCreate), provider_id))
        throw Exception(ErrorCode::InvalidArgument,
                        "a warabi provider with id " + std::to_string(provider_id) + " already exists on this engine");
    if (target)
        st->set_target(std::make_shared<detail::InstalledTarget>(
            detail::InstalledTarget{ttype, TargetRegistry::create(ttype, tcfg)}));
    st->tm = detail::make_transfer_manager(st->tm_type, mcfg, engine);
    detail::register_handlers(st, pool);
    engine.register_identity(provider_id, rpc::kIdentity);
    state_ = std::move(st);
}

Provider::~Provider() {
    if (!state_) return;
    // In-flight handlers keep the state alive through their own references.
    try {
        for (uint64_t id : state_->rpc_ids) state_->engine.deregister(id, state_->provider_id);
        if (!state_->engine.finalized()) state_->engine.register_identity(state_->provider_id, "");
    } catch (...) {
    }
}

uint16_t Provider::provider_id() const { return state_->provider_id; }
std::string Provider::get_config() const { return state_->config().dump(); }
Target& Provider::target() { return *state_->target(); }

void Provider::change_pool(const std::string& pool) {
    try {
        for (uint64_t id : state_->rpc_ids) state_->engine.set_rpc_pool(id, state_->provider_id, pool);
    } catch (const mochi::margo::Exception& e) {
        // The pool is checked before any RPC moves, so a failure leaves every handler in place.
        throw Exception(ErrorCode::InvalidArgument, std::string("cannot change the pool: ") + e.what());
    }
}

void Provider::snapshot(const std::string& dest_dir, bool remove_source) { state_->snapshot(dest_dir, remove_source); }
MigrationResult Provider::restore(const std::string& src_dir, const RestoreOptions& options) {
    return state_->restore(src_dir, options);
}

MigrationResult Provider::migrate(const std::string& dest_address, uint16_t dest_provider_id,
                                  const MigrationOptions& options) {
    return state_->migrate(dest_address, dest_provider_id, options);
}

}  // namespace mochi::warabi
