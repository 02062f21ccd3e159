// What snapshot, restore and migrate share: reading their JSON options, and the guard that
// keeps them from overlapping on one provider (an overlap would, e.g., clear a database a
// snapshot is walking).
#pragma once

#include "provider_impl.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace mochi::yokan::detail {

// Raises the provider's maintenance flag for one operation; throws Busy when it is up already.
class MaintenanceGuard {
  public:
    MaintenanceGuard(ProviderImpl& p, const char* op) : flag_(p.maintenance) {
        if (flag_.exchange(true))
            throw Exception(Status::Busy, std::string(op) +
                                              ": another snapshot, restore or migration of this provider is running");
    }
    ~MaintenanceGuard() { flag_.store(false); }
    MaintenanceGuard(const MaintenanceGuard&) = delete;
    MaintenanceGuard& operator=(const MaintenanceGuard&) = delete;

  private:
    std::atomic<bool>& flag_;
};

// The options object ("" counts as {}); keys not read are ignored, as Yokan does.
inline nlohmann::json parse_options(const std::string& text, const char* op) {
    if (text.empty()) return nlohmann::json::object();
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        throw Exception(Status::InvalidArgs, std::string(op) + ": options are not valid JSON: " + e.what());
    }
    if (j.is_null()) return nlohmann::json::object();
    if (!j.is_object()) throw Exception(Status::InvalidArgs, std::string(op) + ": options must be a JSON object, got " + j.dump());
    return j;
}

// A positive integer option (a size); default_value when absent.
inline uint64_t option_size(const nlohmann::json& j, const char* key, uint64_t default_value, const char* op) {
    if (!j.contains(key)) return default_value;
    const auto& v = j[key];
    if (!v.is_number_integer() || v.get<int64_t>() <= 0)
        throw Exception(Status::InvalidArgs, std::string(op) + ": \"" + key + "\" must be a positive integer, got " + v.dump());
    return v.get<uint64_t>();
}

inline double option_ms(const nlohmann::json& j, const char* key, const char* op) {
    if (!j.contains(key)) return 0;
    const auto& v = j[key];
    if (!v.is_number() || v.get<double>() < 0)
        throw Exception(Status::InvalidArgs, std::string(op) + ": \"" + key + "\" must be a number >= 0, got " + v.dump());
    return v.get<double>();
}

inline bool option_bool(const nlohmann::json& j, const char* key, bool default_value, const char* op) {
    if (!j.contains(key)) return default_value;
    const auto& v = j[key];
    if (!v.is_boolean()) throw Exception(Status::InvalidArgs, std::string(op) + ": \"" + key + "\" must be a boolean, got " + v.dump());
    return v.get<bool>();
}

// The chunk size of snapshots and migrations unless the options say otherwise.
constexpr uint64_t kDefaultChunkSize = uint64_t(4) << 20;

}  // namespace mochi::yokan::detail
