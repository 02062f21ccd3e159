// The flock provider: RPC wiring, config validation and bootstrap. The "swim" group's failure
// detector lives in swim.cpp; this file only connects it to the view and to the RPCs.
#include <mochi/flock/provider.hpp>

#include "swim.hpp"

#include <nlohmann/json.hpp>

#include <mutex>
#include <set>

namespace mochi::flock {

using nlohmann::json;
namespace margo = mochi::margo;

namespace detail {

struct ProviderState {
    margo::Engine engine;
    uint16_t provider_id = 0;
    json config;
    std::string self_address;
    std::string file;
    std::string group_type = "static";
    mutable std::mutex mutex;
    GroupView view;
    std::vector<uint64_t> rpcs;
    std::shared_ptr<Swim> swim;  // "swim" groups only

    // Callers hold `mutex`. The first member of the view owns the group file: when the first
    // one leaves or dies, the next one becomes first and writes it on that same change.
    // Returns an error message for the caller to log once it released `mutex` (a log sink may
    // wait for Python's GIL, whose holder may be waiting for `mutex`).
    std::string save_if_first() {
        if (file.empty() || view.members.empty()) return {};
        if (view.members[0].address != self_address || view.members[0].provider_id != provider_id) return {};
        try {
            view.save(file);
        } catch (const std::exception& e) {
            return std::string("flock: ") + e.what();
        }
        return {};
    }
    void log_error(const std::string& msg) const {
        if (!msg.empty()) engine.log(margo::LogLevel::Error, msg);
    }
};

}  // namespace detail

namespace {

[[noreturn]] void bad(const std::string& key, const json& v, const std::string& why) {
    throw Exception("invalid flock config: \"" + key + "\" = " + v.dump() + ": " + why);
}

json check_config(const std::string& text) {
    json j;
    try {
        j = json::parse(text.empty() ? "{}" : text);
    } catch (const json::exception& e) {
        throw Exception(std::string("invalid flock config: malformed JSON: ") + e.what());
    }
    if (!j.is_object()) bad("(config)", j, "expected an object");
    for (auto& m : j.items()) {
        const std::string& k = m.key();
        const json& v = m.value();
        if (k == "bootstrap") {
            if (v.is_string()) continue;
            if (!v.is_array() || v.empty()) bad(k, v, "expected a method name or a list of them");
            for (auto& x : v)
                if (!x.is_string()) bad(k, v, "expected a method name or a list of them");
        } else if (k == "file") {
            if (!v.is_string()) bad(k, v, "expected a path");
        } else if (k == "group") {
            if (!v.is_object()) bad(k, v, "expected {\"type\": ..., \"config\": {...}}");
            if (v.contains("type") && !v["type"].is_string())
                bad("group.type", v["type"], "expected static, centralized or swim");
            std::string t = v.value("type", "static");
            if (t != "static" && t != "centralized" && t != "swim")
                bad("group.type", v["type"], "expected static, centralized or swim");
        } else if (k == "gateway" || k == "mpi_ranks" || k == "credentials") {
            if (k == "mpi_ranks") {
                if (!v.is_array()) bad(k, v, "expected an array of ranks");
                for (auto& r : v)
                    if (!r.is_number_integer() || r.get<long long>() < 0) bad(k, v, "expected an array of ranks");
            }
        } else {
            bad(k, v, "unknown key (expected bootstrap, file, group, gateway, mpi_ranks)");
        }
    }
    if (!j.contains("bootstrap")) j["bootstrap"] = "self";
    if (!j.contains("group")) j["group"] = {{"type", "static"}, {"config", json::object()}};
    if (!j["group"].contains("type")) j["group"]["type"] = "static";
    if (!j["group"].contains("config")) j["group"]["config"] = json::object();
    // The effective config shows every swim setting, defaults included.
    if (j["group"]["type"] == "swim") j["group"]["config"] = detail::SwimConfig::parse(j["group"]["config"]).to_json();
    return j;
}

json call(const margo::Engine& engine, const std::string& address, uint16_t provider_id, const std::string& rpc,
          const json& in, double timeout_ms) {
    auto resp = engine.forward(engine.lookup(address), rpc, in.dump(), provider_id, timeout_ms);
    json out = json::parse(resp.output());
    if (!out.value("ok", false)) throw Exception(out.value("error", std::string("flock request failed")));
    return out;
}

}  // namespace

Provider::Provider(const margo::Engine& engine, uint16_t provider_id, const std::string& config_json,
                   const GroupView& initial_view, const std::string& pool) {
    auto st = std::make_shared<detail::ProviderState>();
    st->engine = engine;
    st->provider_id = provider_id;
    st->config = check_config(config_json);
    st->self_address = engine.self().to_string();
    st->file = st->config.value("file", "");
    st->group_type = st->config["group"].value("type", "static");
    st->view = initial_view;
    st->view.metadata["__type__"] = st->group_type;
    st->view.metadata["__config__"] = st->config["group"]["config"].dump();
    std::weak_ptr<detail::ProviderState> weak = st;

    if (st->group_type == "swim") {
        detail::Swim::Hooks hooks;
        hooks.members = [weak]() -> std::vector<Member> {
            auto s = weak.lock();
            if (!s) return {};
            std::lock_guard<std::mutex> lock(s->mutex);
            return s->view.members;
        };
        hooks.remove = [weak](const std::vector<Member>& dead) -> std::string {
            auto s = weak.lock();
            if (!s) return {};
            std::string json_view, error;
            {
                std::lock_guard<std::mutex> lock(s->mutex);
                bool changed = false;
                for (auto& m : dead) changed = s->view.remove(m.address, m.provider_id) || changed;  // bumps version
                if (!changed) return {};
                error = s->save_if_first();
                json_view = s->view.to_json();
            }
            s->log_error(error);
            return json_view;
        };
        st->swim = std::make_shared<detail::Swim>(engine, Member{st->self_address, provider_id},
                                                  detail::SwimConfig::parse(st->config["group"]["config"]),
                                                  std::move(hooks));
    }

    auto reply = [](const margo::Request& req, const json& j) { req.respond(j.dump()); };
    st->rpcs.push_back(st->engine.define("flock_get_view", [weak, reply](const margo::Request& req) {
        auto s = weak.lock();
        if (!s) return req.respond_error(margo::Status::NoEntry);
        std::lock_guard<std::mutex> lock(s->mutex);
        reply(req, {{"ok", true}, {"view", json::parse(s->view.to_json())}});
    }, provider_id, pool));
    auto membership = [weak, reply](const margo::Request& req, bool join) {
        auto s = weak.lock();
        if (!s) return req.respond_error(margo::Status::NoEntry);
        json in;
        try {
            in = json::parse(req.input());
        } catch (...) {
            return reply(req, {{"ok", false}, {"error", "malformed request"}});
        }
        if (s->group_type == "static")
            return reply(req, {{"ok", false}, {"error", "this group is static: members cannot join or leave "
                                                        "(use \"group\": {\"type\": \"centralized\"})"}});
        if (!in.is_object() || !in.contains("address") || !in["address"].is_string() ||
            !in.value("provider_id", json(0)).is_number_integer() || in.value("provider_id", 0LL) < 0 ||
            in.value("provider_id", 0LL) > 65535)
            return reply(req, {{"ok", false}, {"error", "malformed request: expected {\"address\": ..., \"provider_id\": ...}"}});
        std::string addr = in.value("address", "");
        uint16_t id = static_cast<uint16_t>(in.value("provider_id", 0));
        if (s->swim) {
            // A join clears a tombstone (the process came back); a leave is not a death.
            if (join) s->swim->joined({addr, id});
            else s->swim->left({addr, id});
        }
        std::vector<Member> others;
        json view;
        std::string error;
        {
            std::lock_guard<std::mutex> lock(s->mutex);
            if (join) s->view.add(addr, id);
            else s->view.remove(addr, id);
            error = s->save_if_first();
            view = json::parse(s->view.to_json());
            for (auto& m : s->view.members)
                if (!(m.address == s->self_address && m.provider_id == s->provider_id) &&
                    !(m.address == addr && m.provider_id == id))
                    others.push_back(m);
        }
        s->log_error(error);
        // The pushed view names the newcomer, so that swim members drop a tombstone they may
        // hold for it (a member declared dead that joins again).
        json push = view;
        if (join) push["joined"] = {{"address", addr}, {"provider_id", id}};
        // Tell the other members, all at once (best effort: a dead member costs one 2 s
        // timeout in total, not one per member in turn).
        static const uint64_t update_rpc = margo::rpc_id_of("flock_update_view");
        const std::string body = push.dump();  // outlives the calls: waited for below
        std::vector<margo::AsyncResponse> pushes;
        for (auto& m : others) {
            try {
                pushes.push_back(s->engine.iforward(s->engine.lookup(m.address), update_rpc, body, m.provider_id, 2000));
            } catch (const std::exception&) {
            }
        }
        for (auto& p : pushes) {
            try {
                p.wait();
            } catch (const std::exception&) {
            }
        }
        reply(req, {{"ok", true}, {"view", view}});
    };
    st->rpcs.push_back(st->engine.define("flock_join", [membership](const margo::Request& req) { membership(req, true); },
                                     provider_id, pool));
    st->rpcs.push_back(st->engine.define("flock_leave", [membership](const margo::Request& req) { membership(req, false); },
                                     provider_id, pool));
    st->rpcs.push_back(st->engine.define("flock_update_view", [weak, reply](const margo::Request& req) {
        auto s = weak.lock();
        if (!s) return req.respond_error(margo::Status::NoEntry);
        try {
            json in = json::parse(req.input());
            if (s->swim && in.is_object() && in.contains("swim")) {
                // A death confirmed by a swim member: apply it as a removal, not as a whole
                // view, so that a join this member saw and the sender did not yet survives.
                if (!in["swim"].is_object() || !in["swim"].contains("dead"))
                    throw Exception("malformed view update: \"swim\" must be {\"dead\": [...]}");
                s->swim->learn_dead(in["swim"]["dead"]);
                return reply(req, {{"ok", true}});
            }
            GroupView v = GroupView::from_json(std::string(req.input()));
            if (s->swim) {
                if (in.contains("joined") && in["joined"].is_object() && in["joined"].contains("address") &&
                    in["joined"]["address"].is_string())
                    s->swim->joined({in["joined"]["address"].get<std::string>(),
                                     static_cast<uint16_t>(in["joined"].value("provider_id", 0))});
                // A view built before a death reached its sender must not bring the dead back.
                std::vector<Member> kept;
                for (auto& m : v.members)
                    if (!s->swim->is_dead(m)) kept.push_back(m);
                v.members = std::move(kept);
            }
            std::string error;
            {
                std::lock_guard<std::mutex> lock(s->mutex);
                s->view.members = v.members;
                s->view.version++;
                error = s->save_if_first();
            }
            s->log_error(error);
            reply(req, {{"ok", true}});
        } catch (const std::exception& e) {
            reply(req, {{"ok", false}, {"error", e.what()}});
        }
    }, provider_id, pool));
    if (st->swim) {
        // The failure detector's two RPCs. A malformed request gets {"ok": false} and changes
        // nothing: Swim validates a message before applying any of it.
        auto swim_rpc = [weak, reply](const margo::Request& req, bool indirect) {
            auto s = weak.lock();
            if (!s) return req.respond_error(margo::Status::NoEntry);
            json out;
            try {
                json in = json::parse(req.input());
                out = indirect ? s->swim->handle_ping_req(in) : s->swim->handle_ping(in);
            } catch (const std::exception& e) {
                out = {{"ok", false}, {"error", e.what()}};
            }
            reply(req, out);
        };
        st->rpcs.push_back(st->engine.define("flock_swim_ping", [swim_rpc](const margo::Request& req) {
            swim_rpc(req, false);
        }, provider_id, pool));
        st->rpcs.push_back(st->engine.define("flock_swim_ping_req", [swim_rpc](const margo::Request& req) {
            swim_rpc(req, true);
        }, provider_id, pool));
        // Stop the loop with the engine: ask at prefinalize (no waiting there, so finalize is
        // not held up), then collect the thread once finalize canceled its pending calls.
        engine.push_prefinalize_callback([weak] {
            if (auto s = weak.lock()) s->swim->request_stop();
        });
        engine.push_finalize_callback([weak] {
            if (auto s = weak.lock()) s->swim->stop(s->swim->stop_bound_ms());
        });
    }
    engine.register_identity(provider_id, "flock");
    std::string error;
    {
        std::lock_guard<std::mutex> lock(st->mutex);
        error = st->save_if_first();
    }
    st->log_error(error);
    if (st->swim) st->swim->start();
    state_ = std::move(st);
}

std::unique_ptr<Provider> Provider::bootstrap(const margo::Engine& engine, uint16_t provider_id,
                                              const std::string& config_json, const BootstrapContext& ctx,
                                              const std::string& pool) {
    json cfg = check_config(config_json);
    std::vector<std::string> methods;
    if (cfg["bootstrap"].is_string()) methods.push_back(cfg["bootstrap"]);
    else for (auto& m : cfg["bootstrap"]) methods.push_back(m);
    std::string self = engine.self().to_string();
    std::string file = cfg.value("file", "");
    std::string errors;
    for (auto& method : methods) {
        try {
            GroupView view;
            if (method == "self") {
                view.add(self, provider_id);
            } else if (method == "mpi") {
                std::set<int> ranks;
                if (cfg.contains("mpi_ranks"))
                    for (auto& r : cfg["mpi_ranks"]) ranks.insert(r.get<int>());
                std::vector<std::string> addrs;
                if (ctx.allgather) addrs = ctx.allgather(self);
                else if (ctx.size == 1) addrs = {self};
                else throw Exception("MPI is not available in this process (start it with mpirun and the bedrock command)");
                for (size_t r = 0; r < addrs.size(); ++r)
                    if (ranks.empty() || ranks.count(static_cast<int>(r))) view.add(addrs[r], provider_id);
            } else if (method == "file") {
                if (file.empty()) throw Exception("\"file\" bootstrap needs a \"file\" key");
                view = GroupView::load(file);
                if (!view.exists(self, provider_id))
                    throw Exception("this process (" + self + ", provider " + std::to_string(provider_id) +
                                    ") is not listed in " + file);
            } else if (method == "join") {
                if (file.empty()) throw Exception("\"join\" bootstrap needs a \"file\" key");
                GroupView existing = GroupView::load(file);
                json in = {{"address", self}, {"provider_id", provider_id}};
                bool joined = false;
                std::string why;
                // The provider has to exist before members send it updates: create it with the
                // old view first, then join.
                auto p = std::make_unique<Provider>(engine, provider_id, config_json, existing, pool);
                for (auto& m : existing.members) {
                    if (m.address == self && m.provider_id == provider_id) continue;
                    try {
                        json out = call(engine, m.address, m.provider_id, "flock_join", in, 5000);
                        GroupView v = GroupView::from_json(out["view"].dump());
                        std::lock_guard<std::mutex> lock(p->state_->mutex);
                        p->state_->view.members = v.members;
                        p->state_->view.version++;
                        joined = true;
                        break;
                    } catch (const std::exception& e) {
                        why = e.what();
                        if (why.find("static") != std::string::npos) break;
                    }
                }
                if (!joined) throw Exception("could not join the group of " + file + (why.empty() ? "" : ": " + why));
                return p;
            } else {
                throw Exception("unknown bootstrap method \"" + method + "\" (expected self, mpi, file or join)");
            }
            return std::make_unique<Provider>(engine, provider_id, config_json, view, pool);
        } catch (const std::exception& e) {
            errors += (errors.empty() ? "" : "; ") + method + ": " + e.what();
        }
    }
    throw Exception("flock bootstrap failed (" + errors + ")");
}

Provider::~Provider() {
    if (!state_) return;
    // Stop probing before the handlers go: a bounded wait (one blocking call of the loop at
    // most), never a join that could hang on a peer that stopped answering.
    if (state_->swim) state_->swim->stop(state_->swim->stop_bound_ms());
    try {
        if (!state_->engine.finalized()) {
            for (auto id : state_->rpcs) state_->engine.deregister(id, state_->provider_id);
            state_->engine.register_identity(state_->provider_id, "");
        }
    } catch (...) {
    }
}

uint16_t Provider::provider_id() const { return state_->provider_id; }

std::string Provider::config() const { return state_->config.dump(); }

void Provider::change_pool(const std::string& pool) {
    try {
        for (auto id : state_->rpcs) state_->engine.set_rpc_pool(id, state_->provider_id, pool);
    } catch (const mochi::margo::Exception& e) {
        throw Exception(std::string("cannot change the pool: ") + e.what());
    }
}

GroupView Provider::view() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->view;
}

}  // namespace mochi::flock
