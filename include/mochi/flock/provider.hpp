// A flock provider: keeps a group view, answers flock_get_view, and (for "centralized" groups)
// lets processes join and leave. Config (Flock's):
//   {"bootstrap": "self"|"mpi"|"file"|"join" or a list tried in order,
//    "file": "group.flock", "group": {"type": "static"|"centralized", "config": {}},
//    "mpi_ranks": [0, 1, ...]}
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
