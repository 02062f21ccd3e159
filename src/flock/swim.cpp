// SWIM failure detector of flock "swim" groups. See swim.hpp for the structure and the locking
// rule; the protocol follows Das, Gupta and Motivala (2002), "SWIM: Scalable Weakly-consistent
// Infection-style Process Group Membership Protocol", with suspicion and incarnation numbers.
#include "swim.hpp"

#include <algorithm>
#include <cmath>
#include <set>

namespace mochi::flock::detail {

using nlohmann::json;
namespace margo = mochi::margo;

namespace {

// Events per message. Enough to spread a burst of changes in a few periods, small enough to
// keep a ping far below the eager size.
constexpr size_t kMaxPiggyback = 8;
// Tombstones kept (dead members that must not come back through stale views or gossip).
constexpr size_t kMaxTombstones = 4096;

[[noreturn]] void bad(const std::string& key, const json& v, const std::string& why) {
    throw Exception("invalid flock config: \"group.config." + key + "\" = " + v.dump() + ": " + why);
}

json number_json(double v) {
    if (v == std::floor(v) && std::fabs(v) < 1e15) return static_cast<long long>(v);
    return v;
}

const char* state_name(int s) {
    static const char* names[] = {"alive", "suspect", "dead"};
    return names[s];
}

// A member described in a request; throws Exception when malformed.
Member parse_member(const json& j, const char* what) {
    if (!j.is_object() || !j.contains("address") || !j["address"].is_string() || j["address"].get_ref<const std::string&>().empty())
        throw Exception(std::string("malformed swim request: \"") + what + "\" must be {\"address\": ..., \"provider_id\": ...}");
    const json& id = j.contains("provider_id") ? j["provider_id"] : json(0);
    if (!id.is_number_integer() || id.get<long long>() < 0 || id.get<long long>() > 65535)
        throw Exception(std::string("malformed swim request: \"") + what + ".provider_id\" must be an integer in [0, 65535]");
    return {j["address"].get<std::string>(), static_cast<uint16_t>(id.get<long long>())};
}

uint64_t parse_incarnation(const json& j, const char* key) {
    if (!j.contains(key)) return 0;
    const json& v = j[key];
    if (!v.is_number_unsigned()) {
        if (v.is_number_integer() && v.get<long long>() >= 0) return static_cast<uint64_t>(v.get<long long>());
        throw Exception(std::string("malformed swim request: \"") + key + "\" must be a non-negative integer");
    }
    return v.get<uint64_t>();
}

json member_json(const Member& m) { return {{"address", m.address}, {"provider_id", m.provider_id}}; }

std::string describe(const Member& m) { return m.address + " (provider " + std::to_string(m.provider_id) + ")"; }

}  // namespace

// ------------------------------------------------------------------------------ config

SwimConfig SwimConfig::parse(const json& j) {
    SwimConfig c;
    if (j.is_null()) return c;
    if (!j.is_object()) throw Exception("invalid flock config: \"group.config\" = " + j.dump() + ": expected an object");
    bool ping_given = false;
    for (auto& item : j.items()) {
        const std::string& k = item.key();
        const json& v = item.value();
        if (k == "period_length_ms") {
            if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 1)
                bad(k, v, "expected a number of milliseconds >= 1");
            c.period_length_ms = v.get<double>();
        } else if (k == "suspect_timeout_periods") {
            if (!v.is_number_integer() || v.get<long long>() < 1 || v.get<long long>() > 1000000)
                bad(k, v, "expected an integer >= 1");
            c.suspect_timeout_periods = static_cast<int>(v.get<long long>());
        } else if (k == "subgroup_member_count") {
            if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() > 1000)
                bad(k, v, "expected an integer >= 0 (0 disables indirect probes)");
            c.subgroup_member_count = static_cast<int>(v.get<long long>());
        } else if (k == "ping_timeout_ms") {
            if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() <= 0)
                bad(k, v, "expected a positive number of milliseconds");
            c.ping_timeout_ms = v.get<double>();
            ping_given = true;
        } else if (k == "disabled") {
            if (!v.is_boolean()) bad(k, v, "expected true or false");
            c.disabled = v.get<bool>();
        } else {
            bad(k, v,
                "unknown key (expected period_length_ms, suspect_timeout_periods, subgroup_member_count, "
                "ping_timeout_ms, disabled)");
        }
    }
    if (!ping_given) {
        c.ping_timeout_ms = c.period_length_ms / 4;
    } else if (c.ping_timeout_ms > c.period_length_ms / 2) {
        // A probe round is one direct ping plus an indirect one of twice the timeout: longer
        // timeouts would stretch every period with a failure and the time a stop can take.
        bad("ping_timeout_ms", j["ping_timeout_ms"],
            "must be at most half of period_length_ms (" + number_json(c.period_length_ms / 2).dump() + ")");
    }
    return c;
}

json SwimConfig::to_json() const {
    return {{"period_length_ms", number_json(period_length_ms)},
            {"suspect_timeout_periods", suspect_timeout_periods},
            {"subgroup_member_count", subgroup_member_count},
            {"ping_timeout_ms", number_json(ping_timeout_ms)},
            {"disabled", disabled}};
}

// ------------------------------------------------------------------------------ lifetime

Swim::Swim(const margo::Engine& engine, Member self, SwimConfig config, Hooks hooks)
: engine_(engine), self_(std::move(self)), cfg_(config), hooks_(std::move(hooks)) {
    std::random_device rd;
    rng_.seed((static_cast<uint64_t>(rd()) << 32) ^ rd() ^ std::hash<std::string>()(key_of(self_)));
}

Swim::~Swim() {
    std::lock_guard<std::mutex> lock(thread_mutex_);
    if (thread_.joinable()) {
        // The last reference may be the thread's own (it drops it on its way out).
        if (thread_.get_id() == std::this_thread::get_id()) thread_.detach();
        else thread_.join();
    }
}

void Swim::start() {
    if (cfg_.disabled) return;
    std::lock_guard<std::mutex> tlock(thread_mutex_);
    if (thread_.joinable()) return;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stop_) return;
        exited_ = false;
    }
    // The thread keeps the object alive: a stop that gives up waiting detaches it, and it must
    // still find its state when it wakes up.
    auto self = shared_from_this();
    thread_ = std::thread([self] { self->run(); });
}

void Swim::request_stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    cv_.notify_all();
}

double Swim::stop_bound_ms() const { return 2 * cfg_.ping_timeout_ms + 100; }

void Swim::stop(double wait_ms) {
    request_stop();
    std::lock_guard<std::mutex> tlock(thread_mutex_);
    if (!thread_.joinable()) return;
    if (thread_.get_id() == std::this_thread::get_id()) {
        thread_.detach();
        return;
    }
    bool exited;
    {
        std::unique_lock<std::mutex> lock(mutex_);
        exited = cv_.wait_for(lock, std::chrono::microseconds(static_cast<int64_t>(wait_ms * 1000)),
                              [&] { return exited_; });
    }
    if (exited) thread_.join();  // it is past its last use of anything: returns at once
    else thread_.detach();
}

uint64_t Swim::incarnation() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return incarnation_;
}

bool Swim::stopping() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stop_;
}

std::string Swim::key_of(const Member& m) { return m.address + "\n" + std::to_string(m.provider_id); }

json Swim::self_json() const { return member_json(self_); }

// ------------------------------------------------------------------------------ protocol loop

void Swim::run() {
    const auto period = std::chrono::microseconds(static_cast<int64_t>(cfg_.period_length_ms * 1000));
    // The first probe waits one period: the other members may still be registering their RPCs
    // (mpi bootstrap starts every rank at once).
    auto next_probe = Clock::now() + period;
    for (;;) {
        {
            std::unique_lock<std::mutex> lock(mutex_);
            auto wake = next_probe;
            if (!expelled_)  // an expelled member declares nobody dead (expire_suspects)
                for (auto& [k, p] : peers_)
                    if (p.state == State::Suspect) wake = std::min(wake, p.deadline);
            cv_.wait_until(lock, wake, [&] { return stop_; });
            if (stop_) break;
        }
        try {
            expire_suspects();
        } catch (const std::exception& e) {
            engine_.log(margo::LogLevel::Error, std::string("flock swim: ") + e.what());
        }
        auto now = Clock::now();
        if (now >= next_probe) {
            next_probe = now + period;  // periods start-to-start; a long probe round shortens the wait
            try {
                probe_once();
            } catch (const std::exception& e) {
                engine_.log(margo::LogLevel::Error, std::string("flock swim: ") + e.what());
            }
        }
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        exited_ = true;
    }
    cv_.notify_all();
}

Member Swim::next_target(const std::vector<Member>& members) {
    auto listed = [&](const Member& m) { return std::find(members.begin(), members.end(), m) != members.end(); };
    // Round robin over a shuffled order: every member is probed once per round (bounded
    // detection time), in an order other members cannot correlate.
    for (size_t tries = 0; tries < 2 * members.size() + 2; ++tries) {
        if (next_ >= order_.size()) {
            order_.clear();
            for (auto& m : members)
                if (!(m == self_)) order_.push_back(m);
            std::shuffle(order_.begin(), order_.end(), rng_);
            next_ = 0;
            if (order_.empty()) return {};
        }
        Member m = order_[next_++];
        if (!listed(m)) continue;
        std::lock_guard<std::mutex> lock(mutex_);
        if (dead_.count(key_of(m))) continue;
        return m;
    }
    return {};
}

void Swim::probe_once() {
    std::vector<Member> members = hooks_.members();
    if (std::find(members.begin(), members.end(), self_) == members.end()) return;  // not (or no longer) a member
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (expelled_ || stop_) return;
        group_size_ = members.size();
        // Forget what we knew about members that left the view another way (leave, update).
        std::set<std::string> keys;
        for (auto& m : members) keys.insert(key_of(m));
        for (auto it = peers_.begin(); it != peers_.end();)
            it = keys.count(it->first) ? std::next(it) : peers_.erase(it);
    }
    Member target = next_target(members);
    if (target.address.empty()) return;
    if (ping(target).reached) return;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stop_) return;  // a failure caused by our own engine shutting down says nothing
    }
    if (ping_indirect(target, members)) return;
    std::vector<Member> dead;
    Logs logs;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stop_) return;
        auto it = peers_.find(key_of(target));
        uint64_t inc = it == peers_.end() ? 0 : it->second.incarnation;
        bool was_suspect = it != peers_.end() && it->second.state == State::Suspect;
        apply_locked(target, State::Suspect, inc, dead, logs);
        if (!was_suspect)
            logs.emplace_back(margo::LogLevel::Info, "suspecting " + describe(target) + ": no answer to a direct or indirect ping");
    }
    finish(std::move(dead), std::move(logs));
}

Swim::Probe Swim::ping(const Member& target) {
    json in;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        in = {{"from", self_json()}, {"incarnation", incarnation_}, {"events", piggyback_locked(target)}};
    }
    margo::Response resp;
    try {
        resp = engine_.forward(engine_.lookup(target.address), "flock_swim_ping", in.dump(), target.provider_id,
                               cfg_.ping_timeout_ms);
    } catch (const std::exception&) {
        return {};  // timeout, unreachable, no such provider (any more), engine finalized
    }
    Probe p;
    p.reached = true;  // it answered: whatever the answer says, the process is there
    try {
        json out = json::parse(resp.output());
        if (out.is_object() && out.value("ok", false)) {
            p.incarnation = parse_incarnation(out, "incarnation");
            absorb(out, &target);
        }
    } catch (const std::exception&) {
    }
    return p;
}

bool Swim::ping_indirect(const Member& target, const std::vector<Member>& members) {
    if (cfg_.subgroup_member_count <= 0) return false;
    std::vector<Member> alive, suspect;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (auto& m : members) {
            if (m == self_ || m == target || dead_.count(key_of(m))) continue;
            auto it = peers_.find(key_of(m));
            (it != peers_.end() && it->second.state == State::Suspect ? suspect : alive).push_back(m);
        }
    }
    std::shuffle(alive.begin(), alive.end(), rng_);
    std::shuffle(suspect.begin(), suspect.end(), rng_);
    alive.insert(alive.end(), suspect.begin(), suspect.end());  // suspects only when short of helpers
    if (alive.size() > static_cast<size_t>(cfg_.subgroup_member_count)) alive.resize(cfg_.subgroup_member_count);
    if (alive.empty()) return false;

    // All helpers at once: the round takes one helper timeout, not k of them.
    static const uint64_t rpc = margo::rpc_id_of("flock_swim_ping_req");
    std::vector<std::string> inputs(alive.size());
    std::vector<std::pair<Member, margo::AsyncResponse>> calls;
    for (size_t i = 0; i < alive.size(); ++i) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            inputs[i] = json{{"from", self_json()},
                             {"incarnation", incarnation_},
                             {"target", member_json(target)},
                             {"events", piggyback_locked(alive[i])}}
                            .dump();
        }
        if (stopping()) break;
        try {
            calls.emplace_back(alive[i], engine_.iforward(engine_.lookup(alive[i].address), rpc, inputs[i],
                                                         alive[i].provider_id, 2 * cfg_.ping_timeout_ms));
        } catch (const std::exception&) {
        }
    }
    bool reached = false;
    for (auto& [helper, call] : calls) {
        try {
            auto resp = call.wait();
            json out = json::parse(resp.output());
            if (!out.is_object() || !out.value("ok", false)) continue;
            absorb(out, &helper);
            if (out.value("reached", false)) {
                reached = true;
                json alive_event = {{"events", json::array({{{"address", target.address},
                                                             {"provider_id", target.provider_id},
                                                             {"state", "alive"},
                                                             {"incarnation", parse_incarnation(out, "target_incarnation")}}})}};
                absorb(alive_event, nullptr);
            }
        } catch (const std::exception&) {
        }
    }
    return reached;
}

void Swim::expire_suspects() {
    std::vector<Member> expired;
    json notices = json::array();
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (expelled_) return;
        auto now = Clock::now();
        for (auto it = peers_.begin(); it != peers_.end();) {
            if (it->second.state != State::Suspect || it->second.deadline > now) {
                ++it;
                continue;
            }
            // Parse the member back from its key (address, newline, provider id).
            auto nl = it->first.rfind('\n');
            Member m{it->first.substr(0, nl), static_cast<uint16_t>(std::stoul(it->first.substr(nl + 1)))};
            uint64_t inc = it->second.incarnation;
            it = peers_.erase(it);
            dead_[key_of(m)] = now;
            enqueue_locked(m, State::Dead, inc);
            expired.push_back(m);
            json n = member_json(m);
            n["incarnation"] = inc;
            notices.push_back(n);
        }
    }
    if (expired.empty()) return;
    for (auto& m : expired)
        engine_.log(margo::LogLevel::Info, "flock swim: " + describe(m) + " declared dead (suspected for " +
                                               std::to_string(cfg_.suspect_timeout_periods) +
                                               " periods without refuting)");
    std::string view_json = hooks_.remove(expired);
    if (view_json.empty()) return;  // someone else removed them first and told everybody
    std::vector<Member> members = hooks_.members();
    // Gossip alone reaches everybody within a few periods; the push makes the new view visible
    // to clients (GroupHandle.update) as soon as the death is confirmed.
    json doc = json::parse(view_json);
    doc["swim"] = {{"dead", notices}};
    std::string body = doc.dump();
    static const uint64_t rpc = margo::rpc_id_of("flock_update_view");
    std::vector<margo::AsyncResponse> calls;
    for (auto& m : members) {
        if (m == self_) continue;
        if (stopping()) break;
        try {
            calls.push_back(engine_.iforward(engine_.lookup(m.address), rpc, body, m.provider_id, 2 * cfg_.ping_timeout_ms));
        } catch (const std::exception&) {
        }
    }
    for (auto& c : calls) {
        try {
            c.wait();
        } catch (const std::exception&) {
        }
    }
}

// ------------------------------------------------------------------------------ events

void Swim::enqueue_locked(const Member& m, State state, uint64_t inc) {
    // One pending event per member: the newest supersedes whatever was still being spread.
    gossip_[key_of(m)] = Gossip{m, state, inc, 0};
}

void Swim::apply_locked(const Member& m, State state, uint64_t inc, std::vector<Member>& dead,
                        Logs& logs) {
    const auto now = Clock::now();
    if (m == self_) {
        if (state == State::Dead) {
            if (!expelled_) {
                expelled_ = true;
                logs.emplace_back(margo::LogLevel::Warning, "this member (" + describe(self_) +
                               ") was declared dead by the group; it stops probing. Restart it with the "
                               "\"join\" bootstrap to take part again");
            }
        } else if (state == State::Suspect && inc >= incarnation_) {
            // Refute: a higher incarnation overrides every suspicion of the older one.
            incarnation_ = inc + 1;
            enqueue_locked(self_, State::Alive, incarnation_);
        }
        return;
    }
    const std::string key = key_of(m);
    if (dead_.count(key)) return;  // dead is final (until a new join)
    if (state == State::Dead) {
        if (dead_.size() >= kMaxTombstones) {
            auto oldest = std::min_element(dead_.begin(), dead_.end(),
                                           [](auto& a, auto& b) { return a.second < b.second; });
            dead_.erase(oldest);
        }
        dead_[key] = now;
        peers_.erase(key);
        enqueue_locked(m, State::Dead, inc);
        dead.push_back(m);
        logs.emplace_back(margo::LogLevel::Info, "learned that " + describe(m) + " is dead");
        return;
    }
    auto [it, fresh] = peers_.try_emplace(key);
    Peer& p = it->second;
    if (state == State::Alive) {
        if (inc > p.incarnation) {
            p.incarnation = inc;
            p.state = State::Alive;
            enqueue_locked(m, State::Alive, inc);
        }
    } else if ((p.state == State::Alive && inc >= p.incarnation) || (p.state == State::Suspect && inc > p.incarnation)) {
        p.state = State::Suspect;
        p.incarnation = inc;
        // Counted from when *we* learned of it: everybody gives the member the full timeout.
        p.deadline = now + std::chrono::microseconds(static_cast<int64_t>(cfg_.suspect_timeout_periods *
                                                                          cfg_.period_length_ms * 1000));
        enqueue_locked(m, State::Suspect, inc);
        cv_.notify_all();  // the loop may need to wake earlier for this deadline
    }
    (void)fresh;
}

json Swim::piggyback_locked(const Member& to) {
    json events = json::array();
    auto add = [&](const Member& m, State s, uint64_t inc) {
        events.push_back({{"address", m.address}, {"provider_id", m.provider_id}, {"state", state_name(static_cast<int>(s))},
                          {"incarnation", inc}});
    };
    // What the recipient must hear about itself, whatever the queue holds: that we suspect it
    // (so that it refutes now) or that it was declared dead.
    const std::string to_key = key_of(to);
    bool about_to = false;
    if (dead_.count(to_key)) {
        add(to, State::Dead, 0);
        about_to = true;
    } else if (auto it = peers_.find(to_key); it != peers_.end() && it->second.state == State::Suspect) {
        add(to, State::Suspect, it->second.incarnation);
        about_to = true;
    }
    // Then the least-spread events. Each is sent about 3 log2(n) times (SWIM's lambda log n),
    // enough for an infection-style spread to reach everybody with high probability.
    std::vector<std::map<std::string, Gossip>::iterator> order;
    for (auto it = gossip_.begin(); it != gossip_.end(); ++it)
        if (!(about_to && it->first == to_key)) order.push_back(it);
    std::sort(order.begin(), order.end(), [](auto& a, auto& b) { return a->second.sent < b->second.sent; });
    const int limit = 3 * static_cast<int>(std::ceil(std::log2(static_cast<double>(group_size_) + 1))) + 1;
    for (auto& it : order) {
        if (events.size() >= kMaxPiggyback) break;
        add(it->second.member, it->second.state, it->second.incarnation);
        if (++it->second.sent >= limit) gossip_.erase(it);
    }
    return events;
}

void Swim::absorb(const json& msg, const Member* sender) {
    std::vector<Member> dead;
    Logs logs;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (sender && !(*sender == self_) && msg.contains("incarnation")) {
            // A message from the member itself says it is alive at its incarnation.
            try {
                apply_locked(*sender, State::Alive, parse_incarnation(msg, "incarnation"), dead, logs);
            } catch (const Exception&) {
            }
        }
        if (msg.contains("events") && msg["events"].is_array()) {
            for (auto& e : msg["events"]) {
                try {
                    Member m = parse_member(e, "events[]");
                    std::string s = e.is_object() && e.contains("state") && e["state"].is_string() ? e["state"].get<std::string>() : "";
                    State st;
                    if (s == "alive") st = State::Alive;
                    else if (s == "suspect") st = State::Suspect;
                    else if (s == "dead") st = State::Dead;
                    else continue;  // an unknown kind of event from a newer peer: ignore it
                    apply_locked(m, st, parse_incarnation(e, "incarnation"), dead, logs);
                } catch (const Exception&) {
                    // one malformed event does not spoil the others
                }
            }
        }
    }
    finish(std::move(dead), std::move(logs));
}

void Swim::finish(std::vector<Member> dead, Logs logs) {
    if (!dead.empty()) {
        try {
            hooks_.remove(dead);
        } catch (const std::exception& e) {
            logs.emplace_back(margo::LogLevel::Error, std::string("removing dead members: ") + e.what());
        }
    }
    for (auto& [level, line] : logs) {
        try {
            engine_.log(level, "flock swim: " + line);
        } catch (...) {
        }
    }
}

// ------------------------------------------------------------------------------ RPC bodies

namespace {
void check_request(const json& in) {
    if (!in.is_object()) throw Exception("malformed swim request: expected a JSON object");
    if (in.contains("events") && !in["events"].is_array())
        throw Exception("malformed swim request: \"events\" must be an array");
}
}  // namespace

json Swim::handle_ping(const json& in) {
    check_request(in);
    Member from = parse_member(in.contains("from") ? in["from"] : json(), "from");
    parse_incarnation(in, "incarnation");  // validate before anything is applied
    absorb(in, &from);
    std::lock_guard<std::mutex> lock(mutex_);
    return {{"ok", true}, {"incarnation", incarnation_}, {"events", piggyback_locked(from)}};
}

json Swim::handle_ping_req(const json& in) {
    check_request(in);
    Member from = parse_member(in.contains("from") ? in["from"] : json(), "from");
    Member target = parse_member(in.contains("target") ? in["target"] : json(), "target");
    parse_incarnation(in, "incarnation");
    absorb(in, &from);
    Probe p;
    if (target == self_) {
        p.reached = true;
        p.incarnation = incarnation();
    } else {
        p = ping(target);
    }
    std::lock_guard<std::mutex> lock(mutex_);
    return {{"ok", true},
            {"incarnation", incarnation_},
            {"reached", p.reached},
            {"target_incarnation", p.incarnation},
            {"events", piggyback_locked(from)}};
}

void Swim::learn_dead(const json& list) {
    if (!list.is_array()) throw Exception("malformed death notice: \"swim.dead\" must be an array");
    std::vector<Member> dead;
    Logs logs;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (auto& e : list) {
            try {
                apply_locked(parse_member(e, "swim.dead[]"), State::Dead, parse_incarnation(e, "incarnation"), dead, logs);
            } catch (const Exception&) {
            }
        }
    }
    finish(std::move(dead), std::move(logs));
}

void Swim::joined(const Member& m) {
    std::lock_guard<std::mutex> lock(mutex_);
    const std::string key = key_of(m);
    dead_.erase(key);
    peers_.erase(key);
    gossip_.erase(key);
}

void Swim::left(const Member& m) {
    std::lock_guard<std::mutex> lock(mutex_);
    const std::string key = key_of(m);
    peers_.erase(key);
    gossip_.erase(key);
}

bool Swim::is_dead(const Member& m) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return dead_.count(key_of(m)) > 0;
}

}  // namespace mochi::flock::detail
