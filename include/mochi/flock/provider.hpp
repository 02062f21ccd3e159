// A flock provider: keeps a group view, answers flock_get_view, and (for "centralized" and
// "swim" groups) lets processes join and leave. Config (Flock's):
//   {"bootstrap": "self"|"mpi"|"file"|"join" or a list tried in order,
//    "file": "group.flock", "group": {"type": "static"|"centralized"|"swim", "config": {}},
//    "mpi_ranks": [0, 1, ...]}
// The first member of the view writes the group file whenever the view changes.
//
// "swim" groups also detect failures (SWIM): a background thread per provider pings one member
// per period (flock_swim_ping, round robin over a shuffled order), asks a few others to try
// (flock_swim_ping_req) when it gets no answer, and suspects a member nobody reached; a suspect
// that does not refute (by raising its incarnation number) within suspect_timeout_periods is
// declared dead, removed from the view, and pushed to the members with flock_update_view.
// Membership events ride on pings and acks. group.config keys: period_length_ms (1000),
// ping_timeout_ms (period/4, at most period/2), subgroup_member_count (3),
// suspect_timeout_periods (5), disabled (false). The thread stops when the provider is
// destroyed or its engine finalizes; neither waits longer than one blocking call of the loop
// (2 * ping_timeout_ms).
#pragma once

#include <mochi/flock/view.hpp>
#include <mochi/margo/engine.hpp>

#include <functional>
#include <memory>
#include <string>

namespace mochi::flock {

struct BootstrapContext {
    int rank = 0;
    int size = 1;
    // MPI_Allgather of one string per rank; empty when the process is not under MPI.
    std::function<std::vector<std::string>(const std::string&)> allgather;
};

namespace detail { struct ProviderState; }

class Provider {
  public:
    // Serves `initial_view` as is (the "view" bootstrap). Throws Exception on a bad config.
    Provider(const mochi::margo::Engine& engine, uint16_t provider_id, const std::string& config_json,
             const GroupView& initial_view, const std::string& pool = "");
    // Builds the initial view from the config's "bootstrap" method(s).
    static std::unique_ptr<Provider> bootstrap(const mochi::margo::Engine& engine, uint16_t provider_id,
                                               const std::string& config_json, const BootstrapContext& ctx = {},
                                               const std::string& pool = "");
    ~Provider();
    Provider(const Provider&) = delete;
    Provider& operator=(const Provider&) = delete;

    uint16_t provider_id() const;
    std::string config() const;
    GroupView view() const;
    // Moves the handlers to another engine pool ("" = the engine's rpc pool). Throws Exception
    // naming the pool when the engine has none of that name; nothing moves then.
    void change_pool(const std::string& pool);

  private:
    std::shared_ptr<detail::ProviderState> state_;
};

}  // namespace mochi::flock
