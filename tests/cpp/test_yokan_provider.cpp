// Yokan provider + client over a real engine (na+sm), one process: every operation family,
// modes handled by the provider (WAIT/NOTIFY, list filters), and error codes on the wire.
#include "common/yokan_status.hpp"

#include <mochi/yokan/client.hpp>
#include <mochi/yokan/provider.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <thread>

using namespace mochi;
using namespace mochi::yokan;

namespace {

class YokanTest : public ::testing::Test {
  protected:
    void SetUp() override {
        server = margo::Engine("na+sm", margo::Mode::Server);
        provider = std::make_unique<Provider>(server, 42, R"({"database":{"type":"map"}})");
        client_engine = margo::Engine("na+sm", margo::Mode::Client);
        Client client(client_engine);
        db = client.make_database_handle(client_engine.lookup(server.self().to_string()), 42);
    }
    void TearDown() override {
        db = Database();
        provider.reset();
        client_engine.finalize();
        server.finalize();
    }
    std::string get(std::string_view key, int32_t mode = 0) const {
        std::string v(64, '\0');
        size_t n = db.get(key, {v.data(), v.size()}, mode);
        v.resize(n);
        return v;
    }
    margo::Engine server, client_engine;
    std::unique_ptr<Provider> provider;
    Database db;
};

using kinako::test::code_of;

}  // namespace

TEST_F(YokanTest, PutGetExistsLengthErase) {
    db.put("alpha", "one");
    db.put("beta", "two2");
    EXPECT_EQ(db.count(), 2u);
    EXPECT_EQ(get("alpha"), "one");
    EXPECT_TRUE(db.exists("beta"));
    EXPECT_FALSE(db.exists("gamma"));
    EXPECT_EQ(db.length("beta"), 4u);
    EXPECT_EQ(db.length_multi({"beta", "gamma"})[1], YOKAN_KEY_NOT_FOUND);
    db.erase("alpha");
    db.erase("never-there");
    EXPECT_EQ(db.count(), 1u);
    EXPECT_EQ(code_of([&] { get("alpha"); }), Status::NotFound);
    EXPECT_EQ(code_of([&] { db.put("", "x"); }), Status::InvalidArgs);
    char small[2];
    EXPECT_EQ(code_of([&] { db.get("beta", {small, 2}); }), Status::SizeError);
}

TEST_F(YokanTest, PutModes) {
    db.put("k", "abc");
    db.put("k", "def", YOKAN_MODE_APPEND);
    EXPECT_EQ(get("k"), "abcdef");
    EXPECT_EQ(code_of([&] { db.put("k", "x", YOKAN_MODE_NEW_ONLY); }), Status::KeyExists);
    EXPECT_EQ(code_of([&] { db.put("z", "x", YOKAN_MODE_EXIST_ONLY); }), Status::NotFound);
    EXPECT_EQ(code_of([&] { db.put("k", "x", YOKAN_MODE_APPEND | YOKAN_MODE_NEW_ONLY); }), Status::InvalidMode);
    // In batches, refused pairs are skipped silently.
    db.put_multi({"k", "n"}, {"x", "new"}, YOKAN_MODE_NEW_ONLY);
    EXPECT_EQ(get("k"), "abcdef");
    EXPECT_EQ(get("n"), "new");
    EXPECT_EQ(get("n", YOKAN_MODE_CONSUME), "new");
    EXPECT_FALSE(db.exists("n"));
}

TEST_F(YokanTest, MultiAndPacked) {
    db.put_multi({"a", "b", "c"}, {"1", "22", "333"});
    std::string b0(1, 0), b1(1, 0), b2(8, 0);
    std::vector<uint64_t> sizes;
    db.get_multi({"a", "b", "x", "c"}, {{b0.data(), 1}, {b1.data(), 1}, {nullptr, 0}, {b2.data(), 8}}, sizes);
    EXPECT_EQ(sizes[0], 1u);
    EXPECT_EQ(sizes[1], YOKAN_SIZE_TOO_SMALL);
    EXPECT_EQ(sizes[2], YOKAN_KEY_NOT_FOUND);
    EXPECT_EQ(sizes[3], 3u);
    EXPECT_EQ(b2.substr(0, 3), "333");
    std::string packed(4, 0);
    db.get_packed({"a", "b", "c"}, {packed.data(), packed.size()}, sizes);
    EXPECT_EQ(packed.substr(0, 3), "122");
    EXPECT_EQ(sizes[2], YOKAN_SIZE_TOO_SMALL);
    std::vector<std::string> fetched(4);
    db.fetch_multi({"a", "x", "c"}, [&](size_t i, const std::string_view* v) { fetched[i] = v ? std::string(*v) : "<none>"; });
    EXPECT_EQ(fetched[0], "1");
    EXPECT_EQ(fetched[1], "<none>");
    EXPECT_EQ(fetched[2], "333");
}

TEST_F(YokanTest, ListingPaginationAndFilters) {
    for (int i = 0; i < 10; ++i) db.put("key" + std::to_string(i), "val" + std::to_string(i));
    db.put("other", "o");
    std::vector<std::string> store(4, std::string(16, 0));
    std::vector<Buffer> bufs;
    for (auto& s : store) bufs.push_back({s.data(), s.size()});
    std::vector<uint64_t> ks;
    db.list_keys("", "key", bufs, ks);
    EXPECT_EQ(store[0].substr(0, ks[0]), "key0");
    EXPECT_EQ(store[3].substr(0, ks[3]), "key3");
    db.list_keys("key3", "key", bufs, ks);  // exclusive start
    EXPECT_EQ(store[0].substr(0, ks[0]), "key4");
    db.list_keys("key3", "key", bufs, ks, YOKAN_MODE_INCLUSIVE | YOKAN_MODE_NO_PREFIX);
    EXPECT_EQ(store[0].substr(0, ks[0]), "3");
    db.list_keys("key8", "key", bufs, ks);
    EXPECT_EQ(ks[0], 4u);
    EXPECT_EQ(ks[1], YOKAN_NO_MORE_KEYS);
    db.list_keys("", "9", bufs, ks, YOKAN_MODE_SUFFIX);
    EXPECT_EQ(store[0].substr(0, ks[0]), "key9");
    EXPECT_EQ(ks[1], YOKAN_NO_MORE_KEYS);
    size_t n = 0;
    db.iter("", "key", 0, [&](size_t i, std::string_view k, const std::string_view* v) {
        EXPECT_EQ(i, n);
        EXPECT_EQ(std::string(*v), "val" + std::string(k.substr(3)));
        ++n;
    }, false, 0, 0, 3);
    EXPECT_EQ(n, 10u);
    db.erase_range("key");
    EXPECT_EQ(db.count(), 1u);
}

TEST_F(YokanTest, WaitIsWokenByNotify) {
    std::atomic<int> done{0};
    std::vector<std::thread> waiters;
    for (int i = 0; i < 4; ++i)
        waiters.emplace_back([&] {
            std::string v(16, 0);
            size_t n = db.get("late", {v.data(), v.size()}, YOKAN_MODE_WAIT);
            EXPECT_EQ(v.substr(0, n), "here");
            done++;
        });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(done.load(), 0);
    db.put("late", "here", YOKAN_MODE_NOTIFY);
    for (auto& t : waiters) t.join();
    EXPECT_EQ(done.load(), 4);
    // A wait that nobody satisfies ends with Timeout.
    EXPECT_EQ(code_of([&] { db.exists("never", YOKAN_MODE_WAIT, 100); }), Status::Timeout);
}

TEST_F(YokanTest, ConsumeWaitIsAQueuePop) {
    std::vector<std::string> got;
    std::thread consumer([&] {
        for (int i = 0; i < 3; ++i) got.push_back(get("slot", YOKAN_MODE_CONSUME | YOKAN_MODE_WAIT));
    });
    for (int i = 0; i < 3; ++i) {
        while (db.exists("slot")) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        db.put("slot", "item" + std::to_string(i), YOKAN_MODE_NOTIFY);
    }
    consumer.join();
    EXPECT_EQ(got, (std::vector<std::string>{"item0", "item1", "item2"}));
}

TEST_F(YokanTest, Documents) {
    auto coll = db.create_collection("people");
    EXPECT_EQ(code_of([&] { db.create_collection("people"); }), Status::KeyExists);
    EXPECT_TRUE(db.collection_exists("people"));
    EXPECT_EQ(coll.store("{\"n\":0}"), 0u);
    auto ids = coll.store_multi({"d1", "d2"});
    EXPECT_EQ(ids, (IdList{1, 2}));
    EXPECT_EQ(coll.size(), 3u);
    coll.update(1, "D1");
    EXPECT_EQ(code_of([&] { coll.update(9, "x"); }), Status::InvalidId);
    std::string buf(16, 0);
    EXPECT_EQ(buf.substr(0, coll.load(1, {buf.data(), buf.size()})), "D1");
    coll.erase_multi({0});
    EXPECT_EQ(code_of([&] { coll.load(0, {buf.data(), buf.size()}); }), Status::NotFound);
    std::vector<std::string> store(3, std::string(8, 0));
    std::vector<Buffer> bufs;
    for (auto& s : store) bufs.push_back({s.data(), s.size()});
    IdList lids;
    std::vector<uint64_t> sizes;
    coll.list_docs(1, "", bufs, lids, sizes);  // start id is inclusive
    EXPECT_EQ(lids[0], 1u);
    EXPECT_EQ(lids[1], 2u);
    EXPECT_EQ(lids[2], YOKAN_NO_MORE_DOCS);
    EXPECT_EQ(store[1].substr(0, sizes[1]), "d2");
    db.drop_collection("people");
    EXPECT_FALSE(db.collection_exists("people"));
}

TEST_F(YokanTest, ProviderErrors) {
    EXPECT_EQ(code_of([&] { Provider p(server, 42, R"({"database":{"type":"map"}})"); }), Status::InvalidProvider);
    EXPECT_EQ(code_of([&] { Provider p(server, 7, ""); }), Status::InvalidConfig);
    EXPECT_EQ(code_of([&] { Provider p(server, 7, "{not json"); }), Status::InvalidConfig);
    EXPECT_EQ(code_of([&] { Provider p(server, 7, R"({"database":{"type":"nope"}})"); }), Status::InvalidBackend);
    EXPECT_EQ(code_of([&] { Provider p(server, 7, R"({"database":{"type":"map","config":{"use_lock":3}}})"); }),
              Status::InvalidConfig);
    Client client(client_engine);
    auto addr = client_engine.lookup(server.self().to_string());
    EXPECT_EQ(code_of([&] { client.make_database_handle(addr, 99); }), Status::InvalidProvider);
    auto cfg = nlohmann::json::parse(provider->config());
    EXPECT_EQ(cfg["database"]["config"]["use_lock"], true);
    EXPECT_EQ(cfg["buffer_cache"]["type"], "lru");
    // The server still serves after all of that.
    db.put("still", "alive");
    EXPECT_EQ(get("still"), "alive");
}

TEST(YokanUnordered, ListIsUnsupported) {
    margo::Engine e("na+sm", margo::Mode::Server);
    {
        Provider p(e, 1, R"({"database":{"type":"unordered_map"}})");
        auto db = Client(e).make_database_handle(e.self(), 1);
        db.put("a", "b");
        std::string s(8, 0);
        std::vector<uint64_t> ks;
        EXPECT_EQ(code_of([&] { db.list_keys("", "", {{s.data(), 8}}, ks); }), Status::OpUnsupported);
        // Filter modes matter to listings only; other calls ignore them, as Yokan's backends do.
        EXPECT_EQ(code_of([&] { db.get("a", {s.data(), 8}, YOKAN_MODE_LUA_FILTER); }), Status::Success);
        EXPECT_EQ(code_of([&] { db.get("a", {s.data(), 8}, YOKAN_MODE_LUA_FILTER | YOKAN_MODE_LIB_FILTER); }),
                  Status::InvalidMode);
    }
    e.finalize();
}

// The single-key calls (put, get, exists, length, erase) encode and decode their one key
// without the _multi vectors; these pin that they agree with the _multi calls on every
// outcome: found, missing, buffer too small, empty and large values, bad keys, modes.
TEST_F(YokanTest, SingleKeyFoundValuesMatchTheMultiCalls) {
    db.put("alpha", "one");
    db.put("beta", std::string(300, 'b'));
    std::string out(16, '.');
    EXPECT_EQ(db.get("alpha", {out.data(), out.size()}), 3u);
    EXPECT_EQ(out, "one" + std::string(13, '.'));  // only the value's bytes are written
    EXPECT_TRUE(db.exists("alpha"));
    EXPECT_EQ(db.length("beta"), 300u);

    std::vector<uint64_t> sizes;
    std::string o1(16, '\0'), o2(400, '\0');
    db.get_multi({"alpha", "beta"}, {{o1.data(), o1.size()}, {o2.data(), o2.size()}}, sizes);
    EXPECT_EQ(sizes, (std::vector<uint64_t>{3, 300}));
    EXPECT_EQ(db.length_multi({"alpha", "beta"}), sizes);
    EXPECT_EQ(db.exists_multi({"alpha", "beta"}), (std::vector<uint8_t>{1, 1}));
}

TEST_F(YokanTest, SingleKeyMissingKeyAndSmallBufferRaiseTheirCodes) {
    std::string out(4, '.');
    EXPECT_EQ(code_of([&] { db.get("nope", {out.data(), out.size()}); }), Status::NotFound);
    EXPECT_EQ(code_of([&] { db.length("nope"); }), Status::NotFound);
    EXPECT_FALSE(db.exists("nope"));
    db.put("long", "0123456789");
    EXPECT_EQ(code_of([&] { db.get("long", {out.data(), out.size()}); }), Status::SizeError);
    EXPECT_EQ(out, "....");  // a value that does not fit leaves the buffer alone
}

TEST_F(YokanTest, SingleKeyEmptyAndLargeValuesRoundTrip) {
    db.put("empty", "");
    EXPECT_TRUE(db.exists("empty"));
    EXPECT_EQ(db.length("empty"), 0u);
    EXPECT_EQ(db.get("empty", {nullptr, 0}), 0u);

    std::string big(3 << 20, '\0');
    for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 + 7);
    db.put("big", big);  // larger than any eager message: the engine moves it by RMA
    std::string back(big.size(), '\0');
    EXPECT_EQ(db.get("big", {back.data(), back.size()}), big.size());
    EXPECT_EQ(back, big);
}

TEST_F(YokanTest, SingleKeyEraseAndBadKeys) {
    db.put("gone", "x");
    db.erase("gone");
    EXPECT_FALSE(db.exists("gone"));
    db.erase("gone");  // erasing a missing key is not an error, as in Yokan
    std::string message;
    EXPECT_EQ(code_of([&] { db.put("", "v"); }, &message), Status::InvalidArgs);
    EXPECT_NE(message.find("key 0 is empty"), std::string::npos) << message;
    char c;
    EXPECT_EQ(code_of([&] { db.get("", {&c, 1}); }), Status::InvalidArgs);
    EXPECT_EQ(code_of([&] { db.exists(""); }), Status::InvalidArgs);
    EXPECT_EQ(code_of([&] { db.length(""); }), Status::InvalidArgs);
    EXPECT_EQ(code_of([&] { db.erase(""); }), Status::InvalidArgs);
    EXPECT_EQ(db.count(), 0u);  // nothing half-applied
}

TEST_F(YokanTest, SingleKeyModesTravelWithSingleCalls) {
    db.put("k", "abc");
    EXPECT_EQ(code_of([&] { db.put("k", "zzz", YOKAN_MODE_NEW_ONLY); }), Status::KeyExists);
    db.put("k", "def", YOKAN_MODE_APPEND);
    EXPECT_EQ(db.length("k"), 6u);
    std::string out(8, '\0');
    EXPECT_EQ(db.get("k", {out.data(), out.size()}, YOKAN_MODE_CONSUME), 6u);
    EXPECT_EQ(out.substr(0, 6), "abcdef");
    EXPECT_FALSE(db.exists("k"));
}
