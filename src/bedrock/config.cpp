#include "config.hpp"

#include "expr.hpp"

#include <mochi/bedrock/component.hpp>

#include <regex>

namespace kinako::bedrock {

using mochi::bedrock::Exception;

void config_error(const std::string& path, const std::string& problem, const json& value) {
    std::string v = value.dump();
    if (v.size() > 200) v = v.substr(0, 200) + "...";
    throw Exception("bedrock config: " + (path.empty() ? std::string("(top level)") : path) + ": " + problem +
                    ", got " + v);
}

void config_error(const std::string& path, const std::string& problem) {
    throw Exception("bedrock config: " + (path.empty() ? std::string("(top level)") : path) + ": " + problem);
}

json condition_vars(const mochi::bedrock::ServerOptions& opts) {
    json vars = json::object();
    try {
        json ctx = json::parse(opts.context_json.empty() ? "{}" : opts.context_json);
        if (ctx.is_object()) vars = ctx;
    } catch (const json::exception& e) {
        throw Exception(std::string("bedrock: invalid context JSON: ") + e.what());
    }
    vars["MPI_COMM_WORLD"] = {{"rank", opts.rank}, {"size", opts.size}};
    vars["__rank__"] = opts.rank;
    vars["__size__"] = opts.size;
    return vars;
}

namespace {

// Returns false when the value must be dropped (an object whose __if__ is false).
bool filter_if(json& v, const json& vars, const std::string& path) {
    if (v.is_object()) {
        auto it = v.find("__if__");
        if (it != v.end()) {
            bool keep;
            if (it->is_boolean()) {
                keep = it->get<bool>();
            } else if (it->is_string()) {
                try {
                    keep = truthy(evaluate_expression(it->get<std::string>(), vars));
                } catch (const Exception& e) {
                    config_error(path + ".__if__", e.what(), *it);
                }
            } else {
                config_error(path + ".__if__", "expected a boolean or an expression string", *it);
            }
            if (!keep) return false;
            v.erase(it);
        }
        for (auto m = v.begin(); m != v.end();) {
            if (!filter_if(m.value(), vars, path.empty() ? m.key() : path + "." + m.key())) m = v.erase(m);
            else ++m;
        }
    } else if (v.is_array()) {
        json out = json::array();
        for (size_t i = 0; i < v.size(); ++i)
            if (filter_if(v[i], vars, path + "[" + std::to_string(i) + "]")) out.push_back(std::move(v[i]));
        v = std::move(out);
    }
    return true;
}

void merge_into(json& dst, const std::string& key, json value, const std::string& path) {
    auto it = dst.find(key);
    if (it == dst.end()) {
        dst[key] = std::move(value);
    } else if (it->is_object() && value.is_object()) {
        for (auto& m : value.items()) merge_into(*it, m.key(), m.value(), path + "." + key);
    } else {
        config_error(path.empty() ? key : path + "." + key, "the key is given twice (directly and as a dotted key)",
                     value);
    }
}

json expand_dotted(const json& v, const std::string& path) {
    if (v.is_array()) {
        json out = json::array();
        for (size_t i = 0; i < v.size(); ++i) out.push_back(expand_dotted(v[i], path + "[" + std::to_string(i) + "]"));
        return out;
    }
    if (!v.is_object()) return v;
    json out = json::object();
    // Plain keys first, so that dotted keys merge into them.
    for (auto& m : v.items())
        if (m.key().find('.') == std::string::npos)
            merge_into(out, m.key(), expand_dotted(m.value(), path.empty() ? m.key() : path + "." + m.key()), path);
    for (auto& m : v.items()) {
        const std::string& k = m.key();
        if (k.find('.') == std::string::npos) continue;
        std::vector<std::string> parts;
        size_t b = 0;
        for (;;) {
            size_t d = k.find('.', b);
            parts.push_back(k.substr(b, d == std::string::npos ? std::string::npos : d - b));
            if (d == std::string::npos) break;
            b = d + 1;
        }
        for (auto& p : parts)
            if (p.empty()) config_error(path.empty() ? k : path + "." + k, "empty component in a dotted key", m.value());
        json nested = expand_dotted(m.value(), path.empty() ? k : path + "." + k);
        for (size_t i = parts.size() - 1; i > 0; --i) nested = json{{parts[i], std::move(nested)}};
        merge_into(out, parts[0], std::move(nested), path);
    }
    return out;
}

}  // namespace

json preprocess_value(json v, const mochi::bedrock::ServerOptions& opts) {
    if (v.is_array()) {
        if (v.size() == 1) {
            v = json(v[0]);
        } else if (opts.size > 1 && static_cast<int>(v.size()) == opts.size) {
            v = json(v[opts.rank]);
        } else {
            config_error("", "an array config must have one entry or one entry per MPI rank (" +
                                 std::to_string(opts.size) + ")",
                         json(v.size()));
        }
    }
    json vars = condition_vars(opts);
    if (!filter_if(v, vars, "")) return json::object();
    return expand_dotted(v, "");
}

json preprocess(const std::string& text, const mochi::bedrock::ServerOptions& opts) {
    json v;
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
        v = json::object();
    } else {
        try {
            v = json::parse(text);
        } catch (const json::parse_error& e) {
            throw Exception(std::string("bedrock config: invalid JSON: ") + e.what());
        }
    }
    v = preprocess_value(std::move(v), opts);
    if (!v.is_object()) config_error("", "the config must be a JSON object", v);
    return v;
}

BedrockSection parse_bedrock_section(const json& b) {
    BedrockSection s;
    if (b.is_null()) return s;
    if (!b.is_object()) config_error("bedrock", "expected an object", b);
    for (auto& m : b.items()) {
        const std::string& k = m.key();
        const json& v = m.value();
        if (k == "pool") {
            if (!v.is_string() && !v.is_number_integer() && !v.is_null())
                config_error("bedrock.pool", "expected a pool name or index", v);
            s.pool = v;
        } else if (k == "provider_id") {
            if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() > 65535)
                config_error("bedrock.provider_id", "expected an integer in 0..65535", v);
            s.provider_id = static_cast<uint16_t>(v.get<long long>());
        } else if (k == "dependency_resolution_timeout") {
            if (!v.is_number() || v.get<double>() < 0)
                config_error("bedrock.dependency_resolution_timeout", "expected a non-negative number of seconds", v);
            s.dependency_resolution_timeout = v.get<double>();
        } else if (k.rfind("__", 0) != 0) {
            config_error("bedrock." + k, "unknown key (expected pool, provider_id, dependency_resolution_timeout)", v);
        }
    }
    return s;
}

std::vector<std::string> parse_libraries(const json& libs, const std::string& path) {
    std::vector<std::string> out;
    if (libs.is_null()) return out;
    if (libs.is_string()) return {libs.get<std::string>()};
    if (libs.is_array()) {
        for (size_t i = 0; i < libs.size(); ++i) {
            if (!libs[i].is_string())
                config_error(path + "[" + std::to_string(i) + "]", "expected a library path (string)", libs[i]);
            out.push_back(libs[i].get<std::string>());
        }
        return out;
    }
    if (libs.is_object()) {  // legacy {"type": "libfoo.so"}
        for (auto& m : libs.items()) {
            if (!m.value().is_string()) config_error(path + "." + m.key(), "expected a library path (string)", m.value());
            out.push_back(m.value().get<std::string>());
        }
        return out;
    }
    config_error(path, "expected an array of library paths", libs);
}

json normalize_provider(const json& p, const std::string& path) {
    static const std::regex name_re("^[a-zA-Z_][a-zA-Z0-9_]*$");
    if (!p.is_object()) config_error(path, "a provider must be an object", p);
    json out = {{"name", nullptr}, {"type", nullptr}, {"provider_id", 65535}, {"tags", json::array()},
                {"config", json::object()}, {"dependencies", json::object()}, {"engine", 0}};
    for (auto& m : p.items()) {
        const std::string& k = m.key();
        const json& v = m.value();
        std::string kp = path + "." + k;
        if (k == "name") {
            if (!v.is_string()) config_error(kp, "expected a string", v);
            if (!std::regex_match(v.get<std::string>(), name_re))
                config_error(kp, "a provider name must match ^[a-zA-Z_][a-zA-Z0-9_]*$", v);
            out["name"] = v;
        } else if (k == "type") {
            if (!v.is_string() || v.get<std::string>().empty()) config_error(kp, "expected a component type name", v);
            out["type"] = v;
        } else if (k == "provider_id") {
            if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() > 65535)
                config_error(kp, "expected an integer in 0..65535", v);
            out["provider_id"] = v;
        } else if (k == "tags") {
            if (!v.is_array()) config_error(kp, "expected an array of strings", v);
            for (size_t i = 0; i < v.size(); ++i)
                if (!v[i].is_string()) config_error(kp + "[" + std::to_string(i) + "]", "expected a string", v[i]);
            out["tags"] = v;
        } else if (k == "config") {
            if (!v.is_object()) config_error(kp, "expected an object", v);
            out["config"] = v;
        } else if (k == "dependencies") {
            if (!v.is_object()) config_error(kp, "expected an object mapping dependency names to references", v);
            for (auto& d : v.items()) {
                const json& dv = d.value();
                std::string dp = kp + "." + d.key();
                auto ok = [](const json& x) { return x.is_string() || x.is_number_integer(); };
                if (dv.is_array()) {
                    for (size_t i = 0; i < dv.size(); ++i)
                        if (!ok(dv[i])) config_error(dp + "[" + std::to_string(i) + "]", "expected a string or an integer", dv[i]);
                } else if (!ok(dv)) {
                    config_error(dp, "expected a string, an integer or an array of them", dv);
                }
            }
            out["dependencies"] = v;
        } else if (k == "engine") {
            if (!v.is_number_integer() || v.get<long long>() < 0) config_error(kp, "expected an engine index (integer >= 0)", v);
            out["engine"] = v;
        } else if (k == "pool") {
            config_error(kp, "\"pool\" is not a provider key; use \"dependencies\": {\"pool\": ...}", v);
        } else if (k.rfind("__", 0) != 0) {
            config_error(kp, "unknown provider key (expected name, type, provider_id, tags, config, dependencies, engine)", v);
        }
    }
    if (out["name"].is_null()) config_error(path, "a provider needs a \"name\"", p);
    if (out["type"].is_null()) config_error(path, "a provider needs a \"type\"", p);
    return out;
}

json validate_config(const json& cfg) {
    json out = {{"margo", json::array()}, {"margo_is_array", false}, {"bedrock", json::object()},
                {"libraries", json::array()}, {"providers", json::array()}};
    for (auto& m : cfg.items()) {
        const std::string& k = m.key();
        const json& v = m.value();
        if (k == "margo") {
            if (v.is_object()) {
                out["margo"].push_back(v);
            } else if (v.is_array()) {
                if (v.empty()) config_error("margo", "an array of engines cannot be empty", v);
                for (size_t i = 0; i < v.size(); ++i) {
                    std::string mp = "margo[" + std::to_string(i) + "]";
                    if (!v[i].is_object()) config_error(mp, "expected an engine config object", v[i]);
                    if (i > 0)
                        for (const char* forbidden : {"argobots", "rpc_thread_count", "use_progress_thread"})
                            if (v[i].contains(forbidden))
                                config_error(mp + "." + forbidden, "only the first engine may set this key", v[i][forbidden]);
                    out["margo"].push_back(v[i]);
                }
                out["margo_is_array"] = true;
            } else if (!v.is_null()) {
                config_error("margo", "expected an engine config object or an array of them", v);
            }
        } else if (k == "bedrock") {
            parse_bedrock_section(v);
            out["bedrock"] = v.is_null() ? json::object() : v;
        } else if (k == "libraries") {
            out["libraries"] = parse_libraries(v, "libraries");
        } else if (k == "providers") {
            if (v.is_null()) continue;
            if (!v.is_array()) config_error("providers", "expected an array of provider descriptors", v);
            for (size_t i = 0; i < v.size(); ++i)
                out["providers"].push_back(normalize_provider(v[i], "providers[" + std::to_string(i) + "]"));
        } else if (k == "ssg") {
            config_error("ssg", "the ssg section is gone; declare a provider of type \"flock\" instead", v);
        } else if (k.rfind("__", 0) != 0) {
            config_error(k, "unknown top-level key (expected margo, bedrock, libraries, providers)", v);
        }
    }
    if (out["margo"].empty()) out["margo"].push_back(json::object());
    // Names must be unique; explicit ids must be unique per engine.
    std::map<std::string, size_t> names;
    std::map<std::pair<long long, long long>, size_t> ids;
    auto& provs = out["providers"];
    for (size_t i = 0; i < provs.size(); ++i) {
        std::string path = "providers[" + std::to_string(i) + "]";
        std::string name = provs[i]["name"];
        if (!names.emplace(name, i).second)
            config_error(path + ".name", "duplicate provider name (also used by providers[" + std::to_string(names[name]) + "])",
                         provs[i]["name"]);
        long long eng = provs[i]["engine"];
        if (eng >= static_cast<long long>(out["margo"].size()))
            config_error(path + ".engine", "no such engine (there are " + std::to_string(out["margo"].size()) + ")",
                         provs[i]["engine"]);
        long long id = provs[i]["provider_id"];
        if (id != 65535 && !ids.emplace(std::make_pair(eng, id), i).second)
            config_error(path + ".provider_id", "duplicate provider id (also used by providers[" +
                                                     std::to_string(ids[{eng, id}]) + "])",
                         provs[i]["provider_id"]);
    }
    return out;
}

}  // namespace kinako::bedrock

namespace mochi::bedrock {

std::string preprocess_config(const std::string& config_json, const ServerOptions& options) {
    auto cfg = kinako::bedrock::preprocess(config_json, options);
    kinako::bedrock::validate_config(cfg);
    return cfg.dump();
}

std::string evaluate_query(const std::string& script, const std::string& vars_json) {
    nlohmann::json vars;
    try {
        vars = nlohmann::json::parse(vars_json.empty() ? "{}" : vars_json);
    } catch (const nlohmann::json::exception& e) {
        throw Exception(std::string("invalid variables JSON: ") + e.what());
    }
    return kinako::bedrock::evaluate_script(script, vars).dump();
}

}  // namespace mochi::bedrock
