// Validation helpers for JSON configs: every failure is an Exception(InvalidConfig) whose
// message names where it happened, the key and the bad value.
#pragma once

#include <mochi/warabi/common.hpp>
#include <nlohmann/json.hpp>

#include <initializer_list>
#include <string>

namespace mochi::warabi::detail::cfg {

using json = nlohmann::json;

[[noreturn]] inline void fail(const std::string& where, const std::string& what) {
    throw Exception(ErrorCode::InvalidConfig, "invalid " + where + " configuration: " + what);
}

inline void require_object(const json& c, const std::string& where) {
    if (!c.is_object()) fail(where, "expected a JSON object, got " + c.dump());
}

inline void only_keys(const json& c, std::initializer_list<const char*> allowed, const std::string& where) {
    for (auto it = c.begin(); it != c.end(); ++it) {
        bool ok = false;
        for (const char* a : allowed) ok = ok || it.key() == a;
        if (!ok) {
            std::string list;
            for (const char* a : allowed) list += std::string(list.empty() ? "" : ", ") + a;
            fail(where, "unknown key \"" + it.key() + "\" (known keys: " + list + ")");
        }
    }
}

inline bool get_bool(const json& c, const char* key, bool def, const std::string& where) {
    if (!c.contains(key)) return def;
    const json& v = c.at(key);
    if (!v.is_boolean()) fail(where, "\"" + std::string(key) + "\" must be a boolean, got " + v.dump());
    return v.get<bool>();
}

inline uint64_t get_uint(const json& c, const char* key, uint64_t def, const std::string& where) {
    if (!c.contains(key)) return def;
    const json& v = c.at(key);
    if (!v.is_number_integer() || (v.is_number_integer() && !v.is_number_unsigned() && v.get<int64_t>() < 0))
        fail(where, "\"" + std::string(key) + "\" must be a non-negative integer, got " + v.dump());
    return v.get<uint64_t>();
}

inline double get_number(const json& c, const char* key, double def, const std::string& where) {
    if (!c.contains(key)) return def;
    const json& v = c.at(key);
    if (!v.is_number()) fail(where, "\"" + std::string(key) + "\" must be a number, got " + v.dump());
    return v.get<double>();
}

inline std::string get_string(const json& c, const char* key, const std::string& where) {
    if (!c.contains(key)) fail(where, "missing required key \"" + std::string(key) + "\"");
    const json& v = c.at(key);
    if (!v.is_string() || v.get<std::string>().empty())
        fail(where, "\"" + std::string(key) + "\" must be a non-empty string, got " + v.dump());
    return v.get<std::string>();
}

}  // namespace mochi::warabi::detail::cfg
