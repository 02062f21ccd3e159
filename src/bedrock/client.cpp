#include <mochi/bedrock/client.hpp>

#include <nlohmann/json.hpp>

namespace mochi::bedrock {

using nlohmann::json;

ServiceHandle::ServiceHandle(const mochi::margo::Engine& engine, const std::string& address, uint16_t provider_id,
                             double timeout_ms)
: engine_(engine), address_(address), provider_id_(provider_id), timeout_ms_(timeout_ms) {
    try {
        addr_ = engine_.lookup(address);
    } catch (const std::exception& e) {
        throw Exception("bedrock server at " + address + " cannot be reached: " + e.what());
    }
}

std::string ServiceHandle::call(const std::string& rpc, const std::string& args_json) const {
    std::string out_text;
    try {
        auto resp = engine_.forward(addr_, rpc, args_json, provider_id_, timeout_ms_);
        out_text = std::string(resp.output());
    } catch (const std::exception& e) {
        throw Exception("bedrock server at " + address_ + " (provider " + std::to_string(provider_id_) +
                        ") did not answer " + rpc + ": " + e.what());
    }
    json out;
    try {
        out = json::parse(out_text);
    } catch (const json::exception&) {
        throw Exception("bedrock server at " + address_ + " sent a malformed response to " + rpc);
    }
    if (!out.value("ok", false)) throw Exception(out.value("error", std::string("request failed")));
    return out["result"].dump();
}

std::string ServiceHandle::get_config() const { return call("bedrock_get_config", "{}"); }

std::string ServiceHandle::query(const std::string& script) const {
    return call("bedrock_query_config", json{{"script", script}}.dump());
}

void ServiceHandle::load_module(const std::string& path) const {
    call("bedrock_load_module", json{{"path", path}}.dump());
}

uint16_t ServiceHandle::add_provider(const std::string& descriptor_json) const {
    json d;
    try {
        d = json::parse(descriptor_json);
    } catch (const json::exception& e) {
        throw Exception(std::string("invalid provider description: ") + e.what());
    }
    return json::parse(call("bedrock_start_provider", json{{"description", d}}.dump())).get<uint16_t>();
}

std::string ServiceHandle::lookup_provider(const std::string& spec) const {
    return call("bedrock_lookup_provider", json{{"spec", spec}}.dump());
}

static json parse_cfg(const std::string& text) {
    try {
        return json::parse(text);
    } catch (const json::exception& e) {
        throw Exception(std::string("invalid JSON: ") + e.what());
    }
}

void ServiceHandle::add_pool(const std::string& cfg) const {
    call("bedrock_add_pool", json{{"config", parse_cfg(cfg)}}.dump());
}
void ServiceHandle::remove_pool(const std::string& name) const {
    call("bedrock_remove_pool", json{{"name", name}}.dump());
}
void ServiceHandle::add_xstream(const std::string& cfg) const {
    call("bedrock_add_xstream", json{{"config", parse_cfg(cfg)}}.dump());
}
void ServiceHandle::remove_xstream(const std::string& name) const {
    call("bedrock_remove_xstream", json{{"name", name}}.dump());
}

void ServiceHandle::shutdown() const {
    try {
        addr_.shutdown();
    } catch (const std::exception& e) {
        throw Exception("could not shut down the bedrock server at " + address_ + ": " + e.what());
    }
}

}  // namespace mochi::bedrock
