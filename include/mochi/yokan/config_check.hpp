// Small helpers backends use to read their JSON config, so every bad key gets the same kind
// of message: Exception(InvalidConfig, "<type>: \"<key>\" must be <kind>, got <value>").
#pragma once

#include <mochi/yokan/common.hpp>
#include <nlohmann/json.hpp>

#include <string>

namespace mochi::yokan::config {

inline void fail(const std::string& owner, const std::string& key, const char* kind, const nlohmann::json& got) {
    throw Exception(Status::InvalidConfig,
                    owner + ": \"" + key + "\" must be " + kind + ", got " + got.dump());
}

// Requires an object (null counts as {}); returns it.
inline nlohmann::json object_or_empty(const std::string& owner, const nlohmann::json& cfg) {
    if (cfg.is_null()) return nlohmann::json::object();
    if (!cfg.is_object()) fail(owner, "config", "an object", cfg);
    return cfg;
}

// Reads cfg[key] as T, storing default_value into cfg when absent (so the effective config
// echoes every default). Throws InvalidConfig when present with the wrong type.
inline bool get_bool(const std::string& owner, nlohmann::json& cfg, const std::string& key, bool default_value) {
    if (!cfg.contains(key)) cfg[key] = default_value;
    if (!cfg[key].is_boolean()) fail(owner, key, "a boolean", cfg[key]);
    return cfg[key].get<bool>();
}
inline int64_t get_int(const std::string& owner, nlohmann::json& cfg, const std::string& key, int64_t default_value) {
    if (!cfg.contains(key)) cfg[key] = default_value;
    if (!cfg[key].is_number_integer()) fail(owner, key, "an integer", cfg[key]);
    return cfg[key].get<int64_t>();
}
inline double get_number(const std::string& owner, nlohmann::json& cfg, const std::string& key, double default_value) {
    if (!cfg.contains(key)) cfg[key] = default_value;
    if (!cfg[key].is_number()) fail(owner, key, "a number", cfg[key]);
    return cfg[key].get<double>();
}
inline std::string get_string(const std::string& owner, nlohmann::json& cfg, const std::string& key,
                              const std::string& default_value) {
    if (!cfg.contains(key)) cfg[key] = default_value;
    if (!cfg[key].is_string()) fail(owner, key, "a string", cfg[key]);
    return cfg[key].get<std::string>();
}
// A required, non-empty string (e.g. "path").
inline std::string require_string(const std::string& owner, const nlohmann::json& cfg, const std::string& key) {
    if (!cfg.contains(key))
        throw Exception(Status::InvalidConfig, owner + ": \"" + key + "\" is required");
    if (!cfg[key].is_string() || cfg[key].get<std::string>().empty()) fail(owner, key, "a non-empty string", cfg[key]);
    return cfg[key].get<std::string>();
}

}  // namespace mochi::yokan::config
