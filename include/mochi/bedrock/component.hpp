// Bedrock component API: how a provider type plugs into a bedrock server.
//
// A component type is a class deriving from AbstractComponent with two static functions:
//
//   struct MyComponent : mochi::bedrock::AbstractComponent {
//       static std::vector<mochi::bedrock::Dependency> GetDependencies(const mochi::bedrock::ComponentArgs&) {
//           return {{"pool", "pool", false, false, false}, {"db", "yokan", true, false, false}};
//       }
//       static std::shared_ptr<mochi::bedrock::AbstractComponent> Register(const mochi::bedrock::ComponentArgs& args);
//       std::string getConfig() override;
//   };
//   BEDROCK_REGISTER_COMPONENT_TYPE(my_type, MyComponent)
//
// Build it into a shared library and list that library in the config's "libraries": the
// server loads it (dlopen) and the registration above makes "my_type" usable in "providers".
// The server resolves the "dependencies" a provider lists against GetDependencies(): pools
// and xstreams by name or index, local providers by "name" or "type:id", remote providers by
// "name@address", "type:id@address" or "...@<MPI rank>"; then it calls Register().
#pragma once

#include <mochi/margo/engine.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace mochi::bedrock {

// Every error of the bedrock layer (bad config, unknown type, missing dependency...).
class Exception : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// A dependency a component type declares.
struct Dependency {
    std::string name;           // key in the provider's "dependencies" object
    std::string type;           // "pool", "xstream", or a component type ("yokan", ...)
    bool is_required = false;
    bool is_array = false;
    bool is_updatable = false;
};

class AbstractComponent;

// One resolved entry of a dependency.
struct ResolvedDependency {
    std::string spec;       // what the config said ("my_db", "yokan:3@ofi+tcp://...", "__primary__")
    std::string type;       // "pool", "xstream" or the provider's type
    std::string name;       // pool/xstream/provider name ("" when unknown, e.g. type:id@address)
    uint16_t provider_id = 0;
    std::string address;    // "" for a local provider, pools and xstreams
    std::shared_ptr<AbstractComponent> component;  // the local provider, if any
    bool is_local() const { return address.empty(); }
};
using ResolvedDependencyMap = std::map<std::string, std::vector<ResolvedDependency>>;

struct ComponentArgs {
    mochi::margo::Engine engine;
    std::string name;
    std::string type;
    uint16_t provider_id = 0;
    std::vector<std::string> tags;
    std::string config = "{}";  // the provider's "config" as JSON text
    ResolvedDependencyMap dependencies;
    int engine_index = 0;
    int rank = 0, size = 1;  // MPI rank and world size of the server process
    // All ranks' addresses, when known (MPI); used by components that bootstrap groups.
    std::function<std::vector<std::string>(const std::string&)> allgather;

    // The pool dependency's name, or "" (the engine's rpc pool) when not given.
    std::string pool() const {
        auto it = dependencies.find("pool");
        return (it == dependencies.end() || it->second.empty()) ? std::string() : it->second[0].name;
    }
};

class AbstractComponent {
  public:
    virtual ~AbstractComponent() = default;
    // The provider's effective configuration as JSON text.
    virtual std::string getConfig() { return "{}"; }
    // Optional operations; the defaults report that the type does not support them.
    virtual void changeDependency(const std::string& name, const std::vector<ResolvedDependency>& value) {
        throw Exception("this component does not support changing dependency \"" + name + "\"");
    }
    virtual void migrate(const std::string& dest_address, uint16_t dest_provider_id,
                         const std::string& options_json, bool remove_source) {
        throw Exception("this component does not support migration");
    }
    virtual void snapshot(const std::string& dest_path, const std::string& options_json, bool remove_source) {
        throw Exception("this component does not support snapshots");
    }
    virtual void restore(const std::string& src_path, const std::string& options_json) {
        throw Exception("this component does not support restore");
    }
};

struct ComponentType {
    std::function<std::vector<Dependency>(const ComponentArgs&)> get_dependencies;
    std::function<std::shared_ptr<AbstractComponent>(const ComponentArgs&)> create;
};

// Process-wide registry of component types (used by the macro below).
void register_component_type(const std::string& type, ComponentType ct);
bool has_component_type(const std::string& type);

}  // namespace mochi::bedrock

#define BEDROCK_DETAIL_CAT2(a, b) a##b
#define BEDROCK_DETAIL_CAT(a, b) BEDROCK_DETAIL_CAT2(a, b)
#define BEDROCK_REGISTER_COMPONENT_TYPE(type_name, Class)                                        \
    namespace {                                                                                    \
    struct BEDROCK_DETAIL_CAT(BedrockRegistrar_, type_name) {                                      \
        BEDROCK_DETAIL_CAT(BedrockRegistrar_, type_name)() {                                       \
            ::mochi::bedrock::register_component_type(                                             \
                #type_name, ::mochi::bedrock::ComponentType{&Class::GetDependencies, &Class::Register}); \
        }                                                                                          \
    } BEDROCK_DETAIL_CAT(bedrock_registrar_instance_, type_name);                                  \
    }
