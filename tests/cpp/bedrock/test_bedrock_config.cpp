// Config processing (no engine needed): preprocessing, validation errors, the query language.
#include <mochi/bedrock/server.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using nlohmann::json;
using mochi::bedrock::Exception;

static json pre(const std::string& text, int rank = 0, int size = 1) {
    mochi::bedrock::ServerOptions o;
    o.rank = rank;
    o.size = size;
    return json::parse(mochi::bedrock::preprocess_config(text, o));
}

static std::string error_of(const std::string& text) {
    try {
        pre(text);
    } catch (const Exception& e) {
        return e.what();
    }
    return "";
}

TEST(BedrockConfig, IfFilteringAndDottedKeys) {
    auto c = pre(R"({"providers":[{"name":"a","type":"yokan","__if__":false},
                                 {"name":"b","type":"yokan","config.database.type":"map"},
                                 {"name":"c","type":"yokan","__if__":"$MPI_COMM_WORLD.rank == 1"}]})", 1, 2);
    ASSERT_EQ(c["providers"].size(), 2u);
    EXPECT_EQ(c["providers"][0]["name"], "b");
    EXPECT_EQ(c["providers"][0]["config"]["database"]["type"], "map");
    EXPECT_EQ(c["providers"][1]["name"], "c");
}

TEST(BedrockConfig, RankIndexedArrays) {
    auto c = pre(R"([{"providers":[{"name":"r0","type":"yokan"}]},{"providers":[{"name":"r1","type":"yokan"}]}])", 1, 2);
    EXPECT_EQ(c["providers"][0]["name"], "r1");
    auto one = pre(R"([{"providers":[{"name":"only","type":"yokan"}]}])");
    EXPECT_EQ(one["providers"][0]["name"], "only");
    EXPECT_NE(error_of(R"([{}, {}, {}])").find("one entry per MPI rank"), std::string::npos);
}

TEST(BedrockConfig, ErrorsNamePathAndValue) {
    auto e = error_of(R"({"providers":[{"name":"x","type":"yokan","provider_id":"abc"}]})");
    EXPECT_NE(e.find("providers[0].provider_id"), std::string::npos) << e;
    EXPECT_NE(e.find("\"abc\""), std::string::npos) << e;
    e = error_of(R"({"providers":[{"name":"1bad","type":"yokan"}]})");
    EXPECT_NE(e.find("providers[0].name"), std::string::npos) << e;
    e = error_of(R"({"providers":[{"name":"a","type":"yokan"},{"name":"a","type":"yokan"}]})");
    EXPECT_NE(e.find("duplicate provider name"), std::string::npos) << e;
    e = error_of(R"({"providers":[{"name":"a","type":"yokan","pool":"p"}]})");
    EXPECT_NE(e.find("dependencies"), std::string::npos) << e;
    e = error_of(R"({"bedrock":{"provider_id":70000}})");
    EXPECT_NE(e.find("bedrock.provider_id"), std::string::npos) << e;
    e = error_of(R"({"providers":{}})");
    EXPECT_NE(e.find("providers"), std::string::npos) << e;
    e = error_of(R"({"bogus":1})");
    EXPECT_NE(e.find("bogus"), std::string::npos) << e;
    e = error_of(R"({"providers": [)");
    EXPECT_NE(e.find("invalid JSON"), std::string::npos) << e;
    e = error_of(R"({"providers":[{"name":"a","type":"yokan","__if__":3}]})");
    EXPECT_NE(e.find("__if__"), std::string::npos) << e;
}

TEST(BedrockQuery, Expressions) {
    std::string vars = R"({"__config__":{"providers":[{"name":"db","provider_id":3}],"n":2}})";
    EXPECT_EQ(mochi::bedrock::evaluate_query("return $__config__.providers[0].name;", vars), "\"db\"");
    EXPECT_EQ(mochi::bedrock::evaluate_query("return count($__config__.providers);", vars), "1");
    EXPECT_EQ(mochi::bedrock::evaluate_query("return {\"a\": $__config__.n * 2, b: [1, \"x\"]};", vars),
              R"({"a":4,"b":[1,"x"]})");
    EXPECT_EQ(mochi::bedrock::evaluate_query("return $__config__.missing.deeper;", vars), "null");
    EXPECT_EQ(mochi::bedrock::evaluate_query("return $__config__.n >= 2 && !false;", vars), "true");
    EXPECT_THROW(mochi::bedrock::evaluate_query("return $__config__.;", vars), Exception);
}

// The engine additions bedrock relies on: pools and xstreams added and removed at run time.
TEST(EngineLayout, AddAndRemovePoolsAndXstreams) {
    mochi::margo::Engine engine("ofi+tcp://127.0.0.1:0", mochi::margo::Mode::Server);
    engine.add_pool(R"({"name":"p1","kind":"fifo_wait"})");
    EXPECT_THROW(engine.add_pool(R"({"name":"p1"})"), std::invalid_argument);
    EXPECT_THROW(engine.add_pool(R"({"name":"p2","kind":"odd"})"), std::invalid_argument);
    engine.add_xstream(R"({"name":"x1","scheduler":{"type":"basic_wait","pools":["p1"]}})");
    EXPECT_THROW(engine.add_xstream(R"({"name":"x2","scheduler":{"pools":["nope"]}})"), std::invalid_argument);
    auto cfg = json::parse(engine.config());
    EXPECT_EQ(cfg["argobots"]["pools"].size(), 2u);
    EXPECT_EQ(cfg["argobots"]["xstreams"].size(), 2u);
    // An RPC in p1 runs on x1.
    engine.define("ping", [](const mochi::margo::Request& r) { r.respond("pong"); }, 0, "p1");
    EXPECT_EQ(engine.forward(engine.self(), "ping", "").output(), "pong");
    EXPECT_THROW(engine.remove_pool("p1"), std::invalid_argument);     // x1 and "ping" use it
    EXPECT_THROW(engine.remove_xstream("x1"), std::invalid_argument);  // the only runner of p1
    engine.deregister(mochi::margo::rpc_id_of("ping"), 0);
    engine.remove_xstream("x1");
    engine.remove_pool("p1");
    EXPECT_THROW(engine.remove_pool("__primary__"), std::invalid_argument);
    EXPECT_THROW(engine.remove_xstream("__primary__"), std::invalid_argument);
    cfg = json::parse(engine.config());
    EXPECT_EQ(cfg["argobots"]["pools"].size(), 1u);
    EXPECT_EQ(cfg["argobots"]["xstreams"].size(), 1u);
    engine.finalize();
}
