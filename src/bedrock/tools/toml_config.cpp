#include "toml_config.hpp"

#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include <sstream>
#include <stdexcept>

namespace kinako::bedrock::tools {

namespace {

nlohmann::json to_json(const toml::node& node) {
    if (auto t = node.as_table()) {
        nlohmann::json out = nlohmann::json::object();
        for (auto&& [key, value] : *t) out[std::string(key.str())] = to_json(value);
        return out;
    }
    if (auto a = node.as_array()) {
        nlohmann::json out = nlohmann::json::array();
        for (auto&& value : *a) out.push_back(to_json(value));
        return out;
    }
    if (auto s = node.as_string()) return s->get();
    if (auto i = node.as_integer()) return i->get();
    if (auto f = node.as_floating_point()) return f->get();
    if (auto b = node.as_boolean()) return b->get();
    // Dates and times have no JSON type: keep their TOML spelling.
    std::ostringstream text;
    node.visit([&](auto&& v) { text << v; });
    return text.str();
}

}  // namespace

std::string toml_to_json(const std::string& text, const std::string& source) {
    try {
        return to_json(toml::parse(text, source)).dump();
    } catch (const toml::parse_error& e) {
        const auto& where = e.source().begin;
        throw std::runtime_error(source + ":" + std::to_string(where.line) + ":" + std::to_string(where.column) +
                                 ": " + std::string(e.description()));
    }
}

}  // namespace kinako::bedrock::tools
