// Registers the in-memory key/value backends: map, set, unordered_map, unordered_set.
#include "memory.hpp"

namespace mochi::yokan::backends {

namespace {

// Validates the keys shared by the in-memory backends and fills in their defaults.
nlohmann::json check_common(const std::string& type, const nlohmann::json& given, bool sorted, bool& use_lock,
                            size_t& buckets) {
    auto cfg = config::object_or_empty(type, given);
    use_lock = config::get_bool(type, cfg, "use_lock", true);
    if (sorted) {
        auto cmp = config::get_string(type, cfg, "comparator", "default");
        if (cmp != "default")
            throw Exception(Status::InvalidConfig,
                            type + ": comparator \"" + cmp + "\" is not supported (only \"default\")");
    } else {
        auto n = config::get_int(type, cfg, "initial_bucket_count", 23);
        if (n <= 0) config::fail(type, "initial_bucket_count", "a positive integer", cfg["initial_bucket_count"]);
        buckets = static_cast<size_t>(n);
    }
    if (!cfg.contains("allocators")) cfg["allocators"] = nlohmann::json::object();
    auto& alloc = cfg["allocators"];
    if (!alloc.is_object()) config::fail(type, "allocators", "an object", alloc);
    for (const char* a : {"key_allocator", "value_allocator", "node_allocator"}) {
        auto name = config::get_string(type, alloc, a, "default");
        if (name != "default")
            throw Exception(Status::InvalidConfig, type + ": allocators." + a + " \"" + name +
                                                       "\" is not supported (only \"default\")");
    }
    return cfg;
}

template <bool Sorted, bool HasValues>
struct Factory {
    static std::unique_ptr<Backend> make(const char* type, const nlohmann::json& given) {
        bool use_lock = true;
        size_t buckets = 0;
        auto cfg = check_common(type, given, Sorted, use_lock, buckets);
        return std::make_unique<MemoryBackend<Sorted, HasValues>>(type, std::move(cfg), use_lock, buckets);
    }
};

struct MapBackend { static std::unique_ptr<Backend> create(const nlohmann::json& c) { return Factory<true, true>::make("map", c); } };
struct SetBackend { static std::unique_ptr<Backend> create(const nlohmann::json& c) { return Factory<true, false>::make("set", c); } };
struct UnorderedMapBackend { static std::unique_ptr<Backend> create(const nlohmann::json& c) { return Factory<false, true>::make("unordered_map", c); } };
struct UnorderedSetBackend { static std::unique_ptr<Backend> create(const nlohmann::json& c) { return Factory<false, false>::make("unordered_set", c); } };

}  // namespace

YOKAN_REGISTER_BACKEND(map, MapBackend);
YOKAN_REGISTER_BACKEND(set, SetBackend);
YOKAN_REGISTER_BACKEND(unordered_map, UnorderedMapBackend);
YOKAN_REGISTER_BACKEND(unordered_set, UnorderedSetBackend);

}  // namespace mochi::yokan::backends
