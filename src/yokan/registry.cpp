// The backend registry: type name -> factory. Backends register themselves at load time
// (YOKAN_REGISTER_BACKEND); "lib.so:name" types dlopen the library first.
#include <mochi/yokan/backend.hpp>

#include <dlfcn.h>

#include <algorithm>
#include <map>
#include <mutex>

namespace mochi::yokan {

namespace {
struct Registry {
    std::mutex mutex;
    std::map<std::string, BackendFactory> factories;
};
Registry& registry() {
    static Registry r;  // constructed on first use, so static registrations may run in any order
    return r;
}
}  // namespace

void register_backend(const std::string& type, BackendFactory factory) {
    auto& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    r.factories[type] = std::move(factory);
}

std::vector<std::string> available_backends() {
    auto& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    std::vector<std::string> names;
    for (auto& [name, f] : r.factories) names.push_back(name);
    return names;
}

std::unique_ptr<Backend> create_backend(const std::string& type_spec, const nlohmann::json& config) {
    std::string type = type_spec;
    auto colon = type_spec.find(':');
    if (colon != std::string::npos) {
        std::string lib = type_spec.substr(0, colon);
        type = type_spec.substr(colon + 1);
        if (!dlopen(lib.c_str(), RTLD_NOW | RTLD_GLOBAL)) {
            const char* err = dlerror();
            throw Exception(Status::InvalidBackend,
                            "cannot load backend library \"" + lib + "\": " + (err ? err : "unknown error"));
        }
    }
    BackendFactory factory;
    {
        auto& r = registry();
        std::lock_guard<std::mutex> lock(r.mutex);
        auto it = r.factories.find(type);
        if (it == r.factories.end()) {
            std::string known;
            for (auto& [name, f] : r.factories) known += (known.empty() ? "" : ", ") + name;
            throw Exception(Status::InvalidBackend,
                            "Invalid backend type \"" + type + "\" (available: " + known + ")");
        }
        factory = it->second;
    }
    auto backend = factory(config.is_null() ? nlohmann::json::object() : config);
    if (!backend) throw Exception(Status::InvalidBackend, "backend \"" + type + "\" could not be created");
    return backend;
}

Status Backend::list(std::string_view, bool, std::string_view, bool, const ListVisitor&) {
    return Status::OpUnsupported;
}

// Sorted backends already walk every pair in order; hashed ones override this.
Status Backend::visit_all(const ListVisitor& visit) {
    if (!is_sorted()) return Status::OpUnsupported;
    return list({}, false, {}, true, visit);
}

Status Backend::coll_names(std::vector<std::string>&) { return Status::OpUnsupported; }

}  // namespace mochi::yokan
