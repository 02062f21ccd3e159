// Listing filters through a provider and client (na+sm, one process): Lua filters on keys,
// values and documents over every sorted backend, the Lua sandbox (syntax and runtime errors,
// endless loops, memory bombs, no io/os), library filters from the sample library
// (libkinako-yokan-sample-filter.so), pagination and NO_PREFIX.
#include <mochi/yokan/backend.hpp>
#include <mochi/yokan/client.hpp>
#include <mochi/yokan/provider.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "../common/temp_dir.hpp"
#include "../common/yokan_status.hpp"

#include <algorithm>
#include <atomic>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace mochi;
using namespace mochi::yokan;

namespace {

using kinako::test::code_of;

const std::string kSampleLib = KINAKO_SAMPLE_FILTER_LIB;

bool has_backend(const std::string& type) {
    auto all = available_backends();
    return std::find(all.begin(), all.end(), type) != all.end();
}

// One provider with the given backend, and a database handle on it from a client engine.
class FilterTest : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override {
        std::string type = GetParam();
        if (!has_backend(type)) GTEST_SKIP() << type << " is not built";
        nlohmann::json cfg = nlohmann::json::object();
        if (type != "map") cfg["path"] = (dir.path / "db").string();
        nlohmann::json config = {{"database", {{"type", type}, {"config", cfg}}}};
        server = margo::Engine("na+sm", margo::Mode::Server);
        provider = std::make_unique<Provider>(server, 42, config.dump());
        client_engine = margo::Engine("na+sm", margo::Mode::Client);
        Client client(client_engine);
        db = client.make_database_handle(client_engine.lookup(server.self().to_string()), 42);
    }
    void TearDown() override {
        db = Database();
        provider.reset();
        if (client_engine) client_engine.finalize();
        if (server) server.finalize();
    }

    // list_keys with count slots of 64 bytes: the keys returned.
    std::vector<std::string> keys(std::string_view filter, int32_t mode = 0, size_t count = 64,
                                  std::string_view from = "") {
        std::vector<std::string> store(count, std::string(64, '\0'));
        std::vector<Buffer> bufs;
        for (auto& s : store) bufs.push_back({s.data(), s.size()});
        std::vector<uint64_t> ks;
        db.list_keys(from, filter, bufs, ks, mode);
        std::vector<std::string> out;
        for (size_t i = 0; i < count && ks[i] != YOKAN_NO_MORE_KEYS; ++i) out.push_back(store[i].substr(0, ks[i]));
        return out;
    }
    // list_keyvals: (key, value) pairs.
    std::vector<std::pair<std::string, std::string>> keyvals(std::string_view filter, int32_t mode = 0,
                                                             size_t count = 64, std::string_view from = "") {
        std::vector<std::string> kstore(count, std::string(64, '\0')), vstore(count, std::string(64, '\0'));
        std::vector<Buffer> kb, vb;
        for (auto& s : kstore) kb.push_back({s.data(), s.size()});
        for (auto& s : vstore) vb.push_back({s.data(), s.size()});
        std::vector<uint64_t> ks, vs;
        db.list_keyvals(from, filter, kb, vb, ks, vs, mode);
        std::vector<std::pair<std::string, std::string>> out;
        for (size_t i = 0; i < count && ks[i] != YOKAN_NO_MORE_KEYS; ++i)
            out.emplace_back(kstore[i].substr(0, ks[i]), vstore[i].substr(0, vs[i]));
        return out;
    }
    // Puts k00..k(n-1) (two digits) with values "v" + i repeated i % 5 + 1 times... kept simple:
    // value of kNN is "v" followed by NN.
    void fill(int n) {
        for (int i = 0; i < n; ++i) {
            char k[8];
            std::snprintf(k, sizeof(k), "k%02d", i);
            db.put(k, std::string("v") + (k + 1));
        }
    }
    // The server still answers after an error.
    void expect_alive() {
        db.put("alive", "yes");
        std::string v(8, '\0');
        EXPECT_EQ(db.get("alive", {v.data(), v.size()}), 3u);
        db.erase("alive");
    }

    kinako::testing::TempDir dir{"kinako-filters"};
    margo::Engine server, client_engine;
    std::unique_ptr<Provider> provider;
    Database db;
};

const int32_t LUA = YOKAN_MODE_LUA_FILTER;
const int32_t LIB = YOKAN_MODE_LIB_FILTER;
const int32_t FV = YOKAN_MODE_FILTER_VALUE;

std::string lib(const std::string& name, const std::string& args = "") { return kSampleLib + ":" + name + ":" + args; }

}  // namespace

TEST_P(FilterTest, LuaOnKeys) {
    fill(20);
    db.put("other", "x");
    EXPECT_EQ(keys("return string.sub(__key__, -1) == '3'", LUA), (std::vector<std::string>{"k03", "k13"}));
    EXPECT_EQ(keys("return __key__:find('^k1') ~= nil", LUA).size(), 10u);
    // Lua truthiness: a number keeps, nil and false drop, no value drops.
    EXPECT_EQ(keys("return __key__:find('other')", LUA), (std::vector<std::string>{"other"}));
    EXPECT_TRUE(keys("return false", LUA).empty());
    EXPECT_TRUE(keys("local x = 1", LUA).empty());
    // Without FILTER_VALUE __value__ is nil, even for list_keyvals.
    EXPECT_EQ(keys("return __value__ == nil", LUA).size(), 21u);
    EXPECT_EQ(keyvals("return __value__ == nil and __key__ == 'k07'", LUA),
              (std::vector<std::pair<std::string, std::string>>{{"k07", "v07"}}));
    // An empty Lua filter passes everything.
    EXPECT_EQ(keys("", LUA).size(), 21u);
    // The default filter is still a prefix, SUFFIX a suffix.
    EXPECT_EQ(keys("k1").size(), 10u);
    EXPECT_EQ(keys("9", YOKAN_MODE_SUFFIX), (std::vector<std::string>{"k09", "k19"}));
}

TEST_P(FilterTest, LuaOnValues) {
    fill(20);
    auto kv = keyvals("return __value__ == 'v05' or __value__ == 'v17'", LUA | FV);
    EXPECT_EQ(kv, (std::vector<std::pair<std::string, std::string>>{{"k05", "v05"}, {"k17", "v17"}}));
    // list_keys fetches the values for the check only.
    EXPECT_EQ(keys("return __value__:sub(-1) == '8'", LUA | FV), (std::vector<std::string>{"k08", "k18"}));
    // Packed forms.
    std::string kbuf(256, '\0'), vbuf(256, '\0');
    std::vector<uint64_t> ks, vs;
    db.list_keys_packed("", "return tonumber(__value__:sub(2)) >= 18", 5, {kbuf.data(), kbuf.size()}, ks, LUA | FV);
    EXPECT_EQ(ks[0], 3u);
    EXPECT_EQ(ks[1], 3u);
    EXPECT_EQ(ks[2], YOKAN_NO_MORE_KEYS);
    EXPECT_EQ(kbuf.substr(0, 6), "k18k19");
    db.list_keyvals_packed("", "return #__value__ == 3 and __value__ < 'v02'", 5, {kbuf.data(), kbuf.size()},
                           {vbuf.data(), vbuf.size()}, ks, vs, LUA | FV);
    EXPECT_EQ(kbuf.substr(0, 6), "k00k01");
    EXPECT_EQ(vbuf.substr(0, 6), "v00v01");
    EXPECT_EQ(ks[2], YOKAN_NO_MORE_KEYS);
    // iter, with and without values.
    std::vector<std::string> seen;
    db.iter("", "return __value__:find('1') ~= nil", 0,
            [&](size_t, std::string_view k, const std::string_view* v) {
                seen.push_back(std::string(k) + "=" + (v ? std::string(*v) : "-"));
            },
            false, LUA | FV, 0, 2);
    EXPECT_EQ(seen, (std::vector<std::string>{"k01=v01", "k10=v10", "k11=v11", "k12=v12", "k13=v13", "k14=v14",
                                              "k15=v15", "k16=v16", "k17=v17", "k18=v18", "k19=v19"}));
    seen.clear();
    db.iter("", "return __value__ == 'v04'", 0,
            [&](size_t, std::string_view k, const std::string_view* v) { seen.emplace_back(k); }, true, LUA | FV, 0,
            3);
    EXPECT_EQ(seen, (std::vector<std::string>{"k04"}));
}

TEST_P(FilterTest, LuaPaginationResumesAfterLastReturnedKey) {
    fill(60);
    const std::string even = "return tonumber(__key__:sub(2)) % 2 == 0";
    std::vector<std::string> all;
    std::string from;
    for (int page = 0; page < 20; ++page) {
        auto got = keys(even, LUA, 7, from);
        all.insert(all.end(), got.begin(), got.end());
        if (got.size() < 7) break;
        from = got.back();
    }
    ASSERT_EQ(all.size(), 30u);
    for (size_t i = 0; i < all.size(); ++i) {
        char k[8];
        std::snprintf(k, sizeof(k), "k%02zu", 2 * i);
        EXPECT_EQ(all[i], k);
    }
    // INCLUSIVE includes from_key when it passes the filter.
    EXPECT_EQ(keys(even, LUA | YOKAN_MODE_INCLUSIVE, 2, "k10"), (std::vector<std::string>{"k10", "k12"}));
    EXPECT_EQ(keys(even, LUA, 2, "k10"), (std::vector<std::string>{"k12", "k14"}));
    // iter with small pages and a count.
    size_t n = 0;
    db.iter("k20", even, 5, [&](size_t i, std::string_view k, const std::string_view*) {
        EXPECT_EQ(i, n++);
        EXPECT_EQ(std::stoi(std::string(k.substr(1))) % 2, 0);
    }, true, LUA, 0, 2);
    EXPECT_EQ(n, 5u);
}

TEST_P(FilterTest, NoPrefixAndKeyModes) {
    fill(12);
    // NO_PREFIX strips a prefix or suffix filter, not a Lua filter.
    EXPECT_EQ(keys("k1", YOKAN_MODE_NO_PREFIX), (std::vector<std::string>{"0", "1"}));
    EXPECT_EQ(keys("1", YOKAN_MODE_SUFFIX | YOKAN_MODE_NO_PREFIX), (std::vector<std::string>{"k0", "k1"}));
    EXPECT_EQ(keys("return __key__ > 'k09'", LUA | YOKAN_MODE_NO_PREFIX), (std::vector<std::string>{"k10", "k11"}));
    // iter with NO_PREFIX over several pages (pages resume from the full key).
    std::vector<std::string> seen;
    db.iter("", "k0", 0, [&](size_t, std::string_view k, const std::string_view*) { seen.emplace_back(k); }, true,
            YOKAN_MODE_NO_PREFIX, 0, 3);
    EXPECT_EQ(seen, (std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}));
    // IGNORE_KEYS / KEEP_LAST with a Lua filter.
    auto kv = keyvals("return __key__ < 'k03'", LUA | YOKAN_MODE_KEEP_LAST);
    ASSERT_EQ(kv.size(), 3u);
    EXPECT_EQ(kv[0].first, "");
    EXPECT_EQ(kv[2].first, "k02");
    EXPECT_EQ(kv[2].second, "v02");
    // CONSUME erases what passed, only that.
    EXPECT_EQ(keys("return __key__ == 'k05'", LUA | YOKAN_MODE_CONSUME), (std::vector<std::string>{"k05"}));
    EXPECT_FALSE(db.exists("k05"));
    EXPECT_EQ(db.count(), 11u);
}

TEST_P(FilterTest, LuaOnDocuments) {
    auto coll = db.create_collection("c");
    for (int i = 0; i < 10; ++i) coll.store(i % 3 == 0 ? "{\"x\":" + std::to_string(i) + "}" : "doc" + std::to_string(i));
    std::vector<std::string> store(8, std::string(32, '\0'));
    std::vector<Buffer> bufs;
    for (auto& s : store) bufs.push_back({s.data(), s.size()});
    IdList ids;
    std::vector<uint64_t> sizes;
    coll.list_docs(0, "return __id__ % 2 == 1 and math.type(__id__) == 'integer'", bufs, ids, sizes, LUA);
    EXPECT_EQ(ids, (IdList{1, 3, 5, 7, 9, YOKAN_NO_MORE_DOCS, YOKAN_NO_MORE_DOCS, YOKAN_NO_MORE_DOCS}));
    EXPECT_EQ(store[1].substr(0, sizes[1]), "{\"x\":3}");
    coll.list_docs(2, "return __doc__:sub(1, 1) == '{'", bufs, ids, sizes, LUA);
    EXPECT_EQ(ids[0], 3u);
    EXPECT_EQ(ids[1], 6u);
    EXPECT_EQ(ids[2], 9u);
    EXPECT_EQ(ids[3], YOKAN_NO_MORE_DOCS);
    // The default document filter is still a prefix.
    coll.list_docs(0, "doc", bufs, ids, sizes);
    EXPECT_EQ(ids[0], 1u);
    EXPECT_EQ(ids[5], 8u);
    EXPECT_EQ(ids[6], YOKAN_NO_MORE_DOCS);
    std::vector<uint64_t> seen;
    coll.iter(0, "return __doc__:find('doc') ~= nil", 0,
              [&](size_t, uint64_t id, const std::string_view*) { seen.push_back(id); }, LUA, 0, 2);
    EXPECT_EQ(seen, (std::vector<uint64_t>{1, 2, 4, 5, 7, 8}));
    EXPECT_EQ(code_of([&] { coll.list_docs(0, "return (", bufs, ids, sizes, LUA); }), Status::InvalidFilter);
}

TEST_P(FilterTest, LuaErrors) {
    fill(3);
    std::string msg;
    EXPECT_EQ(code_of([&] { keys("return ((", LUA); }, &msg), Status::InvalidFilter);
    EXPECT_NE(msg.find("syntax"), std::string::npos) << msg;
    expect_alive();
    EXPECT_EQ(code_of([&] { keys("error('boom')", LUA); }, &msg), Status::InvalidFilter);
    EXPECT_NE(msg.find("boom"), std::string::npos) << msg;
    EXPECT_EQ(code_of([&] { keys("return __value__ .. 'x'", LUA); }, &msg), Status::InvalidFilter);  // nil value
    EXPECT_NE(msg.find("nil"), std::string::npos) << msg;
    EXPECT_EQ(code_of([&] { keys("error({})", LUA); }, &msg), Status::InvalidFilter);
    expect_alive();
    // A runtime error on a later item only.
    EXPECT_EQ(code_of([&] { keys("if __key__ == 'k02' then error('third') end return true", LUA); }, &msg),
              Status::InvalidFilter);
    EXPECT_NE(msg.find("third"), std::string::npos) << msg;
    // Deep nesting and deep recursion are errors, not crashes.
    EXPECT_EQ(code_of([&] { keys("return " + std::string(1000, '(') + "1" + std::string(1000, ')'), LUA); }, &msg),
              Status::InvalidFilter);
    EXPECT_EQ(code_of([&] { keys("local function f(n) return f(n + 1) + 1 end return f(1)", LUA); }, &msg),
              Status::InvalidFilter);
    EXPECT_TRUE(msg.find("stack overflow") != std::string::npos || msg.find("memory") != std::string::npos) << msg;
    expect_alive();
}

TEST_P(FilterTest, LuaSandbox) {
    fill(3);
    std::string msg;
    // Endless loops end, also when wrapped in pcall.
    EXPECT_EQ(code_of([&] { keys("while true do end", LUA); }, &msg), Status::InvalidFilter);
    EXPECT_NE(msg.find("instructions"), std::string::npos) << msg;
    EXPECT_EQ(code_of([&] { keys("while true do pcall(function() while true do end end) end", LUA); }, &msg),
              Status::InvalidFilter);
    EXPECT_NE(msg.find("instructions"), std::string::npos) << msg;
    expect_alive();
    // Memory bombs end.
    EXPECT_EQ(code_of([&] { keys("local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1e6) .. i end", LUA); },
                      &msg),
              Status::InvalidFilter);
    EXPECT_NE(msg.find("memory"), std::string::npos) << msg;
    EXPECT_EQ(code_of([&] { keys("return #string.rep('x', 1e10) > 0", LUA); }, &msg), Status::InvalidFilter);
    expect_alive();
    // Only base, string, table and math.
    EXPECT_EQ(keys("return io == nil and os == nil and package == nil and require == nil and debug == nil "
                   "and dofile == nil and loadfile == nil and string.dump == nil and table.concat ~= nil "
                   "and math.floor ~= nil and string.format ~= nil",
                   LUA)
                  .size(),
              3u);
    EXPECT_EQ(code_of([&] { keys("return io.open('/etc/passwd') ~= nil", LUA); }), Status::InvalidFilter);
    EXPECT_EQ(code_of([&] { keys("return os.execute('true')", LUA); }), Status::InvalidFilter);
    // load accepts text, never bytecode.
    EXPECT_EQ(keys("return load('return 1 + 1')() == 2", LUA).size(), 3u);
    EXPECT_EQ(keys("local f, err = load('\\27Lua\\84\\0') return f == nil and err:find('binary') ~= nil", LUA).size(),
              3u);
    EXPECT_EQ(code_of([&] { keys("\x1bLua\x54", LUA); }), Status::InvalidFilter);
    expect_alive();
}

TEST_P(FilterTest, LuaStatesAreNotShared) {
    fill(30);
    // Each request has its own state: a global counter starts from nil in every request.
    const std::string counting = "n = (n or 0) + 1 return n <= 5";
    std::atomic<int> bad{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int r = 0; r < 5; ++r)
                if (keys(counting, LUA).size() != 5) bad++;
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(bad.load(), 0);
}

TEST_P(FilterTest, LibFilters) {
    for (int i = 0; i < 6; ++i) db.put("key" + std::to_string(i), std::string(i, 'v'));
    db.put("a:b", "vv");
    // length_between on value sizes, for list_keys (values fetched for the check) and list_keyvals.
    EXPECT_EQ(keys(lib("length_between", "2,3"), LIB), (std::vector<std::string>{"a:b", "key2", "key3"}));
    auto kv = keyvals(lib("length_between", "4,10"), LIB);
    EXPECT_EQ(kv, (std::vector<std::pair<std::string, std::string>>{{"key4", "vvvv"}, {"key5", "vvvvv"}}));
    // upper transforms returned keys; args may contain ':'.
    EXPECT_EQ(keys(lib("upper"), LIB, 3), (std::vector<std::string>{"A:B", "KEY0", "KEY1"}));
    EXPECT_EQ(keys(lib("upper", "a:b"), LIB), (std::vector<std::string>{"A:B"}));
    EXPECT_EQ(keyvals(lib("upper", "y3"), LIB), (std::vector<std::pair<std::string, std::string>>{{"KEY3", "vvv"}}));
    // iter resumes from the stored key, not the transformed one.
    std::vector<std::string> seen;
    db.iter("", lib("upper", "key"), 0,
            [&](size_t, std::string_view k, const std::string_view*) { seen.emplace_back(k); }, true, LIB, 0, 2);
    EXPECT_EQ(seen, (std::vector<std::string>{"KEY0", "KEY1", "KEY2", "KEY3", "KEY4", "KEY5"}));
    // Documents.
    auto coll = db.create_collection("c");
    coll.store_multi({"a", "bb", "ccc", "dddd"});
    std::vector<std::string> store(4, std::string(8, '\0'));
    std::vector<Buffer> bufs;
    for (auto& s : store) bufs.push_back({s.data(), s.size()});
    IdList ids;
    std::vector<uint64_t> sizes;
    coll.list_docs(0, lib("length_between", "2,3"), bufs, ids, sizes, LIB);
    EXPECT_EQ(ids, (IdList{1, 2, YOKAN_NO_MORE_DOCS, YOKAN_NO_MORE_DOCS}));
    EXPECT_EQ(store[1].substr(0, sizes[1]), "ccc");
}

TEST_P(FilterTest, LibFilterErrors) {
    fill(3);
    std::string msg;
    EXPECT_EQ(code_of([&] { keys("/nonexistent/libnope.so:upper:", LIB); }, &msg), Status::InvalidFilter);
    EXPECT_NE(msg.find("/nonexistent/libnope.so"), std::string::npos) << msg;
    EXPECT_EQ(code_of([&] { keys(lib("no_such_filter"), LIB); }, &msg), Status::InvalidFilter);
    EXPECT_NE(msg.find("no_such_filter"), std::string::npos) << msg;
    EXPECT_EQ(code_of([&] { keys("just-a-name", LIB); }, &msg), Status::InvalidFilter);
    EXPECT_EQ(code_of([&] { keys(lib("length_between", "x"), LIB); }, &msg), Status::InvalidFilter);
    EXPECT_NE(msg.find("min,max"), std::string::npos) << msg;
    EXPECT_EQ(code_of([&] { keys(lib("bad_args", "q"), LIB); }, &msg), Status::InvalidFilter);
    EXPECT_EQ(code_of([&] { keys(lib("throws"), LIB); }, &msg), Status::InvalidFilter);
    EXPECT_NE(msg.find("refuses key k00"), std::string::npos) << msg;
    // upper has no document filter.
    auto coll = db.create_collection("c");
    coll.store("d");
    std::string s(8, '\0');
    IdList ids;
    std::vector<uint64_t> sizes;
    EXPECT_EQ(code_of([&] { coll.list_docs(0, lib("upper"), {{s.data(), s.size()}}, ids, sizes, LIB); }, &msg),
              Status::InvalidFilter);
    EXPECT_NE(msg.find("document filter named \"upper\""), std::string::npos) << msg;
    // Once loaded, the library's filters are found without naming it again.
    EXPECT_EQ(keys(":upper:k0", LIB), (std::vector<std::string>{"K00", "K01", "K02"}));
    expect_alive();
}

TEST_P(FilterTest, ModeChecks) {
    fill(2);
    // Rejected by the client before sending.
    EXPECT_EQ(code_of([&] { keys("x", LUA | YOKAN_MODE_SUFFIX); }), Status::InvalidMode);
    EXPECT_EQ(code_of([&] { keys("x", LIB | YOKAN_MODE_SUFFIX); }), Status::InvalidMode);
    EXPECT_EQ(code_of([&] { keys("x", LUA | LIB); }), Status::InvalidMode);
    // Other calls accept and ignore the filter modes, as Yokan's backends do.
    std::string v(8, '\0');
    EXPECT_EQ(db.get("k00", {v.data(), v.size()}, LUA | FV), 3u);
    db.put("k09", "v", LIB);
    EXPECT_TRUE(db.exists("k09", LUA));
    // FILTER_VALUE with a prefix filter changes nothing.
    EXPECT_EQ(keys("k0", FV).size(), 3u);
}

INSTANTIATE_TEST_SUITE_P(SortedBackends, FilterTest, ::testing::Values("map", "rocksdb", "leveldb", "lmdb"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });
