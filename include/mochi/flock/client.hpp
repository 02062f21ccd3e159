// Client side of flock: a GroupHandle keeps a copy of a group's view and refreshes it from any
// live member.
//
//   auto group = mochi::flock::GroupHandle::from_file(engine, "group.flock");
//   for (auto& m : group.view().members) ...
#pragma once

#include <mochi/flock/view.hpp>
#include <mochi/margo/engine.hpp>

#include <string>

namespace mochi::flock {

class GroupHandle {
  public:
    GroupHandle() = default;
    // Fetches the view from the member at (address, provider_id).
    GroupHandle(const mochi::margo::Engine& engine, const std::string& address, uint16_t provider_id,
                double timeout_ms = 10000);
    static GroupHandle from_file(const mochi::margo::Engine& engine, const std::string& path, double timeout_ms = 10000);
    static GroupHandle from_serialized(const mochi::margo::Engine& engine, const std::string& view_json,
                                       double timeout_ms = 10000);

    // Asks the members (first to last, skipping unreachable ones) for their current view.
    void update();
    const GroupView& view() const { return view_; }

  private:
    mochi::margo::Engine engine_;
    GroupView view_;
    double timeout_ms_ = 10000;
};

}  // namespace mochi::flock
