// Bedrock config processing: preprocessing ("__if__", dotted keys, rank-indexed arrays) and
// the schema checks of the margo/bedrock/libraries/providers sections.
#pragma once

#include <mochi/bedrock/server.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace kinako::bedrock {

using nlohmann::json;

// Throws mochi::bedrock::Exception("<path>: <problem>, got <value>").
[[noreturn]] void config_error(const std::string& path, const std::string& problem, const json& value);
[[noreturn]] void config_error(const std::string& path, const std::string& problem);

// Variables for "__if__": $MPI_COMM_WORLD {rank,size}, $__rank__, $__size__ plus the context.
json condition_vars(const mochi::bedrock::ServerOptions& opts);

// Parses the text, picks this rank's entry of a rank-indexed array, drops "__if__"-false
// objects and expands dotted keys. Returns an object.
json preprocess(const std::string& text, const mochi::bedrock::ServerOptions& opts);
// Same, for an already parsed value (used by add_provider, add_pool...).
json preprocess_value(json value, const mochi::bedrock::ServerOptions& opts);

struct BedrockSection {
    json pool;  // string or index; null = rpc pool
    uint16_t provider_id = 0;
    double dependency_resolution_timeout = 30.0;
};

// Checks a whole preprocessed config (structure only) and fills defaults; returns
// {"margo": [...engines...], "margo_is_array": bool, "bedrock": {...}, "libraries": [...], "providers": [...]}.
json validate_config(const json& cfg);
BedrockSection parse_bedrock_section(const json& b);
std::vector<std::string> parse_libraries(const json& libs, const std::string& path);
// One provider descriptor, normalized: name, type, provider_id (65535 = auto), tags, config, dependencies, engine.
json normalize_provider(const json& p, const std::string& path);

}  // namespace kinako::bedrock
