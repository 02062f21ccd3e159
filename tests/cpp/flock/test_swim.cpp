// flock "swim" groups: several engines in one process, short protocol periods. A finalized
// engine plays the dead member (its port closes, so pings fail fast over tcp); a member whose
// handler xstream is blocked for a while plays the slow one.
#include <gtest/gtest.h>
#include <mochi/flock/client.hpp>
#include <mochi/flock/provider.hpp>

#include <nlohmann/json.hpp>

#include "common/temp_dir.hpp"

#include <chrono>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace margo = mochi::margo;
namespace flock = mochi::flock;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr uint16_t kId = 7;

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Polls `pred` every 10 ms; returns the milliseconds it took, or -1 after `timeout_ms`.
double wait_for(const std::function<bool()>& pred, double timeout_ms) {
    auto t0 = Clock::now();
    for (;;) {
        if (pred()) return ms_since(t0);
        if (ms_since(t0) > timeout_ms) return -1;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

json swim_group(double period_ms, int suspect_periods, json extra = json::object()) {
    json c = {{"period_length_ms", period_ms}, {"suspect_timeout_periods", suspect_periods}};
    for (auto& kv : extra.items()) c[kv.key()] = kv.value();
    return {{"type", "swim"}, {"config", c}};
}

bool lists(const flock::GroupView& v, const std::string& address) { return v.exists(address, kId); }

// Log lines of every engine of a group (Info and up), for checks that something happened.
struct LogCapture {
    std::mutex mutex;
    std::vector<std::string> lines;
    void attach(const margo::Engine& e) {
        e.set_log_level(margo::LogLevel::Info);
        e.set_log_sink([this](margo::LogLevel, const std::string& msg) {
            std::lock_guard<std::mutex> lock(mutex);
            lines.push_back(msg);
        });
    }
    bool contains(const std::string& a, const std::string& b = "") {
        std::lock_guard<std::mutex> lock(mutex);
        for (auto& l : lines)
            if (l.find(a) != std::string::npos && l.find(b) != std::string::npos) return true;
        return false;
    }
};

// N engines, one swim provider each, all listed in one initial view (the "view" bootstrap).
struct Group {
    kinako::testing::TempDir dir{"flock-swim"};
    std::string file;
    std::vector<margo::Engine> engines;
    std::vector<std::string> addrs;  // kept: a finalized engine no longer knows its address
    std::vector<std::unique_ptr<flock::Provider>> providers;
    LogCapture logs;

    Group(size_t n, const json& group, const std::string& proto = "ofi+tcp://127.0.0.1") {
        file = dir.str() + "/group.flock";
        for (size_t i = 0; i < n; ++i) engines.emplace_back(proto, margo::Mode::Server);
        for (auto& e : engines) logs.attach(e);
        for (auto& e : engines) addrs.push_back(e.self().to_string());
        flock::GroupView view;
        for (auto& e : engines) view.add(e.self().to_string(), kId);
        json cfg = {{"file", file}, {"group", group}};
        for (auto& e : engines) providers.push_back(std::make_unique<flock::Provider>(e, kId, cfg.dump(), view));
    }
    ~Group() {
        providers.clear();
        for (auto& e : engines)
            if (!e.finalized()) e.finalize();
    }
    flock::GroupView file_view() const {
        try {
            return flock::GroupView::load(file);
        } catch (const flock::Exception&) {
            return {};
        }
    }
};

class SwimTest : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override { setenv("FI_TCP_IFACE", "lo", 1); }
};

}  // namespace

// ------------------------------------------------------------------------------ config

TEST(SwimConfig, DefaultsAreFilledIn) {
    setenv("FI_TCP_IFACE", "lo", 1);
    margo::Engine e("na+sm", margo::Mode::Server);
    flock::GroupView view;
    view.add(e.self().to_string(), kId);
    {
        flock::Provider p(e, kId, R"({"group": {"type": "swim"}})", view);
        json c = json::parse(p.config())["group"]["config"];
        EXPECT_EQ(c, json::parse(R"({"period_length_ms": 1000, "suspect_timeout_periods": 5,
                                    "subgroup_member_count": 3, "ping_timeout_ms": 250, "disabled": false})"));
        EXPECT_EQ(json::parse(p.view().metadata.at("__config__")), c);
    }
    {
        flock::Provider p(e, kId, R"({"group": {"type": "swim", "config": {"period_length_ms": 100, "disabled": true}}})", view);
        json c = json::parse(p.config())["group"]["config"];
        EXPECT_EQ(c["ping_timeout_ms"], 25);
        EXPECT_EQ(c["disabled"], true);
    }
    e.finalize();
}

TEST(SwimConfig, BadValuesNameTheKeyAndValue) {
    setenv("FI_TCP_IFACE", "lo", 1);
    margo::Engine e("na+sm", margo::Mode::Server);
    flock::GroupView view;
    view.add(e.self().to_string(), kId);
    struct Case {
        const char* config;
        const char* expect;
    };
    const Case cases[] = {
        {R"({"period_length_ms": 0})", "\"group.config.period_length_ms\" = 0"},
        {R"({"period_length_ms": "fast"})", "\"group.config.period_length_ms\" = \"fast\""},
        {R"({"suspect_timeout_periods": 0})", "\"group.config.suspect_timeout_periods\" = 0"},
        {R"({"suspect_timeout_periods": 2.5})", "\"group.config.suspect_timeout_periods\" = 2.5"},
        {R"({"subgroup_member_count": -1})", "\"group.config.subgroup_member_count\" = -1"},
        {R"({"ping_timeout_ms": -3})", "\"group.config.ping_timeout_ms\" = -3"},
        {R"({"period_length_ms": 100, "ping_timeout_ms": 60})", "\"group.config.ping_timeout_ms\" = 60"},
        {R"({"disabled": "yes"})", "\"group.config.disabled\" = \"yes\""},
        {R"({"period": 100})", "\"group.config.period\" = 100"},
        {R"([1, 2])", "\"group.config\" = [1,2]"},
    };
    for (auto& c : cases) {
        std::string cfg = std::string(R"({"group": {"type": "swim", "config": )") + c.config + "}}";
        try {
            flock::Provider p(e, kId, cfg, view);
            ADD_FAILURE() << "accepted " << cfg;
        } catch (const flock::Exception& ex) {
            EXPECT_NE(std::string(ex.what()).find(c.expect), std::string::npos) << ex.what();
        }
    }
    EXPECT_THROW(flock::Provider(e, kId, R"({"group": {"type": 3}})", view), flock::Exception);
    e.finalize();
}

// ------------------------------------------------------------------------------ detection

TEST_P(SwimTest, FinalizedMemberIsRemovedAndTheNextFirstRewritesTheFile) {
    const double period = 100;
    const int suspect = 3;
    const size_t n = 4;
    Group g(n, swim_group(period, suspect), GetParam());
    ASSERT_EQ(g.file_view().members.size(), n);
    std::vector<uint64_t> versions;
    for (auto& p : g.providers) versions.push_back(p->view().version);
    // The first member writes the group file: kill it, the second one must take over. Over
    // tcp its engine finalizes (the port closes). Over na+sm only its provider goes (pings get
    // "no such RPC"): sending to an engine of this same process that finalized crashes inside
    // libfabric's shm provider (a separate process's region stays mapped, this one does not).
    auto t0 = Clock::now();
    if (GetParam() == "na+sm") g.providers[0].reset();
    else g.engines[0].finalize();
    double removed = wait_for([&] {
        for (size_t i = 1; i < n; ++i)
            if (lists(g.providers[i]->view(), g.addrs[0])) return false;
        return true;
    }, 20000);
    ASSERT_GE(removed, 0) << "the finalized member was never removed";
    double in_file = wait_for([&] { return g.file_view().members.size() == n - 1; }, 5000);
    ASSERT_GE(in_file, 0);
    std::cout << "[ swim     ] " << GetParam() << ": removed from every view after " << removed << " ms ("
              << removed / period << " periods of " << period << " ms, suspect_timeout_periods " << suspect
              << "), group file after " << ms_since(t0) << " ms\n";
    // Expected: first probe of the dead member within about one round (n - 1 periods), the
    // suspicion timeout, one more period; plus generous slack for a loaded machine.
    EXPECT_LT(removed, period * (suspect + n + 2) + 3000);
    auto fv = g.file_view();
    EXPECT_FALSE(lists(fv, g.addrs[0]));
    EXPECT_EQ(fv.members[0].address, g.addrs[1]);
    EXPECT_EQ(fv.metadata["__type__"], "swim");
    for (size_t i = 1; i < n; ++i) {
        auto v = g.providers[i]->view();
        EXPECT_EQ(v.members.size(), n - 1);
        EXPECT_GT(v.version, versions[i]);
    }
    EXPECT_TRUE(g.logs.contains("declared dead", g.addrs[0]));
    // A client refreshing its handle sees the new view.
    margo::Engine client(GetParam(), margo::Mode::Client);
    auto h = flock::GroupHandle::from_file(client, g.file, 2000);
    h.update();
    EXPECT_EQ(h.view().members.size(), n - 1);
    client.finalize();
    // The survivors stay together.
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(5 * period)));
    for (size_t i = 1; i < n; ++i) EXPECT_EQ(g.providers[i]->view().members.size(), n - 1);
}

TEST_P(SwimTest, SlowButAliveMemberIsNotRemoved) {
    const double period = 100;
    const size_t n = 4;
    // Block engine 3's handler xstream: it answers no ping meanwhile, so the others suspect it;
    // once it runs again it hears of the suspicion and refutes. Each member probes the others
    // in a fresh shuffled order every round of n-1 periods, so two probes of the same target
    // can lie 2(n-1)-1 periods apart: a stall of 2(n-1)+1 periods is probed by every member
    // (a 3-period stall once went unprobed by all three).
    const int stall_periods = 2 * static_cast<int>(n - 1) + 1;
    // Eight periods after the stall to refute: on a loaded 2-core box (ctest -j2) a refutation
    // can take several periods to get through (3 once let the slow member be declared dead).
    const int suspect = stall_periods + 8;
    Group g(n, swim_group(period, suspect), GetParam());
    const int stall_ms = static_cast<int>(stall_periods * period);
    g.engines[3].define("stall", [stall_ms](const margo::Request& r) {
        std::this_thread::sleep_for(std::chrono::milliseconds(stall_ms));
        r.respond("");
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(2 * period)));
    static const std::string empty;
    auto call = g.engines[0].iforward(g.engines[0].lookup(g.engines[3].self().to_string()), margo::rpc_id_of("stall"),
                                      empty, 0, 10000);
    call.wait();
    // Well past the suspicion timeout of a suspicion raised during the stall.
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>((suspect + 4) * period)));
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(g.providers[i]->view().members.size(), n) << "member " << i;
    EXPECT_EQ(g.file_view().members.size(), n);
    const std::string slow = g.engines[3].self().to_string();
    EXPECT_TRUE(g.logs.contains("suspecting", slow)) << "the stall went unnoticed: the test proved nothing";
    EXPECT_FALSE(g.logs.contains("declared dead"));
}

INSTANTIATE_TEST_SUITE_P(Protocols, SwimTest, ::testing::Values("ofi+tcp://127.0.0.1", "na+sm"));

TEST(Swim, DisabledNeverRemovesAnybody) {
    setenv("FI_TCP_IFACE", "lo", 1);
    Group g(3, swim_group(50, 1, {{"disabled", true}}));
    g.engines[2].finalize();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    EXPECT_EQ(g.providers[0]->view().members.size(), 3u);
    EXPECT_EQ(g.providers[1]->view().members.size(), 3u);
}

// ------------------------------------------------------------------------------ lifetime

TEST(Swim, DestroyingAProviderWhileItsLoopRunsIsPromptAndSafe) {
    setenv("FI_TCP_IFACE", "lo", 1);
    const double period = 200;  // ping timeout 50 ms: the loop blocks at most 100 ms per call
    Group g(3, swim_group(period, 50));
    g.engines[2].finalize();  // the others now spend their periods in failing pings
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(2.5 * period)));
    auto t0 = Clock::now();
    g.providers[0].reset();
    double took = ms_since(t0);
    std::cout << "[ swim     ] provider destroyed in " << took << " ms while probing a dead member\n";
    EXPECT_LT(took, period + 100);
    // Member 1 keeps running and still answers; an engine may now finalize under a running loop.
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(period)));
    t0 = Clock::now();
    g.engines[1].finalize();
    std::cout << "[ swim     ] engine finalized in " << ms_since(t0) << " ms under a running loop\n";
    EXPECT_LT(ms_since(t0), 2000);
    g.providers[1].reset();  // after its engine: must not touch it

    // Many short lives: create and destroy right away, or after a few fast periods.
    margo::Engine a("na+sm", margo::Mode::Server), b("na+sm", margo::Mode::Server);
    flock::GroupView view;
    view.add(a.self().to_string(), kId);
    view.add(b.self().to_string(), kId);
    json cfg = {{"group", swim_group(10, 2)}};
    for (int i = 0; i < 20; ++i) {
        flock::Provider pa(a, kId, cfg.dump(), view);
        flock::Provider pb(b, kId, cfg.dump(), view);
        if (i % 2) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    a.finalize();
    b.finalize();
}

// ------------------------------------------------------------------------------ RPCs

TEST(Swim, MalformedPingsAreAnsweredAndHarmless) {
    setenv("FI_TCP_IFACE", "lo", 1);
    Group g(2, swim_group(1000, 3));
    margo::Engine client("ofi+tcp://127.0.0.1", margo::Mode::Client);
    auto target = client.lookup(g.engines[0].self().to_string());
    auto ping = [&](const std::string& rpc, const std::string& in) {
        return json::parse(client.forward(target, rpc, in, kId, 5000).output());
    };
    const char* bad[] = {"", "not json", "[]", "3", R"({})", R"({"from": 5})", R"({"from": {"address": 1}})",
                         R"({"from": {"address": "x", "provider_id": -1}})",
                         R"({"from": {"address": "x", "provider_id": 70000}})",
                         R"({"from": {"address": "x"}, "events": "lots"})",
                         R"({"from": {"address": "x"}, "incarnation": -2})",
                         R"({"from": {"address": "x"}, "incarnation": "one"})"};
    for (const char* in : bad) {
        for (const char* rpc : {"flock_swim_ping", "flock_swim_ping_req"}) {
            json out = ping(rpc, in);
            EXPECT_FALSE(out.value("ok", true)) << rpc << " " << in;
            EXPECT_TRUE(out.contains("error"));
        }
    }
    // ping_req without a target
    EXPECT_FALSE(ping("flock_swim_ping_req", R"({"from": {"address": "x"}})").value("ok", true));
    // Junk events are skipped one by one; the ping itself is fine.
    json out = ping("flock_swim_ping", R"({"from": {"address": "x", "provider_id": 1},
        "events": [1, "two", {"address": 3}, {"address": "y", "state": "zombie"},
                   {"address": "y", "state": "suspect", "incarnation": -1}]})");
    EXPECT_TRUE(out.value("ok", false)) << out.dump();
    EXPECT_EQ(out["incarnation"], 0);
    // Telling a member it is suspected makes it refute with a higher incarnation.
    json suspect = {{"from", {{"address", "x"}, {"provider_id", 1}}},
                    {"events", {{{"address", g.engines[0].self().to_string()}, {"provider_id", kId},
                                 {"state", "suspect"}, {"incarnation", 0}}}}};
    out = ping("flock_swim_ping", suspect.dump());
    EXPECT_EQ(out["incarnation"], 1);
    bool refutes = false;
    for (auto& e : out["events"])
        refutes |= e["address"] == g.engines[0].self().to_string() && e["state"] == "alive" && e["incarnation"] == 1;
    EXPECT_TRUE(refutes) << out.dump();
    // An indirect probe of a member that is alive.
    json req = {{"from", {{"address", "x"}, {"provider_id", 1}}},
                {"target", {{"address", g.engines[1].self().to_string()}, {"provider_id", kId}}}};
    out = ping("flock_swim_ping_req", req.dump());
    EXPECT_TRUE(out.value("reached", false)) << out.dump();
    // A member told that the group declared it dead stops probing and says so.
    json dead = {{"from", {{"address", "x"}, {"provider_id", 1}}},
                 {"events", {{{"address", g.addrs[1]}, {"provider_id", kId}, {"state", "dead"}, {"incarnation", 0}}}}};
    out = json::parse(client.forward(client.lookup(g.addrs[1]), "flock_swim_ping", dead.dump(), kId, 5000).output());
    EXPECT_TRUE(out.value("ok", false));
    EXPECT_TRUE(g.logs.contains("was declared dead by the group", g.addrs[1]));
    // Unknown senders do not change the view; the server still serves.
    EXPECT_EQ(g.providers[0]->view().members.size(), 2u);
    auto h = flock::GroupHandle(client, g.engines[0].self().to_string(), kId, 2000);
    EXPECT_EQ(h.view().members.size(), 2u);
    client.finalize();
}

TEST(Swim, JoinAndLeave) {
    setenv("FI_TCP_IFACE", "lo", 1);
    const double period = 50;
    Group g(2, swim_group(period, 3));
    json cfg = {{"bootstrap", "join"}, {"file", g.file}, {"group", swim_group(period, 3)}};
    margo::Engine newcomer("ofi+tcp://127.0.0.1", margo::Mode::Server);
    auto p = flock::Provider::bootstrap(newcomer, kId, cfg.dump());
    EXPECT_EQ(p->view().members.size(), 3u);
    for (auto& q : g.providers) EXPECT_EQ(q->view().members.size(), 3u);
    EXPECT_GE(wait_for([&] { return g.file_view().members.size() == 3; }, 2000), 0);
    // Several periods of probing among the three: nobody is lost.
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(8 * period)));
    for (auto& q : g.providers) EXPECT_EQ(q->view().members.size(), 3u);
    // The newcomer leaves (its provider goes, its engine stays up).
    json in = {{"address", newcomer.self().to_string()}, {"provider_id", kId}};
    auto out = json::parse(newcomer.forward(newcomer.lookup(g.engines[0].self().to_string()), "flock_leave", in.dump(),
                                            kId, 5000).output());
    EXPECT_TRUE(out.value("ok", false)) << out.dump();
    p.reset();
    for (auto& q : g.providers) EXPECT_EQ(q->view().members.size(), 2u);
    EXPECT_GE(wait_for([&] { return g.file_view().members.size() == 2; }, 2000), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(8 * period)));
    for (auto& q : g.providers) EXPECT_EQ(q->view().members.size(), 2u);
    newcomer.finalize();
}
