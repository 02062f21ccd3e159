// A bedrock server: one process's engine(s), pools, xstreams and providers, built from a JSON
// config and then reconfigurable at run time (locally or through the bedrock_* RPCs).
//
//   mochi::bedrock::Server server("ofi+tcp://127.0.0.1:0", R"({"providers":[
//       {"name":"db","type":"yokan","config":{"database":{"type":"map"}}}]})");
//   server.wait_for_finalize();
#pragma once

#include <mochi/bedrock/component.hpp>
#include <mochi/margo/engine.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mochi::bedrock {

struct ServerOptions {
    int rank = 0;  // MPI rank / world size: rank-indexed config arrays, "@<rank>" dependencies
    int size = 1;
    // Collective exchange of one string per rank (MPI_Allgather); empty when not under MPI.
    std::function<std::vector<std::string>(const std::string&)> allgather;
    // Variables visible to "__if__" expressions besides $MPI_COMM_WORLD.
    std::string context_json = "{}";
};

struct ProviderInfo {
    std::string name, type;
    uint16_t provider_id = 0;
    int engine = 0;
};

namespace detail { class ServerImpl; }

class Server {
  public:
    // address: protocol or full address (fallback when the config has no mercury.address).
    // Throws Exception with a message naming the offending path and value.
    Server(const std::string& address, const std::string& config_json, const ServerOptions& options = {});
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    mochi::margo::Engine engine(int index = 0) const;
    int num_engines() const;
    std::string config() const;                        // effective config (JSON text)
    std::string query(const std::string& script) const;  // "return $__config__.providers;" -> JSON text

    void load_module(const std::string& path);
    // descriptor: {"name","type","provider_id"?,"tags"?,"config"?,"dependencies"?}; returns the id.
    uint16_t add_provider(const std::string& descriptor_json);
    void remove_provider(const std::string& name);
    std::vector<ProviderInfo> providers() const;
    // "name", "type:id", with an optional "@address"/"@rank" (remote lookups ask that server).
    ProviderInfo lookup_provider(const std::string& spec, double timeout_s = 0) const;
    void change_provider_pool(const std::string& name, const std::string& pool);
    void migrate_provider(const std::string& name, const std::string& dest_addr, uint16_t dest_provider_id,
                          const std::string& options_json, bool remove_source);
    void snapshot_provider(const std::string& name, const std::string& dest_path, const std::string& options_json,
                           bool remove_source);
    void restore_provider(const std::string& name, const std::string& src_path, const std::string& options_json);

    void add_pool(const std::string& pool_json);
    void remove_pool(const std::string& name);
    void add_xstream(const std::string& xstream_json);
    void remove_xstream(const std::string& name);

    void finalize();
    void wait_for_finalize();

  private:
    std::shared_ptr<detail::ServerImpl> impl_;
};

// Pure config processing, exposed for tests and tools: "__if__" filtering, dotted keys,
// rank-indexed arrays, schema checks (without starting anything). Returns the processed config.
std::string preprocess_config(const std::string& config_json, const ServerOptions& options = {});

// Evaluates a query script ("return <expr>;") against the variables of vars_json
// (e.g. {"__config__": {...}}). Returns the JSON result as text.
std::string evaluate_query(const std::string& script, const std::string& vars_json);

}  // namespace mochi::bedrock
