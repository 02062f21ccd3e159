#include "config.hpp"

#include <set>
#include <stdexcept>

namespace kinako::margo {

using nlohmann::json;

namespace {

[[noreturn]] void bad(const std::string& key, const json& value, const std::string& why) {
    throw std::invalid_argument("invalid margo config: \"" + key + "\" = " + value.dump() + ": " + why);
}

template <typename T>
T get_or(json& obj, const std::string& key, const T& def, const std::string& path) {
    if (!obj.contains(key)) {
        obj[key] = def;
        return def;
    }
    const json& v = obj[key];
    if constexpr (std::is_same_v<T, bool>) {
        if (!v.is_boolean()) bad(path + key, v, "expected a boolean");
    } else if constexpr (std::is_arithmetic_v<T>) {
        if (!v.is_number()) bad(path + key, v, "expected a number");
    } else {
        if (!v.is_string()) bad(path + key, v, "expected a string");
    }
    return v.get<T>();
}

const std::set<std::string> kPoolKinds = {"fifo", "fifo_wait", "prio_wait", "earliest_first", "external"};
const std::set<std::string> kPoolAccess = {"private", "spsc", "mpsc", "spmc", "mpmc"};
const std::set<std::string> kSchedTypes = {"default", "basic", "prio", "randws", "basic_wait"};

// Resolves a pool reference (name or index) to an index.
size_t pool_ref(const json& ref, const std::vector<PoolSpec>& pools, const std::string& path) {
    if (ref.is_number_integer()) {
        auto i = ref.get<long long>();
        if (i < 0 || static_cast<size_t>(i) >= pools.size()) bad(path, ref, "no pool with this index");
        return static_cast<size_t>(i);
    }
    if (ref.is_string()) {
        for (size_t i = 0; i < pools.size(); i++)
            if (pools[i].name == ref.get<std::string>()) return i;
        bad(path, ref, "no pool with this name");
    }
    bad(path, ref, "expected a pool name or index");
}

void parse_pools(json& abt, EngineConfig& cfg) {
    json& pools = abt["pools"];
    if (!pools.is_array()) bad("argobots.pools", pools, "expected an array");
    std::set<std::string> names;
    for (size_t i = 0; i < pools.size(); i++) {
        json& p = pools[i];
        std::string path = "argobots.pools[" + std::to_string(i) + "].";
        if (!p.is_object()) bad("argobots.pools[" + std::to_string(i) + "]", p, "expected an object");
        std::string name = p.contains("name") ? get_or<std::string>(p, "name", "", path)
                                              : "__pool_" + std::to_string(i) + "__";
        p["name"] = name;
        std::string kind = get_or<std::string>(p, "kind", "fifo_wait", path);
        std::string access = get_or<std::string>(p, "access", "mpmc", path);
        if (!kPoolKinds.count(kind)) bad(path + "kind", p["kind"], "unknown pool kind");
        if (!kPoolAccess.count(access)) bad(path + "access", p["access"], "unknown pool access");
        if (!names.insert(name).second) bad(path + "name", p["name"], "duplicate pool name");
        cfg.pools.push_back({name, kind, access});
    }
}

void parse_xstreams(json& abt, EngineConfig& cfg) {
    json& xss = abt["xstreams"];
    if (!xss.is_array()) bad("argobots.xstreams", xss, "expected an array");
    std::set<std::string> names;
    for (size_t i = 0; i < xss.size(); i++) {
        json& x = xss[i];
        std::string path = "argobots.xstreams[" + std::to_string(i) + "].";
        if (!x.is_object()) bad("argobots.xstreams[" + std::to_string(i) + "]", x, "expected an object");
        std::string name = x.contains("name") ? get_or<std::string>(x, "name", "", path)
                                              : "__xstream_" + std::to_string(i) + "__";
        x["name"] = name;
        if (!names.insert(name).second) bad(path + "name", x["name"], "duplicate xstream name");
        if (x.contains("cpubind") && !x["cpubind"].is_number_integer()) bad(path + "cpubind", x["cpubind"], "expected an integer");
        if (x.contains("affinity") && !x["affinity"].is_array()) bad(path + "affinity", x["affinity"], "expected an array");
        if (!x.contains("scheduler")) bad(path + "scheduler", json(), "missing");
        json& s = x["scheduler"];
        if (!s.is_object()) bad(path + "scheduler", s, "expected an object");
        std::string type = get_or<std::string>(s, "type", "basic_wait", path + "scheduler.");
        if (!kSchedTypes.count(type)) bad(path + "scheduler.type", s["type"], "unknown scheduler type");
        if (!s.contains("pools") || !s["pools"].is_array() || s["pools"].empty())
            bad(path + "scheduler.pools", s.value("pools", json()), "expected a non-empty array");
        XstreamSpec spec{name, {}};
        for (size_t j = 0; j < s["pools"].size(); j++) {
            size_t idx = pool_ref(s["pools"][j], cfg.pools, path + "scheduler.pools[" + std::to_string(j) + "]");
            spec.pools.push_back(idx);
            s["pools"][j] = cfg.pools[idx].name;  // the echo names pools, whatever the input used
        }
        cfg.xstreams.push_back(spec);
    }
}

json make_pool(const std::string& name) {
    return {{"name", name}, {"kind", "fifo_wait"}, {"access", "mpmc"}};
}
json make_xstream(const std::string& name, const std::string& pool) {
    return {{"name", name}, {"scheduler", {{"type", "basic_wait"}, {"pools", json::array({pool})}}}};
}

}  // namespace

PoolSpec check_new_pool(json& pool, const json& current_abt) {
    json abt = {{"pools", current_abt.value("pools", json::array())}};
    if (!pool.is_object()) bad("pool", pool, "expected an object");
    abt["pools"].push_back(pool);
    EngineConfig tmp;
    parse_pools(abt, tmp);
    pool = abt["pools"].back();
    return tmp.pools.back();
}

XstreamSpec check_new_xstream(json& xstream, const json& current_abt) {
    if (!xstream.is_object()) bad("xstream", xstream, "expected an object");
    if (!xstream.contains("name")) bad("xstream.name", json(), "missing");
    for (auto& x : current_abt.value("xstreams", json::array()))
        if (x.value("name", "") == xstream["name"]) bad("xstream.name", xstream["name"], "duplicate xstream name");
    if (!xstream.contains("scheduler")) xstream["scheduler"] = {{"type", "basic_wait"}, {"pools", json::array({"__primary__"})}};
    json abt = {{"pools", current_abt.value("pools", json::array())}, {"xstreams", json::array({xstream})}};
    EngineConfig tmp;
    parse_pools(abt, tmp);
    parse_xstreams(abt, tmp);
    xstream = abt["xstreams"].back();
    return tmp.xstreams.back();
}

EngineConfig make_engine_config(const std::string& json_text, bool use_progress_thread, int rpc_thread_count) {
    EngineConfig cfg;
    json j = json::object();
    if (!json_text.empty()) {
        try {
            j = json::parse(json_text);
        } catch (const json::parse_error& e) {
            throw std::invalid_argument(std::string("invalid margo config: malformed JSON: ") + e.what());
        }
        if (j.is_null()) j = json::object();
        if (!j.is_object()) bad("<root>", j, "expected a JSON object");
    }
    cfg.timeout_ub_ms = get_or<double>(j, "progress_timeout_ub_msec", 100, "");
    cfg.spindown_ms = get_or<double>(j, "progress_spindown_msec", 10, "");
    get_or<int>(j, "handle_cache_size", 32, "");
    get_or<bool>(j, "enable_profiling", false, "");
    get_or<bool>(j, "enable_diagnostics", false, "");
    get_or<bool>(j, "enable_abt_profiling", false, "");
    get_or<int>(j, "profile_sparkline_timeslice_msec", 1000, "");
    if (cfg.spindown_ms < 0) bad("progress_spindown_msec", j["progress_spindown_msec"], "must be >= 0");
    if (cfg.timeout_ub_ms <= 0) bad("progress_timeout_ub_msec", j["progress_timeout_ub_msec"], "must be > 0");

    bool has_upt = j.contains("use_progress_thread");
    bool has_rtc = j.contains("rpc_thread_count");
    bool upt = has_upt ? get_or<bool>(j, "use_progress_thread", false, "") : (json_text.empty() && use_progress_thread);
    int rtc = has_rtc ? get_or<int>(j, "rpc_thread_count", 0, "") : (json_text.empty() ? rpc_thread_count : 0);

    if (!j.contains("mercury")) j["mercury"] = json::object();
    json& hg = j["mercury"];
    if (!hg.is_object()) bad("mercury", hg, "expected an object");
    get_or<int>(hg, "request_post_init", 256, "mercury.");
    get_or<int>(hg, "request_post_incr", 256, "mercury.");
    for (const char* k : {"auto_sm", "no_bulk_eager", "no_loopback", "stats", "na_no_block", "na_no_retry"})
        get_or<bool>(hg, k, false, "mercury.");
    get_or<int>(hg, "max_contexts", 1, "mercury.");
    cfg.eager_size = get_or<size_t>(hg, "eager_size", 65536, "mercury.");
    cfg.recv_buffers = get_or<size_t>(hg, "recv_buffers", 32, "mercury.");
    if (cfg.eager_size < 256) bad("mercury.eager_size", hg["eager_size"], "must be >= 256");
    if (cfg.recv_buffers < 1) bad("mercury.recv_buffers", hg["recv_buffers"], "must be >= 1");

    if (!j.contains("argobots")) j["argobots"] = json::object();
    json& abt = j["argobots"];
    if (!abt.is_object()) bad("argobots", abt, "expected an object");
    get_or<int>(abt, "abt_mem_max_num_stacks", 8, "argobots.");
    cfg.stack_size = get_or<size_t>(abt, "abt_thread_stacksize", 2097152, "argobots.");
    if (cfg.stack_size < 16384) bad("argobots.abt_thread_stacksize", abt["abt_thread_stacksize"], "must be >= 16384");
    get_or<bool>(abt, "lazy_stack_alloc", false, "argobots.");
    get_or<std::string>(abt, "profiling_dir", ".", "argobots.");
    abt["version"] = "kinako-boost-fiber";
    if (!abt.contains("pools")) abt["pools"] = json::array();
    if (!abt.contains("xstreams")) abt["xstreams"] = json::array();
    bool user_pools = !abt["pools"].empty();

    // The shortcuts build pools and xstreams the way margo does, after the primary ones.
    if (!user_pools) {
        abt["pools"].push_back(make_pool("__primary__"));
        if (abt["xstreams"].empty()) abt["xstreams"].push_back(make_xstream("__primary__", "__primary__"));
        int pool_n = 1, xs_n = 1;
        std::string progress_pool = "__primary__", rpc_pool = "__primary__";
        if (upt) {
            progress_pool = "__pool_" + std::to_string(pool_n++) + "__";
            abt["pools"].push_back(make_pool(progress_pool));
            abt["xstreams"].push_back(make_xstream("__xstream_" + std::to_string(xs_n++) + "__", progress_pool));
        }
        if (rtc > 0) {
            rpc_pool = "__pool_" + std::to_string(pool_n++) + "__";
            abt["pools"].push_back(make_pool(rpc_pool));
            for (int i = 0; i < rtc; i++)
                abt["xstreams"].push_back(make_xstream("__xstream_" + std::to_string(xs_n++) + "__", rpc_pool));
        } else if (rtc < 0) {
            rpc_pool = progress_pool;
        }
        if (!j.contains("progress_pool")) j["progress_pool"] = progress_pool;
        if (!j.contains("rpc_pool")) j["rpc_pool"] = rpc_pool;
    }
    parse_pools(abt, cfg);
    // margo always has a __primary__ pool and xstream.
    bool has_primary_pool = false;
    for (auto& p : cfg.pools) has_primary_pool |= p.name == "__primary__";
    if (!has_primary_pool) {
        abt["pools"].push_back(make_pool("__primary__"));
        cfg.pools.push_back({"__primary__", "fifo_wait", "mpmc"});
    }
    bool has_primary_xs = false;
    for (auto& x : abt["xstreams"]) has_primary_xs |= x.is_object() && x.value("name", "") == "__primary__";
    if (!has_primary_xs) abt["xstreams"].insert(abt["xstreams"].begin(), make_xstream("__primary__", "__primary__"));
    parse_xstreams(abt, cfg);

    if (!j.contains("progress_pool")) j["progress_pool"] = "__primary__";
    if (!j.contains("rpc_pool")) j["rpc_pool"] = "__primary__";
    cfg.progress_pool = pool_ref(j["progress_pool"], cfg.pools, "progress_pool");
    cfg.rpc_pool = pool_ref(j["rpc_pool"], cfg.pools, "rpc_pool");
    j["progress_pool"] = cfg.pools[cfg.progress_pool].name;
    j["rpc_pool"] = cfg.pools[cfg.rpc_pool].name;
    // A pool that no xstream runs would hold its work forever.
    for (size_t idx : {cfg.progress_pool, cfg.rpc_pool}) {
        bool served = false;
        for (auto& x : cfg.xstreams)
            for (size_t p : x.pools) served |= p == idx;
        if (!served) bad(idx == cfg.progress_pool ? "progress_pool" : "rpc_pool", j[idx == cfg.progress_pool ? "progress_pool" : "rpc_pool"], "no xstream runs this pool");
    }
    j["use_progress_thread"] = upt;
    j["rpc_thread_count"] = rtc;
    if (!j.contains("plumber")) j["plumber"] = {{"bucket_policy", "package"}, {"nic_policy", "roundrobin"}};
    cfg.json = j;
    return cfg;
}

}  // namespace kinako::margo
