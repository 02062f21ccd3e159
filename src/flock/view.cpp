#include <mochi/flock/view.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace mochi::flock {

using nlohmann::json;

long GroupView::find(const std::string& address, uint16_t provider_id) const {
    for (size_t i = 0; i < members.size(); ++i)
        if (members[i].address == address && members[i].provider_id == provider_id) return static_cast<long>(i);
    return -1;
}

bool GroupView::exists(const std::string& address, uint16_t provider_id) const { return find(address, provider_id) >= 0; }

bool GroupView::add(const std::string& address, uint16_t provider_id) {
    if (exists(address, provider_id)) return false;
    members.push_back({address, provider_id});
    ++version;
    return true;
}

bool GroupView::remove(const std::string& address, uint16_t provider_id) {
    long i = find(address, provider_id);
    if (i < 0) return false;
    members.erase(members.begin() + i);
    ++version;
    return true;
}

std::string GroupView::to_json() const {
    json j = {{"members", json::array()}, {"metadata", json::object()}};
    for (auto& m : members) j["members"].push_back({{"address", m.address}, {"provider_id", m.provider_id}});
    for (auto& kv : metadata) j["metadata"][kv.first] = kv.second;
    return j.dump();
}

GroupView GroupView::from_json(const std::string& text) {
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception& e) {
        throw Exception(std::string("invalid group view JSON: ") + e.what());
    }
    GroupView v;
    if (!j.is_object() || !j.contains("members") || !j["members"].is_array())
        throw Exception("invalid group view: expected an object with a \"members\" array");
    for (auto& m : j["members"]) {
        if (!m.is_object() || !m.contains("address") || !m["address"].is_string())
            throw Exception("invalid group view member: " + m.dump());
        long long id = m.value("provider_id", 0LL);
        if (id < 0 || id > 65535) throw Exception("invalid group view member provider_id: " + m.dump());
        v.members.push_back({m["address"].get<std::string>(), static_cast<uint16_t>(id)});
    }
    if (j.contains("metadata") && j["metadata"].is_object())
        for (auto& kv : j["metadata"].items())
            v.metadata[kv.key()] = kv.value().is_string() ? kv.value().get<std::string>() : kv.value().dump();
    return v;
}

void GroupView::save(const std::string& path) const {
    std::string tmp = path + ".tmp." + std::to_string(::getpid());
    {
        std::ofstream out(tmp, std::ios::trunc);
        if (!out) throw Exception("cannot write group file \"" + path + "\"");
        out << json::parse(to_json()).dump(2) << "\n";
        if (!out) throw Exception("cannot write group file \"" + path + "\"");
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        throw Exception("cannot write group file \"" + path + "\"");
    }
}

GroupView GroupView::load(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw Exception("cannot open group file \"" + path + "\"");
    std::stringstream ss;
    ss << in.rdbuf();
    try {
        return from_json(ss.str());
    } catch (const Exception& e) {
        throw Exception("group file \"" + path + "\": " + e.what());
    }
}

}  // namespace mochi::flock
