// The table of target types. Each target file registers itself at load time.
#include <mochi/warabi/target.hpp>

#include <map>
#include <mutex>

namespace mochi::warabi {

namespace {
std::map<std::string, TargetFactory>& table() {
    static std::map<std::string, TargetFactory> t;
    return t;
}
std::mutex& table_mutex() {
    static std::mutex m;
    return m;
}
}  // namespace

bool TargetRegistry::add(const std::string& type, TargetFactory factory) {
    std::lock_guard<std::mutex> lock(table_mutex());
    table()[type] = std::move(factory);
    return true;
}

std::unique_ptr<Target> TargetRegistry::create(const std::string& type, const nlohmann::json& config) {
    TargetFactory f;
    {
        std::lock_guard<std::mutex> lock(table_mutex());
        auto it = table().find(type);
        if (it == table().end()) {
            std::string known;
            for (auto& [name, _] : table()) known += (known.empty() ? "" : ", ") + name;
            throw Exception(ErrorCode::InvalidConfig,
                            "invalid target configuration: unknown target type \"" + type + "\" (known: " + known + ")");
        }
        f = it->second;
    }
    return f(config);
}

std::vector<std::string> TargetRegistry::types() {
    std::lock_guard<std::mutex> lock(table_mutex());
    std::vector<std::string> out;
    for (auto& [name, _] : table()) out.push_back(name);
    return out;
}

}  // namespace mochi::warabi
