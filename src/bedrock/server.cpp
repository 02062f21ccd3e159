// The bedrock server: builds engines, providers and their dependencies from a config, serves
// the bedrock_* RPCs, and echoes the effective config.
#include <mochi/bedrock/server.hpp>

#include "config.hpp"
#include "expr.hpp"
#include "registry.hpp"

#include <boost/fiber/mutex.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <set>
#include <thread>

namespace mochi::bedrock {

using nlohmann::json;
namespace margo = mochi::margo;
using kinako::bedrock::config_error;

namespace detail {

struct ProviderEntry {
    std::string name, type;
    uint16_t provider_id = 0;
    int engine = 0;
    json tags = json::array();
    json config_in = json::object();
    json dependencies = json::object();  // as given (echoed)
    ResolvedDependencyMap resolved;
    std::shared_ptr<AbstractComponent> component;
};

// Thrown while resolving when a local provider a dependency names does not exist (yet).
struct Unresolved {
    std::string message;
};

class ServerImpl : public std::enable_shared_from_this<ServerImpl> {
  public:
    ServerOptions opts;
    std::vector<margo::Engine> engines;
    bool margo_is_array = false;
    uint16_t bedrock_id = 0;
    std::string bedrock_pool;
    double dep_timeout = 30.0;
    std::vector<std::string> libraries;
    std::vector<std::string> rank_addresses;  // index = MPI rank (when under MPI)
    std::vector<std::shared_ptr<ProviderEntry>> providers;
    mutable boost::fibers::mutex mutex;  // fiber-aware: held across provider creation
    // Guards the `providers` vector itself (writers hold both), so that remote lookups can be
    // answered while a long operation (a provider waiting on a remote one) holds `mutex`.
    mutable std::mutex list_mutex;
    std::vector<uint64_t> rpcs;
    // Explicit ids of the providers being created, which auto-assignment must not take.
    std::set<std::pair<int, long long>> reserved_ids;

    void start(const std::string& address, const std::string& config_text);
    json effective_config() const;
    void load_library(const std::string& path);
    // Creates the providers of `descs` (normalized), in dependency order. Caller holds mutex.
    std::vector<uint16_t> create_providers(const json& descs, const std::string& path_prefix);
    std::shared_ptr<ProviderEntry> create_provider(const json& desc, const std::string& path);
    ResolvedDependencyMap resolve_dependencies(const json& desc, const std::vector<Dependency>& declared,
                                               const std::string& path, int engine);
    ResolvedDependency resolve_one(const Dependency& d, const json& ref, const std::string& path, int engine);
    std::shared_ptr<ProviderEntry> find_local(const std::string& spec) const;
    ProviderInfo lookup(const std::string& spec, double timeout_s) const;
    ProviderInfo remote_lookup(const std::string& local_spec, const std::string& loc, double timeout_s) const;
    std::string location_address(const std::string& loc, const std::string& path) const;
    uint16_t free_provider_id(int engine) const;
    json pools_of(int engine) const;
    void remove_provider_locked(const std::string& name);
    void register_rpcs();
    void teardown();
};

namespace {

ProviderInfo info_of(const ProviderEntry& p) { return {p.name, p.type, p.provider_id, p.engine}; }

json parse_json_arg(const std::string& text, const std::string& what) {
    try {
        return json::parse(text.empty() ? "{}" : text);
    } catch (const json::exception& e) {
        throw Exception("invalid JSON for " + what + ": " + e.what());
    }
}

// "type:id" -> (type, id), or false.
bool split_type_id(const std::string& s, std::string& type, uint16_t& id) {
    auto c = s.find(':');
    if (c == std::string::npos || c == 0 || c + 1 >= s.size()) return false;
    std::string num = s.substr(c + 1);
    for (char ch : num)
        if (!std::isdigit(static_cast<unsigned char>(ch))) return false;
    long v = std::stol(num);
    if (v > 65535) return false;
    type = s.substr(0, c);
    id = static_cast<uint16_t>(v);
    return true;
}

// Splits "spec@location"; a '@' inside an address ("ofi+tcp://...") never appears before the first '@'.
void split_location(const std::string& s, std::string& local, std::string& loc) {
    auto at = s.find('@');
    if (at == std::string::npos) { local = s; loc.clear(); return; }
    local = s.substr(0, at);
    loc = s.substr(at + 1);
}

}  // namespace

json ServerImpl::pools_of(int engine) const {
    json cfg = json::parse(engines.at(engine).config());
    return cfg["argobots"];
}

uint16_t ServerImpl::free_provider_id(int engine) const {
    for (uint32_t id = 0; id < 65535; ++id) {
        if (engine == 0 && id == bedrock_id) continue;
        bool used = reserved_ids.count({engine, static_cast<long long>(id)}) > 0;
        for (auto& p : providers) used |= p->engine == engine && p->provider_id == id;
        if (!used) return static_cast<uint16_t>(id);
    }
    throw Exception("no free provider id left");
}

std::shared_ptr<ProviderEntry> ServerImpl::find_local(const std::string& spec) const {
    std::string type;
    uint16_t id;
    bool typed = split_type_id(spec, type, id);
    for (auto& p : providers) {
        if (typed && p->type == type && p->provider_id == id) return p;
        if (!typed && p->name == spec) return p;
    }
    return nullptr;
}

std::string ServerImpl::location_address(const std::string& loc, const std::string& path) const {
    if (loc.empty() || loc == "local") return "";
    bool numeric = !loc.empty();
    for (char c : loc) numeric &= std::isdigit(static_cast<unsigned char>(c)) != 0;
    if (!numeric) return loc;
    int rank = std::stoi(loc);
    if (rank == opts.rank) return "";
    if (rank < 0 || rank >= static_cast<int>(rank_addresses.size()))
        config_error(path, "MPI rank " + loc + " does not exist (world size " + std::to_string(opts.size) + ")", json(loc));
    return rank_addresses[rank];
}

ProviderInfo ServerImpl::remote_lookup(const std::string& local_spec, const std::string& address,
                                       double timeout_s) const {
    auto& engine = engines[0];
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    std::string last_error;
    for (;;) {
        try {
            auto resp = engine.forward(engine.lookup(address), "bedrock_lookup_provider",
                                       json{{"spec", local_spec}}.dump(), bedrock_id, 5000);
            json out = json::parse(resp.output());
            if (out.value("ok", false)) {
                auto& r = out["result"];
                return {r["name"], r["type"], r["provider_id"].get<uint16_t>(), 0};
            }
            last_error = out.value("error", std::string("lookup failed"));
        } catch (const std::exception& e) {
            last_error = e.what();
        }
        if (std::chrono::steady_clock::now() >= deadline)
            throw Exception("could not find provider \"" + local_spec + "\" at " + address + ": " + last_error);
        engine.sleep(50);
    }
}

ProviderInfo ServerImpl::lookup(const std::string& spec, double timeout_s) const {
    std::string local, loc;
    split_location(spec, local, loc);
    std::string address = location_address(loc, "lookup");
    if (!address.empty()) return remote_lookup(local, address, timeout_s);
    auto p = find_local(local);
    if (!p) throw Exception("no provider \"" + local + "\" in this server");
    return info_of(*p);
}

ResolvedDependency ServerImpl::resolve_one(const Dependency& d, const json& ref, const std::string& path, int engine) {
    ResolvedDependency r;
    r.type = d.type;
    if (d.type == "pool" || d.type == "xstream") {
        json abt = pools_of(engine);
        const json& list = abt[d.type == "pool" ? "pools" : "xstreams"];
        if (ref.is_number_integer()) {
            long long i = ref.get<long long>();
            if (i < 0 || i >= static_cast<long long>(list.size()))
                config_error(path, "no " + d.type + " with this index", ref);
            r.name = list[i]["name"];
        } else {
            std::string n = ref.get<std::string>();
            bool found = false;
            for (auto& x : list) found |= x.value("name", "") == n;
            if (!found) config_error(path, "no " + d.type + " with this name", ref);
            r.name = n;
        }
        r.spec = r.name;
        return r;
    }
    if (!ref.is_string()) config_error(path, "expected a provider reference (\"name\", \"type:id\", \"...@address\")", ref);
    r.spec = ref.get<std::string>();
    std::string local, loc;
    split_location(r.spec, local, loc);
    std::string address = location_address(loc, path);
    std::string type;
    uint16_t id;
    bool typed = split_type_id(local, type, id);
    if (typed && type != d.type)
        config_error(path, "dependency \"" + d.name + "\" needs a provider of type \"" + d.type + "\"", ref);
    if (!address.empty()) {
        r.address = address;
        if (typed) {
            r.provider_id = id;
        } else {
            auto info = remote_lookup(local, address, dep_timeout);
            if (info.type != d.type)
                config_error(path, "provider \"" + local + "\" at " + address + " has type \"" + info.type +
                                       "\", dependency \"" + d.name + "\" needs \"" + d.type + "\"",
                             ref);
            r.name = info.name;
            r.provider_id = info.provider_id;
        }
        return r;
    }
    auto p = find_local(local);
    if (!p) throw Unresolved{"bedrock config: " + path + ": no local provider \"" + local + "\", got " + ref.dump()};
    if (p->type != d.type)
        config_error(path, "provider \"" + p->name + "\" has type \"" + p->type + "\", dependency \"" + d.name +
                               "\" needs \"" + d.type + "\"",
                     ref);
    r.name = p->name;
    r.provider_id = p->provider_id;
    r.component = p->component;
    return r;
}

ResolvedDependencyMap ServerImpl::resolve_dependencies(const json& desc, const std::vector<Dependency>& declared,
                                                       const std::string& path, int engine) {
    ResolvedDependencyMap out;
    const json& given = desc["dependencies"];
    for (auto& kv : given.items()) {
        bool known = false;
        for (auto& d : declared) known |= d.name == kv.key();
        if (!known) {
            std::string names;
            for (auto& d : declared) names += (names.empty() ? "" : ", ") + d.name;
            config_error(path + ".dependencies." + kv.key(),
                         "type \"" + desc["type"].get<std::string>() + "\" has no such dependency (it has: " +
                             (names.empty() ? std::string("none") : names) + ")",
                         kv.value());
        }
    }
    for (auto& d : declared) {
        std::string dp = path + ".dependencies." + d.name;
        auto it = given.find(d.name);
        if (it == given.end()) {
            if (d.is_required) config_error(dp, "missing required dependency (type \"" + d.type + "\")");
            continue;
        }
        json refs = it->is_array() ? *it : json::array({*it});
        if (!d.is_array && refs.size() != 1) config_error(dp, "this dependency takes exactly one reference", *it);
        if (d.is_required && refs.empty()) config_error(dp, "missing required dependency (type \"" + d.type + "\")", *it);
        auto& vec = out[d.name];
        for (size_t i = 0; i < refs.size(); ++i)
            vec.push_back(resolve_one(d, refs[i], it->is_array() ? dp + "[" + std::to_string(i) + "]" : dp, engine));
    }
    return out;
}

std::shared_ptr<ProviderEntry> ServerImpl::create_provider(const json& desc, const std::string& path) {
    std::string name = desc["name"];
    std::string type = desc["type"];
    if (find_local(name)) config_error(path + ".name", "a provider with this name already exists", desc["name"]);
    int engine = desc["engine"].get<int>();
    if (engine >= static_cast<int>(engines.size()))
        config_error(path + ".engine", "no such engine (there are " + std::to_string(engines.size()) + ")", desc["engine"]);
    long long id = desc["provider_id"];
    if (id != 65535) {
        if (engine == 0 && id == bedrock_id)
            config_error(path + ".provider_id", "this id is bedrock's own provider id", desc["provider_id"]);
        for (auto& p : providers)
            if (p->engine == engine && p->provider_id == id)
                config_error(path + ".provider_id", "provider \"" + p->name + "\" already uses this id", desc["provider_id"]);
    }
    ComponentType ct;
    try {
        ct = kinako::bedrock::find_component_type(type);
    } catch (const Exception& e) {
        config_error(path + ".type", e.what(), desc["type"]);
    }
    ComponentArgs args;
    args.engine = engines[engine];
    args.name = name;
    args.type = type;
    args.provider_id = id == 65535 ? free_provider_id(engine) : static_cast<uint16_t>(id);
    for (auto& t : desc["tags"]) args.tags.push_back(t);
    // A provider config may itself be rank-indexed ([cfg_rank0, cfg_rank1, ...]).
    json cfg = desc["config"];
    args.config = cfg.dump();
    args.engine_index = engine;
    args.rank = opts.rank;
    args.size = opts.size;
    // Engine 0's addresses were gathered at startup: reuse them rather than another collective.
    if (opts.allgather && engine == 0) {
        auto addrs = rank_addresses;
        args.allgather = [addrs](const std::string&) { return addrs; };
    } else {
        args.allgather = opts.allgather;
    }
    std::vector<Dependency> declared;
    try {
        declared = ct.get_dependencies(args);
    } catch (const std::exception& e) {
        config_error(path, std::string("type \"") + type + "\" rejected its arguments: " + e.what(), cfg);
    }
    args.dependencies = resolve_dependencies(desc, declared, path, engine);
    auto entry = std::make_shared<ProviderEntry>();
    try {
        entry->component = ct.create(args);
    } catch (const std::exception& e) {
        config_error(path + ".config", std::string("provider \"") + name + "\" (type " + type + ") failed to start: " + e.what(),
                     cfg);
    }
    if (!entry->component) config_error(path, "component type \"" + type + "\" returned no provider");
    entry->name = name;
    entry->type = type;
    entry->provider_id = args.provider_id;
    entry->engine = engine;
    entry->tags = desc["tags"];
    entry->config_in = cfg;
    entry->dependencies = desc["dependencies"];
    entry->resolved = args.dependencies;
    {
        std::lock_guard<std::mutex> l(list_mutex);
        providers.push_back(entry);
    }
    return entry;
}

std::vector<uint16_t> ServerImpl::create_providers(const json& descs, const std::string& path_prefix) {
    std::vector<size_t> pending;
    for (size_t i = 0; i < descs.size(); ++i) pending.push_back(i);
    std::map<size_t, uint16_t> ids;
    reserved_ids.clear();
    for (auto& d : descs)
        if (d["provider_id"].get<long long>() != 65535)
            reserved_ids.insert({d["engine"].get<int>(), d["provider_id"].get<long long>()});
    struct Clear {
        std::set<std::pair<int, long long>>& r;
        ~Clear() { r.clear(); }
    } clear_reserved{reserved_ids};
    while (!pending.empty()) {
        std::vector<size_t> next;
        std::string first_unresolved;
        for (size_t i : pending) {
            std::string path = descs.size() == 1 && path_prefix == "provider" ? path_prefix
                                                                               : path_prefix + "[" + std::to_string(i) + "]";
            try {
                ids[i] = create_provider(descs[i], path)->provider_id;
            } catch (const Unresolved& u) {
                if (first_unresolved.empty()) first_unresolved = u.message;
                next.push_back(i);
            }
        }
        if (next.size() == pending.size()) throw Exception(first_unresolved);
        pending.swap(next);
    }
    std::vector<uint16_t> out;
    for (auto& kv : ids) out.push_back(kv.second);
    return out;
}

json ServerImpl::effective_config() const {
    json margo_cfg = json::array();
    for (auto& e : engines) margo_cfg.push_back(json::parse(e.config()));
    json provs = json::array();
    for (auto& p : providers) {
        json cfg;
        try {
            cfg = json::parse(p->component->getConfig());
        } catch (...) {
            cfg = p->config_in;
        }
        provs.push_back({{"name", p->name}, {"type", p->type}, {"provider_id", p->provider_id}, {"tags", p->tags},
                         {"config", cfg}, {"dependencies", p->dependencies}, {"engine", p->engine}});
    }
    return {{"margo", margo_is_array ? margo_cfg : margo_cfg[0]},
            {"bedrock", {{"pool", bedrock_pool}, {"provider_id", bedrock_id},
                         {"dependency_resolution_timeout", dep_timeout}}},
            {"libraries", libraries},
            {"providers", provs}};
}

void ServerImpl::load_library(const std::string& path) {
    kinako::bedrock::load_library(path);
    for (auto& l : libraries)
        if (l == path) return;
    libraries.push_back(path);
}

void ServerImpl::remove_provider_locked(const std::string& name) {
    auto p = find_local(name);
    if (!p) throw Exception("no provider \"" + name + "\" in this server");
    for (auto& q : providers)
        for (auto& kv : q->resolved)
            for (auto& r : kv.second)
                if (r.is_local() && r.component == p->component && q != p)
                    throw Exception("provider \"" + name + "\" cannot be removed: provider \"" + q->name +
                                    "\" depends on it");
    {
        std::lock_guard<std::mutex> l(list_mutex);
        for (auto it = providers.begin(); it != providers.end(); ++it)
            if (*it == p) { providers.erase(it); break; }
    }
    p->component.reset();
}

void ServerImpl::teardown() {
    std::lock_guard<boost::fibers::mutex> lock(mutex);
    // Reverse creation order: dependents go before what they depend on.
    while (!providers.empty()) {
        std::shared_ptr<ProviderEntry> p;
        {
            std::lock_guard<std::mutex> l(list_mutex);
            p = providers.back();
            providers.pop_back();
        }
        p->resolved.clear();
        p->component.reset();
    }
}

void ServerImpl::start(const std::string& address, const std::string& config_text) {
    json cfg = kinako::bedrock::preprocess(config_text, opts);
    json v = kinako::bedrock::validate_config(cfg);
    margo_is_array = v["margo_is_array"];
    // Engines: the first one's protocol comes from its mercury.address, else the CLI address.
    std::string base_address = address;
    for (size_t i = 0; i < v["margo"].size(); ++i) {
        json m = v["margo"][i];
        std::string path = margo_is_array ? "margo[" + std::to_string(i) + "]" : "margo";
        std::string addr = base_address;
        if (m.contains("mercury") && m["mercury"].is_object() && m["mercury"].contains("address")) {
            if (!m["mercury"]["address"].is_string())
                config_error(path + ".mercury.address", "expected an address string", m["mercury"]["address"]);
            addr = m["mercury"]["address"];
            m["mercury"].erase("address");
        }
        if (m.contains("mercury") && m["mercury"].is_object()) m["mercury"].erase("listening");
        if (addr.empty()) config_error(path + ".mercury.address", "no address: give one on the command line or here");
        // Unlike Bedrock (where child engines share engine 0's Argobots pools), each kinako
        // engine runs its own pools and xstreams.
        try {
            engines.emplace_back(addr, margo::Mode::Server, m.dump());
        } catch (const std::invalid_argument& e) {
            throw Exception("bedrock config: " + path + ": " + e.what());
        } catch (const std::exception& e) {
            throw Exception("bedrock config: " + path + ": could not start an engine on \"" + addr + "\": " + e.what());
        }
        if (i == 0) base_address = addr;
    }
    auto b = kinako::bedrock::parse_bedrock_section(v["bedrock"]);
    bedrock_id = b.provider_id;
    dep_timeout = b.dependency_resolution_timeout;
    json abt = pools_of(0);
    json engine_cfg = json::parse(engines[0].config());
    if (b.pool.is_null()) {
        bedrock_pool = engine_cfg["rpc_pool"];
    } else if (b.pool.is_number_integer()) {
        long long i = b.pool.get<long long>();
        if (i < 0 || i >= static_cast<long long>(abt["pools"].size())) config_error("bedrock.pool", "no pool with this index", b.pool);
        bedrock_pool = abt["pools"][i]["name"];
    } else {
        bedrock_pool = b.pool;
        bool found = false;
        for (auto& p : abt["pools"]) found |= p.value("name", "") == bedrock_pool;
        if (!found) config_error("bedrock.pool", "no pool with this name", b.pool);
    }
    if (opts.allgather) rank_addresses = opts.allgather(engines[0].self().to_string());
    else rank_addresses = {engines[0].self().to_string()};
    for (size_t i = 0; i < v["libraries"].size(); ++i) {
        try {
            load_library(v["libraries"][i]);
        } catch (const Exception& e) {
            config_error("libraries[" + std::to_string(i) + "]", e.what(), v["libraries"][i]);
        }
    }
    register_rpcs();
    std::lock_guard<boost::fibers::mutex> lock(mutex);
    try {
        create_providers(v["providers"], "providers");
    } catch (...) {
        for (auto it = providers.rbegin(); it != providers.rend(); ++it) (*it)->component.reset();
        std::lock_guard<std::mutex> l(list_mutex);
        providers.clear();
        throw;
    }
}

void ServerImpl::register_rpcs() {
    auto& engine = engines[0];
    std::weak_ptr<ServerImpl> weak = shared_from_this();
    using Fn = std::function<json(ServerImpl&, const json&)>;
    auto def = [&](const std::string& name, Fn fn) {
        rpcs.push_back(engine.define(name, [weak, fn](const margo::Request& req) {
            auto self = weak.lock();
            if (!self) return req.respond_error(margo::Status::NoEntry);
            json out;
            try {
                json in = req.input().empty() ? json::object() : json::parse(req.input());
                out = {{"ok", true}, {"result", fn(*self, in)}};
            } catch (const std::exception& e) {
                out = {{"ok", false}, {"error", e.what()}};
            }
            req.respond(out.dump());
        }, bedrock_id, bedrock_pool));
    };
    def("bedrock_get_config", [](ServerImpl& s, const json&) {
        std::lock_guard<boost::fibers::mutex> lock(s.mutex);
        return s.effective_config();
    });
    def("bedrock_query_config", [](ServerImpl& s, const json& in) {
        json vars;
        {
            std::lock_guard<boost::fibers::mutex> lock(s.mutex);
            vars = kinako::bedrock::condition_vars(s.opts);
            vars["__config__"] = s.effective_config();
        }
        return kinako::bedrock::evaluate_script(in.value("script", std::string()), vars);
    });
    def("bedrock_load_module", [](ServerImpl& s, const json& in) {
        std::lock_guard<boost::fibers::mutex> lock(s.mutex);
        s.load_library(in.value("path", std::string()));
        return json(nullptr);
    });
    def("bedrock_start_provider", [](ServerImpl& s, const json& in) {
        json desc = kinako::bedrock::normalize_provider(kinako::bedrock::preprocess_value(in.value("description", json::object()), s.opts), "provider");
        std::lock_guard<boost::fibers::mutex> lock(s.mutex);
        return json(s.create_providers(json::array({desc}), "provider")[0]);
    });
    def("bedrock_lookup_provider", [](ServerImpl& s, const json& in) {
        ProviderInfo info;
        {
            std::lock_guard<std::mutex> lock(s.list_mutex);
            auto p = s.find_local(in.value("spec", std::string()));
            if (!p) throw Exception("no provider \"" + in.value("spec", std::string()) + "\" in this server");
            info = info_of(*p);
        }
        return json{{"name", info.name}, {"type", info.type}, {"provider_id", info.provider_id}};
    });
    def("bedrock_remove_provider", [](ServerImpl& s, const json& in) {
        std::lock_guard<boost::fibers::mutex> lock(s.mutex);
        s.remove_provider_locked(in.value("name", std::string()));
        return json(nullptr);
    });
    auto engine_op = [](void (margo::Engine::*op)(const std::string&) const, const char* key) {
        return [op, key](ServerImpl& s, const json& in) {
            std::lock_guard<boost::fibers::mutex> lock(s.mutex);
            const json& v = in.at(key);
            try {
                (s.engines[0].*op)(v.is_string() ? v.get<std::string>() : v.dump());
            } catch (const std::invalid_argument& e) {
                throw Exception(e.what());
            }
            return json(nullptr);
        };
    };
    def("bedrock_add_pool", engine_op(&margo::Engine::add_pool, "config"));
    def("bedrock_remove_pool", engine_op(&margo::Engine::remove_pool, "name"));
    def("bedrock_add_xstream", engine_op(&margo::Engine::add_xstream, "config"));
    def("bedrock_remove_xstream", engine_op(&margo::Engine::remove_xstream, "name"));
    engine.register_identity(bedrock_id, "bedrock");
    engine.enable_remote_shutdown();
    engine.push_prefinalize_callback([weak] {
        if (auto self = weak.lock()) self->teardown();
    });
}

}  // namespace detail

// ------------------------------------------------------------------------------ Server

Server::Server(const std::string& address, const std::string& config_json, const ServerOptions& options) {
    auto impl = std::make_shared<detail::ServerImpl>();
    impl->opts = options;
    try {
        impl->start(address, config_json);
    } catch (...) {
        for (auto it = impl->engines.rbegin(); it != impl->engines.rend(); ++it) {
            try { it->finalize(); } catch (...) {}
        }
        throw;
    }
    impl_ = std::move(impl);
}

Server::~Server() {
    if (!impl_) return;
    try {
        finalize();
    } catch (...) {
    }
}

margo::Engine Server::engine(int index) const { return impl_->engines.at(index); }
int Server::num_engines() const { return static_cast<int>(impl_->engines.size()); }

std::string Server::config() const {
    std::lock_guard<boost::fibers::mutex> lock(impl_->mutex);
    return impl_->effective_config().dump();
}

std::string Server::query(const std::string& script) const {
    json vars;
    {
        std::lock_guard<boost::fibers::mutex> lock(impl_->mutex);
        vars = kinako::bedrock::condition_vars(impl_->opts);
        vars["__config__"] = impl_->effective_config();
    }
    return kinako::bedrock::evaluate_script(script, vars).dump();
}

void Server::load_module(const std::string& path) {
    std::lock_guard<boost::fibers::mutex> lock(impl_->mutex);
    impl_->load_library(path);
}

uint16_t Server::add_provider(const std::string& descriptor_json) {
    json d = detail::parse_json_arg(descriptor_json, "the provider description");
    d = kinako::bedrock::preprocess_value(std::move(d), impl_->opts);
    json desc = kinako::bedrock::normalize_provider(d, "provider");
    std::lock_guard<boost::fibers::mutex> lock(impl_->mutex);
    return impl_->create_providers(json::array({desc}), "provider")[0];
}

void Server::remove_provider(const std::string& name) {
    std::lock_guard<boost::fibers::mutex> lock(impl_->mutex);
    impl_->remove_provider_locked(name);
}

std::vector<ProviderInfo> Server::providers() const {
    std::lock_guard<boost::fibers::mutex> lock(impl_->mutex);
    std::vector<ProviderInfo> out;
    for (auto& p : impl_->providers) out.push_back(detail::info_of(*p));
    return out;
}

ProviderInfo Server::lookup_provider(const std::string& spec, double timeout_s) const {
    std::string local, loc;
    detail::split_location(spec, local, loc);
    if (!loc.empty() && loc != "local") return impl_->lookup(spec, timeout_s);
    std::lock_guard<boost::fibers::mutex> lock(impl_->mutex);
    return impl_->lookup(spec, timeout_s);
}

void Server::change_provider_pool(const std::string& name, const std::string& pool) {
    std::lock_guard<boost::fibers::mutex> lock(impl_->mutex);
    auto p = impl_->find_local(name);
    if (!p) throw Exception("no provider \"" + name + "\" in this server");
    Dependency d{"pool", "pool", false, false, true};
    auto r = impl_->resolve_one(d, json(pool), "change_pool", p->engine);
    p->component->changeDependency("pool", {r});
    p->resolved["pool"] = {r};
    p->dependencies["pool"] = pool;
}

namespace {
// Runs a provider operation (migrate, snapshot, restore) outside the server lock; the
// component's own exceptions become bedrock ones that name the provider.
template <typename Op>
void on_component(detail::ServerImpl& impl, const std::string& name, const char* doing, Op&& op) {
    std::shared_ptr<AbstractComponent> c;
    {
        std::lock_guard<boost::fibers::mutex> lock(impl.mutex);
        auto p = impl.find_local(name);
        if (!p) throw Exception("no provider \"" + name + "\" in this server");
        c = p->component;
    }
    try {
        op(*c);
    } catch (const Exception&) {
        throw;
    } catch (const std::exception& e) {
        throw Exception(std::string(doing) + " provider \"" + name + "\" failed: " + e.what());
    }
}
}  // namespace

void Server::migrate_provider(const std::string& name, const std::string& dest_addr, uint16_t dest_provider_id,
                              const std::string& options_json, bool remove_source) {
    on_component(*impl_, name, "migrating", [&](AbstractComponent& c) {
        c.migrate(dest_addr, dest_provider_id, options_json, remove_source);
    });
}

void Server::snapshot_provider(const std::string& name, const std::string& dest_path, const std::string& options_json,
                               bool remove_source) {
    on_component(*impl_, name, "snapshotting", [&](AbstractComponent& c) {
        c.snapshot(dest_path, options_json, remove_source);
    });
}

void Server::restore_provider(const std::string& name, const std::string& src_path, const std::string& options_json) {
    on_component(*impl_, name, "restoring",
                 [&](AbstractComponent& c) { c.restore(src_path, options_json); });
}

namespace {
template <typename F>
void engine_call(F&& f) {
    try {
        f();
    } catch (const std::invalid_argument& e) {
        throw Exception(e.what());
    }
}
}  // namespace

void Server::add_pool(const std::string& pool_json) {
    std::lock_guard<boost::fibers::mutex> lock(impl_->mutex);
    engine_call([&] { impl_->engines[0].add_pool(pool_json); });
}
void Server::remove_pool(const std::string& name) {
    std::lock_guard<boost::fibers::mutex> lock(impl_->mutex);
    engine_call([&] { impl_->engines[0].remove_pool(name); });
}
void Server::add_xstream(const std::string& xstream_json) {
    std::lock_guard<boost::fibers::mutex> lock(impl_->mutex);
    engine_call([&] { impl_->engines[0].add_xstream(xstream_json); });
}
void Server::remove_xstream(const std::string& name) {
    std::lock_guard<boost::fibers::mutex> lock(impl_->mutex);
    engine_call([&] { impl_->engines[0].remove_xstream(name); });
}

void Server::finalize() {
    // Children first; engine 0's prefinalize callback tears the providers down.
    for (size_t i = impl_->engines.size(); i-- > 1;)
        if (!impl_->engines[i].finalized()) {
            impl_->teardown();
            impl_->engines[i].finalize();
        }
    if (!impl_->engines[0].finalized()) impl_->engines[0].finalize();
}

void Server::wait_for_finalize() {
    impl_->engines[0].wait_for_finalize();
    for (size_t i = 1; i < impl_->engines.size(); ++i)
        if (!impl_->engines[i].finalized()) impl_->engines[i].finalize();
}

}  // namespace mochi::bedrock
