// Margo JSON configuration: validation, defaults and the pool/xstream layout it describes.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace kinako::margo {

struct PoolSpec {
    std::string name, kind, access;
};
struct XstreamSpec {
    std::string name;
    std::vector<size_t> pools;  // indices into EngineConfig::pools, in priority order
};

struct EngineConfig {
    nlohmann::json json;  // the complete effective config (what engine.config returns)
    std::vector<PoolSpec> pools;
    std::vector<XstreamSpec> xstreams;
    size_t progress_pool = 0;
    size_t rpc_pool = 0;
    size_t stack_size = 2097152;
    double spindown_ms = 10;
    double timeout_ub_ms = 100;
    size_t eager_size = 65536;    // bytes of one pre-posted receive buffer
    size_t recv_buffers = 32;     // receives kept posted
};

// Builds the effective config. `use_progress_thread`/`rpc_thread_count` are applied only when
// the JSON does not set them (as margo_init_ext does). Throws std::invalid_argument with a
// message naming the bad key and value.
EngineConfig make_engine_config(const std::string& json_text, bool use_progress_thread, int rpc_thread_count);

// Checks one new argobots.pools / argobots.xstreams entry against the current argobots
// section (names unique, pools of an xstream exist) and completes it in place.
PoolSpec check_new_pool(nlohmann::json& pool, const nlohmann::json& current_abt);
XstreamSpec check_new_xstream(nlohmann::json& xstream, const nlohmann::json& current_abt);

}  // namespace kinako::margo
