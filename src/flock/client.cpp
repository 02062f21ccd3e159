#include <mochi/flock/client.hpp>

#include <nlohmann/json.hpp>

namespace mochi::flock {

using nlohmann::json;

GroupHandle::GroupHandle(const mochi::margo::Engine& engine, const std::string& address, uint16_t provider_id,
                         double timeout_ms)
: engine_(engine), timeout_ms_(timeout_ms) {
    view_.add(address, provider_id);
    update();
}

GroupHandle GroupHandle::from_file(const mochi::margo::Engine& engine, const std::string& path, double timeout_ms) {
    GroupHandle h;
    h.engine_ = engine;
    h.timeout_ms_ = timeout_ms;
    h.view_ = GroupView::load(path);
    return h;
}

GroupHandle GroupHandle::from_serialized(const mochi::margo::Engine& engine, const std::string& view_json,
                                         double timeout_ms) {
    GroupHandle h;
    h.engine_ = engine;
    h.timeout_ms_ = timeout_ms;
    h.view_ = GroupView::from_json(view_json);
    return h;
}

void GroupHandle::update() {
    std::string errors;
    for (auto& m : view_.members) {
        try {
            auto resp = engine_.forward(engine_.lookup(m.address), "flock_get_view", "{}", m.provider_id, timeout_ms_);
            json out = json::parse(resp.output());
            if (!out.value("ok", false)) throw Exception(out.value("error", std::string("request failed")));
            GroupView v = GroupView::from_json(out["view"].dump());
            v.version = view_.version + 1;
            view_ = std::move(v);
            return;
        } catch (const std::exception& e) {
            errors += (errors.empty() ? "" : "; ") + m.address + ": " + e.what();
        }
    }
    throw Exception("no member of the group answered (" + errors + ")");
}

}  // namespace mochi::flock
