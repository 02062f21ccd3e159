// SWIM-style failure detection and dissemination for flock groups of type "swim".
//
// One Swim object per provider. A background thread runs the protocol period: probe one member
// (round robin over a shuffled order), ask up to k others to probe it when it does not answer,
// suspect it when nobody reaches it, declare it dead when it does not refute in time. Membership
// events (alive / suspect / dead, each with an incarnation number) ride on pings and acks. The
// provider owns the view; Swim reaches it only through Hooks, so that this file knows nothing
// about the provider's RPC wiring or locking.
//
// Locking: Swim's own mutex is never held while calling a hook, forwarding an RPC or logging
// (a log sink may wait for Python's GIL, whose holder may be waiting for this mutex). The
// provider may call into Swim while holding its own mutex.
#pragma once

#include <mochi/flock/view.hpp>
#include <mochi/margo/engine.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace mochi::flock::detail {

struct SwimConfig {
    double period_length_ms = 1000;
    int suspect_timeout_periods = 5;
    int subgroup_member_count = 3;
    // Default: a quarter of the period, so that a direct ping plus the indirect round (twice the
    // ping timeout) fit in one period.
    double ping_timeout_ms = 250;
    bool disabled = false;

    // Validates a swim group's "config" object and fills in the defaults. Throws Exception
    // naming the key ("group.config.<key>") and the bad value.
    static SwimConfig parse(const nlohmann::json& config);
    nlohmann::json to_json() const;
};

class Swim : public std::enable_shared_from_this<Swim> {
  public:
    struct Hooks {
        // The provider's current members (this process included when it is a member).
        std::function<std::vector<Member>()> members;
        // Removes members from the view (version bump, group file). Returns the new view as
        // JSON, or "" when none of them was in the view.
        std::function<std::string(const std::vector<Member>&)> remove;
    };

    Swim(const mochi::margo::Engine& engine, Member self, SwimConfig config, Hooks hooks);
    ~Swim();
    Swim(const Swim&) = delete;
    Swim& operator=(const Swim&) = delete;

    // Starts the protocol thread (not when the config says "disabled").
    void start();
    // Asks the thread to stop at its next check; never blocks.
    void request_stop();
    // request_stop, then waits up to wait_ms for the thread to leave; a thread still busy after
    // that (e.g. its log sink waits for a lock the caller holds) is detached and ends by itself.
    void stop(double wait_ms);
    // The longest a stop can wait for the thread: one blocking call of the loop, plus slack.
    double stop_bound_ms() const;

    // RPC bodies (flock_swim_ping, flock_swim_ping_req): JSON in, JSON out. Throw Exception on a
    // malformed request; the provider turns that into {"ok": false, "error": ...}.
    nlohmann::json handle_ping(const nlohmann::json& in);
    nlohmann::json handle_ping_req(const nlohmann::json& in);

    // Death notices pushed with flock_update_view ({"swim": {"dead": [...]}}): records them and
    // removes those members through the hooks.
    void learn_dead(const nlohmann::json& dead_list);
    // A member (re)joined through flock_join: forget any tombstone and suspicion about it.
    void joined(const Member& m);
    // A member left through flock_leave: forget it without a tombstone (it may join again).
    void left(const Member& m);
    // Whether the member was declared dead (and has not joined again since).
    bool is_dead(const Member& m) const;

    uint64_t incarnation() const;
    const SwimConfig& config() const { return cfg_; }

  private:
    using Clock = std::chrono::steady_clock;
    enum class State : int { Alive = 0, Suspect = 1, Dead = 2 };
    struct Peer {
        State state = State::Alive;
        uint64_t incarnation = 0;
        Clock::time_point deadline{};  // when a suspect is declared dead
    };
    struct Gossip {
        Member member;
        State state = State::Alive;
        uint64_t incarnation = 0;
        int sent = 0;
    };
    // Log lines gathered under mutex_ and written once it is released.
    using Logs = std::vector<std::pair<mochi::margo::LogLevel, std::string>>;
    struct Probe {
        bool reached = false;
        uint64_t incarnation = 0;
    };

    static std::string key_of(const Member& m);
    // Checked before each outgoing call: once the engine is finalizing, no new call starts.
    bool stopping() const;
    void run();
    void probe_once();
    void expire_suspects();
    Member next_target(const std::vector<Member>& members);
    // Direct ping with piggybacked events; processes the ack. False when unreachable.
    Probe ping(const Member& target);
    bool ping_indirect(const Member& target, const std::vector<Member>& members);
    void push_dead(const std::vector<Member>& dead, const std::string& view_json, const std::vector<Member>& members);

    // Under mutex_: apply one event; members that became dead are appended to `dead`.
    void apply_locked(const Member& m, State state, uint64_t inc, std::vector<Member>& dead,
                      Logs& logs);
    void enqueue_locked(const Member& m, State state, uint64_t inc);
    // Events for a message to `to` (bounded count, least-sent first, plus what `to` must hear).
    nlohmann::json piggyback_locked(const Member& to);
    void absorb(const nlohmann::json& msg, const Member* sender);  // "incarnation" + "events"
    void finish(std::vector<Member> dead, Logs logs);
    nlohmann::json self_json() const;

    mochi::margo::Engine engine_;
    const Member self_;
    const SwimConfig cfg_;
    const Hooks hooks_;

    mutable std::mutex mutex_;
    std::condition_variable cv_;
    bool stop_ = false;
    bool exited_ = true;
    std::thread thread_;
    std::mutex thread_mutex_;  // guards thread_ (join/detach from several stop paths)

    uint64_t incarnation_ = 0;
    bool expelled_ = false;
    std::map<std::string, Peer> peers_;
    std::map<std::string, Clock::time_point> dead_;  // tombstones, oldest dropped past a bound
    std::map<std::string, Gossip> gossip_;
    size_t group_size_ = 1;
    std::vector<Member> order_;
    size_t next_ = 0;
    std::mt19937_64 rng_;
};

}  // namespace mochi::flock::detail
