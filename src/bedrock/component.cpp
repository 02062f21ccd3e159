// Registry of component types and loading of component libraries.
#include "registry.hpp"

#include <dlfcn.h>

#include <map>
#include <mutex>

namespace mochi::bedrock {

std::mutex& registry_mutex() {
    static std::mutex m;
    return m;
}
namespace {
std::map<std::string, ComponentType>& registry_map() {
    static std::map<std::string, ComponentType> r;
    return r;
}
}  // namespace
std::map<std::string, ComponentType>& registry() { return registry_map(); }

void register_component_type(const std::string& type, ComponentType ct) {
    std::lock_guard<std::mutex> lock(registry_mutex());
    registry()[type] = std::move(ct);
}

bool has_component_type(const std::string& type) {
    std::lock_guard<std::mutex> lock(registry_mutex());
    return registry().count(type) > 0;
}

}  // namespace mochi::bedrock

namespace kinako::bedrock {

using mochi::bedrock::Exception;

void register_builtin_components();

mochi::bedrock::ComponentType find_component_type(const std::string& type) {
    register_builtin_components();
    {
        std::lock_guard<std::mutex> lock(mochi::bedrock::registry_mutex());
        auto it = mochi::bedrock::registry().find(type);
        if (it != mochi::bedrock::registry().end()) return it->second;
    }
    // As Bedrock: a type may be resolved by its library name, lib<type>-bedrock-module.so.
    std::string lib = "lib" + type + "-bedrock-module.so";
    if (dlopen(lib.c_str(), RTLD_NOW | RTLD_GLOBAL)) {
        std::lock_guard<std::mutex> lock(mochi::bedrock::registry_mutex());
        auto it = mochi::bedrock::registry().find(type);
        if (it != mochi::bedrock::registry().end()) return it->second;
    }
    throw Exception("unknown component type \"" + type + "\" (not built in, and no loaded library registers it)");
}

std::vector<std::string> known_component_types() {
    register_builtin_components();
    std::lock_guard<std::mutex> lock(mochi::bedrock::registry_mutex());
    std::vector<std::string> out;
    for (auto& kv : mochi::bedrock::registry()) out.push_back(kv.first);
    return out;
}

bool is_builtin_library(const std::string& path) {
    auto slash = path.rfind('/');
    std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
    for (const char* b : {"libyokan-bedrock-module.so", "libwarabi-bedrock-module.so", "libflock-bedrock-module.so"})
        if (base == b) return true;
    return false;
}

void load_library(const std::string& path) {
    register_builtin_components();
    if (path.empty()) throw Exception("cannot load a library with an empty path");
    if (is_builtin_library(path)) return;  // those components are built into kinako
    void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (!h) {
        const char* err = dlerror();
        throw Exception("could not load library \"" + path + "\": " + (err ? err : "unknown error"));
    }
}

}  // namespace kinako::bedrock
