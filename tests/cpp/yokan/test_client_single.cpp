// The C++ client's single-key calls (put, get, exists, length, erase) encode and decode
// their one key without the _multi vectors; these tests pin that they agree with the
// _multi calls on every outcome: found, missing, buffer too small, empty values, large
// values and bad keys.
#include <mochi/margo/engine.hpp>
#include <mochi/yokan/client.hpp>
#include <mochi/yokan/provider.hpp>

#include <gtest/gtest.h>

#include "../common/yokan_status.hpp"

#include <memory>
#include <string>
#include <vector>

namespace margo = mochi::margo;
using namespace mochi::yokan;
using kinako::test::code_of;

namespace {

class SingleKeyTest : public ::testing::Test {
  protected:
    void SetUp() override {
        server = margo::Engine("na+sm", margo::Mode::Server);
        provider = std::make_unique<Provider>(server, 3, R"({"database":{"type":"map"}})");
        client_engine = margo::Engine("na+sm", margo::Mode::Client);
        db = Client(client_engine).make_database_handle(client_engine.lookup(server.self().to_string()), 3);
    }
    void TearDown() override {
        db = Database();
        provider.reset();
        client_engine.finalize();
        server.finalize();
    }
    margo::Engine server, client_engine;
    std::unique_ptr<Provider> provider;
    Database db;
};

TEST_F(SingleKeyTest, FoundValuesMatchTheMultiCalls) {
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

TEST_F(SingleKeyTest, MissingKeyAndSmallBufferRaiseTheirCodes) {
    std::string out(4, '.');
    EXPECT_EQ(code_of([&] { db.get("nope", {out.data(), out.size()}); }), Status::NotFound);
    EXPECT_EQ(code_of([&] { db.length("nope"); }), Status::NotFound);
    EXPECT_FALSE(db.exists("nope"));
    db.put("long", "0123456789");
    EXPECT_EQ(code_of([&] { db.get("long", {out.data(), out.size()}); }), Status::SizeError);
    EXPECT_EQ(out, "....");  // a value that does not fit leaves the buffer alone
}

TEST_F(SingleKeyTest, EmptyAndLargeValuesRoundTrip) {
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

TEST_F(SingleKeyTest, EraseAndBadKeys) {
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

TEST_F(SingleKeyTest, ModesTravelWithSingleCalls) {
    db.put("k", "abc");
    EXPECT_EQ(code_of([&] { db.put("k", "zzz", YOKAN_MODE_NEW_ONLY); }), Status::KeyExists);
    db.put("k", "def", YOKAN_MODE_APPEND);
    EXPECT_EQ(db.length("k"), 6u);
    std::string out(8, '\0');
    EXPECT_EQ(db.get("k", {out.data(), out.size()}, YOKAN_MODE_CONSUME), 6u);
    EXPECT_EQ(out.substr(0, 6), "abcdef");
    EXPECT_FALSE(db.exists("k"));
}

}  // namespace
