// Client side of bedrock: a ServiceHandle talks to one server's bedrock provider.
//
//   mochi::bedrock::ServiceHandle sh(engine, "ofi+tcp://127.0.0.1:1234", 0);
//   std::string cfg = sh.get_config();
//   std::string db = sh.query("return $__config__.providers[0].name;");
#pragma once

#include <mochi/bedrock/component.hpp>
#include <mochi/margo/engine.hpp>

#include <string>

namespace mochi::bedrock {

class ServiceHandle {
  public:
    // timeout_ms: per RPC (0 = none). A dead server raises Exception naming its address.
    ServiceHandle(const mochi::margo::Engine& engine, const std::string& address, uint16_t provider_id = 0,
                  double timeout_ms = 0);
    const std::string& address() const { return address_; }
    uint16_t provider_id() const { return provider_id_; }

    std::string get_config() const;
    std::string query(const std::string& script) const;
    void load_module(const std::string& path) const;
    uint16_t add_provider(const std::string& descriptor_json) const;
    // Returns {"name","type","provider_id"} as JSON text.
    std::string lookup_provider(const std::string& spec) const;
    void add_pool(const std::string& json) const;
    void remove_pool(const std::string& name) const;
    void add_xstream(const std::string& json) const;
    void remove_xstream(const std::string& name) const;
    void shutdown() const;

    // Sends one bedrock RPC ({"op": args}) and returns its JSON result (text).
    std::string call(const std::string& rpc, const std::string& args_json) const;

  private:
    mochi::margo::Engine engine_;
    std::string address_;
    mochi::margo::Address addr_;
    uint16_t provider_id_;
    double timeout_ms_;
};

}  // namespace mochi::bedrock
