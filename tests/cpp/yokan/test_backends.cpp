// Tests of every registered Yokan backend through the Backend interface: key/value calls and
// their modes, sorted listing, documents, persistence across reopen, config checking, and a
// crash test (kill -9 of a writer; every acknowledged write must be found afterwards).
#include <mochi/yokan/backend.hpp>
#include <mochi/yokan/common.hpp>

#include <gtest/gtest.h>

#include "../common/reexec.hpp"
#include "../common/temp_dir.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace mochi::yokan {
std::ostream& operator<<(std::ostream& os, Status s) {
    return os << status_message(s) << " (" << static_cast<int>(s) << ")";
}
}  // namespace mochi::yokan

using namespace mochi::yokan;
namespace fs = std::filesystem;
using json = nlohmann::json;


namespace {

// ---------------------------------------------------------------- helpers

bool has_backend(const std::string& type) {
    auto all = available_backends();
    return std::find(all.begin(), all.end(), type) != all.end();
}

bool stores_values(const std::string& type) { return type != "set" && type != "unordered_set"; }


// The config each type is tested with: persistent types get a path in dir (and settings
// that exercise them: small chunks for log), in-memory types an empty object.
json config_for(const std::string& type, const fs::path& dir, bool* persistent = nullptr) {
    std::string db = (dir / "db").string();
    json cfg = json::object();
    bool p = true;
    if (type == "log") cfg = {{"path", db}, {"chunk_size", 16384}, {"cache_size", 2}};
    else if (type == "lmdb") cfg = {{"path", db}, {"no_sync", true}};  // durability is the crash test's
    else if (type == "rocksdb" || type == "leveldb") cfg = {{"path", db}};
    else {
        // An unknown type: persistent when it refuses to open without a path.
        try {
            create_backend(type, cfg);
            p = false;
        } catch (const Exception& e) {
            if (e.code() != Status::InvalidConfig) throw;
            cfg = {{"path", db}};
        }
    }
    if (persistent) *persistent = p;
    return cfg;
}

// Config that makes every acknowledged write durable.
json sync_config(const std::string& type, const fs::path& dir) {
    json cfg = config_for(type, dir);
    if (type == "rocksdb" || type == "leveldb") cfg["write_options"] = {{"sync", true}};
    if (type == "log") cfg["sync"] = true;
    if (type == "lmdb") cfg["no_sync"] = false;
    return cfg;
}

Status put1(Backend& b, std::string_view k, std::string_view v, int32_t mode = 0) { return b.put(mode, {k}, {v}); }

std::optional<std::string> get1(Backend& b, std::string_view k, int32_t mode = 0) {
    std::optional<std::string> out;
    Status s = b.get(mode, {k}, [&](size_t i, std::string_view v) {
        EXPECT_EQ(i, 0u);
        out = std::string(v);
    });
    EXPECT_EQ(s, Status::Success);
    return out;
}

bool exists1(Backend& b, std::string_view k) {
    std::vector<uint8_t> found(1, 7);
    EXPECT_EQ(b.exists({k}, found), Status::Success);
    return found[0] == 1;
}

uint64_t length1(Backend& b, std::string_view k) {
    std::vector<uint64_t> sizes(1, 7);
    EXPECT_EQ(b.length({k}, sizes), Status::Success);
    return sizes[0];
}

uint64_t count(Backend& b) {
    uint64_t n = 12345;
    EXPECT_EQ(b.count(n), Status::Success);
    return n;
}

using Pairs = std::vector<std::pair<std::string, std::string>>;

Pairs list_all(Backend& b, std::string_view from, bool inclusive, std::string_view prefix, bool values,
               size_t max = SIZE_MAX) {
    Pairs out;
    Status s = b.list(from, inclusive, prefix, values, [&](std::string_view k, std::string_view v) {
        out.emplace_back(std::string(k), std::string(v));
        return out.size() < max;
    });
    EXPECT_EQ(s, Status::Success);
    return out;
}

std::vector<std::string> keys_of(const Pairs& p) {
    std::vector<std::string> k;
    for (auto& [a, b] : p) k.push_back(a);
    return k;
}

uint64_t store1(Backend& b, std::string_view coll, std::string_view doc) {
    IdList ids;
    EXPECT_EQ(b.doc_store(0, coll, {doc}, ids), Status::Success);
    return ids.size() == 1 ? ids[0] : UINT64_MAX;
}

std::optional<std::string> load1(Backend& b, std::string_view coll, uint64_t id, int32_t mode = 0) {
    std::optional<std::string> out;
    EXPECT_EQ(b.doc_load(mode, coll, {id}, [&](size_t, std::string_view d) { out = std::string(d); }),
              Status::Success);
    return out;
}

std::vector<std::pair<uint64_t, std::string>> list_docs(Backend& b, std::string_view coll, uint64_t start,
                                                        size_t max = SIZE_MAX) {
    std::vector<std::pair<uint64_t, std::string>> out;
    EXPECT_EQ(b.doc_list(coll, start, [&](uint64_t id, std::string_view d) {
        out.emplace_back(id, std::string(d));
        return out.size() < max;
    }), Status::Success);
    return out;
}

uint64_t coll_size(Backend& b, std::string_view coll) {
    uint64_t n = 12345;
    EXPECT_EQ(b.coll_size(coll, n), Status::Success);
    return n;
}

// The value stored under key i by the crash and reopen tests.
std::string value_for(uint64_t i) { return std::string(1 + i % 97, char('a' + i % 26)) + "#" + std::to_string(i); }
std::string key_for(uint64_t i) { return "key-" + std::to_string(i); }

// ---------------------------------------------------------------- the suite

class BackendTest : public testing::TestWithParam<std::string> {
  protected:
    void SetUp() override {
        type_ = GetParam();
        cfg_ = config_for(type_, dir_.path, &persistent_);
        db_ = create_backend(type_, cfg_);
        ASSERT_TRUE(db_);
    }
    void reopen() {
        db_.reset();
        db_ = create_backend(type_, cfg_);
    }
    // Whether this backend keeps documents (the default doc store or its own).
    bool supports_docs() {
        // null stores nothing; sets cannot hold the values the document store needs.
        if (type_ == "null" || !stores_values(type_) || !db_->supports_documents()) return false;
        Status s = db_->coll_create("probe");
        if (s == Status::OpUnsupported) return false;
        EXPECT_EQ(s, Status::Success);
        EXPECT_EQ(db_->coll_drop("probe"), Status::Success);
        return true;
    }
    bool kv() const { return db_->supports_kv() && type_ != "null"; }
    std::string v(const std::string& s) const { return stores_values(type_) ? s : std::string(); }

    kinako::testing::TempDir dir_{"kinako-yk"};
    std::string type_;
    json cfg_;
    bool persistent_ = false;
    std::unique_ptr<Backend> db_;
};

TEST_P(BackendTest, TypeAndConfig) {
    EXPECT_EQ(db_->type(), type_);
    json c = db_->config();
    EXPECT_TRUE(c.is_object()) << c.dump();
    if (persistent_) { EXPECT_EQ(c.value("path", ""), cfg_["path"].get<std::string>()); }
    if (type_ == "rocksdb") {
        EXPECT_EQ(c["create_if_missing"], true);
        EXPECT_EQ(c["max_open_files"], 1000);
        EXPECT_EQ(c["write_options"]["sync"], false);
        EXPECT_EQ(c["read_options"]["verify_checksums"], true);
    }
    if (type_ == "leveldb") {
        EXPECT_EQ(c["write_buffer_size"], 4 << 20);
        EXPECT_EQ(c["block_size"], 4096);
        EXPECT_EQ(c["compression"], true);
    }
    if (type_ == "lmdb") {
        EXPECT_EQ(c["create_if_missing"], true);
        EXPECT_EQ(c["no_lock"], false);
    }
    if (type_ == "log") {
        EXPECT_EQ(c["chunk_size"], 16384);
        EXPECT_EQ(c["create_if_missing"], true);
        EXPECT_EQ(c["error_if_exists"], false);
        EXPECT_EQ(c["use_lock"], false);
    }
    if (type_ == "array") { EXPECT_EQ(c["use_lock"], true); }
    // The effective config opens the same backend again.
    if (!persistent_) { EXPECT_NO_THROW(create_backend(type_, c)); }
}

TEST_P(BackendTest, NullBackendStoresNothing) {
    if (type_ != "null") GTEST_SKIP();
    EXPECT_EQ(put1(*db_, "k", "v"), Status::Success);
    EXPECT_FALSE(exists1(*db_, "k"));
    EXPECT_EQ(count(*db_), 0u);
}

TEST_P(BackendTest, KeyValueUnsupportedOnDocumentBackends) {
    if (db_->supports_kv()) GTEST_SKIP();
    uint64_t n;
    std::vector<uint8_t> f(1);
    std::vector<uint64_t> s(1);
    EXPECT_EQ(db_->count(n), Status::OpUnsupported);
    EXPECT_EQ(db_->put(0, {"k"}, {"v"}), Status::OpUnsupported);
    EXPECT_EQ(db_->get(0, {"k"}, [](size_t, std::string_view) {}), Status::OpUnsupported);
    EXPECT_EQ(db_->exists({"k"}, f), Status::OpUnsupported);
    EXPECT_EQ(db_->length({"k"}, s), Status::OpUnsupported);
    EXPECT_EQ(db_->erase({"k"}), Status::OpUnsupported);
    EXPECT_EQ(db_->list("", false, "", true, [](std::string_view, std::string_view) { return true; }),
              Status::OpUnsupported);
}

TEST_P(BackendTest, PutGetExistsLengthEraseCount) {
    if (!kv()) GTEST_SKIP();
    EXPECT_EQ(count(*db_), 0u);
    EXPECT_EQ(put1(*db_, "alpha", v("one")), Status::Success);
    EXPECT_EQ(put1(*db_, "beta", v("two!")), Status::Success);
    EXPECT_EQ(count(*db_), 2u);
    EXPECT_EQ(get1(*db_, "alpha"), v("one"));
    EXPECT_EQ(get1(*db_, "gamma"), std::nullopt);
    EXPECT_TRUE(exists1(*db_, "beta"));
    EXPECT_FALSE(exists1(*db_, "gamma"));
    EXPECT_EQ(length1(*db_, "beta"), v("two!").size());
    EXPECT_EQ(length1(*db_, "gamma"), YOKAN_KEY_NOT_FOUND);
    // Overwrite.
    EXPECT_EQ(put1(*db_, "alpha", v("uno")), Status::Success);
    EXPECT_EQ(get1(*db_, "alpha"), v("uno"));
    EXPECT_EQ(count(*db_), 2u);
    // Binary keys and values.
    std::string bk("k\0\xff", 3), bv("\0\x01\x02", 3);
    EXPECT_EQ(put1(*db_, bk, v(bv)), Status::Success);
    EXPECT_EQ(get1(*db_, bk), v(bv));
    // Multi: get visits present keys with their index.
    std::vector<std::pair<size_t, std::string>> seen;
    EXPECT_EQ(db_->get(0, {"beta", "nope", "alpha"},
                       [&](size_t i, std::string_view val) { seen.emplace_back(i, std::string(val)); }),
              Status::Success);
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0], std::make_pair(size_t(0), v("two!")));
    EXPECT_EQ(seen[1], std::make_pair(size_t(2), v("uno")));
    std::vector<uint8_t> found(3, 9);
    EXPECT_EQ(db_->exists({"nope", "alpha", bk}, found), Status::Success);
    EXPECT_EQ(found, (std::vector<uint8_t>{0, 1, 1}));
    // Erase, missing keys included.
    EXPECT_EQ(db_->erase({"alpha", "nope"}), Status::Success);
    EXPECT_FALSE(exists1(*db_, "alpha"));
    EXPECT_EQ(count(*db_), 2u);
    EXPECT_EQ(db_->erase({"beta", bk}), Status::Success);
    EXPECT_EQ(count(*db_), 0u);
}

// Batches in any key order (ascending with gaps, descending, shuffled, repeated keys) give
// the same answers as a reference map: sorted backends walk forward from the previous key of
// a batch instead of searching the whole tree, and that shortcut must never change a result.
TEST_P(BackendTest, BatchesInAnyKeyOrder) {
    if (!kv()) GTEST_SKIP();
    std::map<std::string, std::string> ref;
    auto key = [](int i) { char b[16]; snprintf(b, sizeof b, "k%06d", i); return std::string(b); };
    std::vector<std::vector<int>> orders;
    std::vector<int> asc, desc, shuffled, repeats;
    for (int i = 0; i < 300; i += 3) asc.push_back(i);                  // gaps of 2 unknown keys
    for (int i = 299; i >= 0; i -= 2) desc.push_back(i);
    for (int i = 0; i < 300; i++) shuffled.push_back((i * 7919) % 300);  // a fixed permutation
    for (int i = 0; i < 100; i++) repeats.push_back((i / 3) * 5);         // each key 3 times
    orders = {asc, desc, shuffled, repeats};
    int round = 0;
    for (const auto& order : orders) {
        round++;
        std::vector<std::string> ks, vs;
        for (int i : order) {
            ks.push_back(key(i));
            vs.push_back(v("v" + std::to_string(round) + "-" + std::to_string(i)));
        }
        KeyList kl(ks.begin(), ks.end()), vl(vs.begin(), vs.end());
        ASSERT_EQ(db_->put(0, kl, vl), Status::Success);
        for (size_t i = 0; i < ks.size(); i++) ref[ks[i]] = vs[i];
        // Read back every key of 0..299 in each of the orders, plus some never written.
        for (const auto& probe_order : orders) {
            std::vector<std::string> probe;
            for (int i : probe_order) probe.push_back(key(i));
            probe.push_back(key(1000));
            KeyList pk(probe.begin(), probe.end());
            std::vector<std::optional<std::string>> got(probe.size());
            ASSERT_EQ(db_->get(0, pk, [&](size_t i, std::string_view val) { got[i] = std::string(val); }), Status::Success);
            std::vector<uint8_t> found(probe.size(), 9);
            ASSERT_EQ(db_->exists(pk, found), Status::Success);
            std::vector<uint64_t> sizes(probe.size());
            ASSERT_EQ(db_->length(pk, sizes), Status::Success);
            for (size_t i = 0; i < probe.size(); i++) {
                auto it = ref.find(probe[i]);
                bool present = it != ref.end();
                EXPECT_EQ(found[i], present ? 1 : 0) << probe[i];
                EXPECT_EQ(got[i], present ? std::optional<std::string>(it->second) : std::nullopt) << probe[i];
                EXPECT_EQ(sizes[i], present ? it->second.size() : YOKAN_KEY_NOT_FOUND) << probe[i];
            }
        }
    }
    EXPECT_EQ(count(*db_), ref.size());
}

TEST_P(BackendTest, PutModes) {
    if (!kv()) GTEST_SKIP();
    // NEW_ONLY
    EXPECT_EQ(put1(*db_, "a", v("1"), YOKAN_MODE_NEW_ONLY), Status::Success);
    EXPECT_EQ(put1(*db_, "a", v("2"), YOKAN_MODE_NEW_ONLY), Status::KeyExists);
    EXPECT_EQ(get1(*db_, "a"), v("1"));
    // EXIST_ONLY
    EXPECT_EQ(put1(*db_, "b", v("1"), YOKAN_MODE_EXIST_ONLY), Status::NotFound);
    EXPECT_FALSE(exists1(*db_, "b"));
    EXPECT_EQ(put1(*db_, "a", v("3"), YOKAN_MODE_EXIST_ONLY), Status::Success);
    EXPECT_EQ(get1(*db_, "a"), v("3"));
    if (!stores_values(type_)) return;
    // APPEND creates, then appends.
    EXPECT_EQ(put1(*db_, "c", "abc", YOKAN_MODE_APPEND), Status::Success);
    EXPECT_EQ(put1(*db_, "c", "def", YOKAN_MODE_APPEND), Status::Success);
    EXPECT_EQ(put1(*db_, "c", "ghi", YOKAN_MODE_APPEND), Status::Success);
    EXPECT_EQ(get1(*db_, "c"), "abcdefghi");
    // APPEND | EXIST_ONLY
    EXPECT_EQ(put1(*db_, "d", "x", YOKAN_MODE_APPEND | YOKAN_MODE_EXIST_ONLY), Status::NotFound);
    EXPECT_EQ(put1(*db_, "c", "!", YOKAN_MODE_APPEND | YOKAN_MODE_EXIST_ONLY), Status::Success);
    EXPECT_EQ(get1(*db_, "c"), "abcdefghi!");
    // A key repeated in one APPEND batch sees the earlier pairs.
    EXPECT_EQ(db_->put(YOKAN_MODE_APPEND, {"e", "e", "c"}, {"1", "2", "?"}), Status::Success);
    EXPECT_EQ(get1(*db_, "e"), "12");
    EXPECT_EQ(get1(*db_, "c"), "abcdefghi!?");
    EXPECT_EQ(count(*db_), 3u);
}

// Values that change size: overwrites that fit in place, that grow, that shrink a lot, and
// long runs of appends. The in-memory backends keep a pair in one block and replace the block
// when it must grow or shrink; the key must still be found, listed and sorted after that.
TEST_P(BackendTest, ValuesThatGrowAndShrink) {
    if (!kv() || !stores_values(type_)) GTEST_SKIP();
    std::string big(5000, 'B'), small = "s", mid(300, 'm');
    ASSERT_EQ(db_->put(0, {"k1", "k2", "k3"}, {"abc", "def", "ghi"}), Status::Success);
    EXPECT_EQ(put1(*db_, "k2", "xy"), Status::Success);  // smaller: in place
    EXPECT_EQ(get1(*db_, "k2"), "xy");
    EXPECT_EQ(put1(*db_, "k2", big), Status::Success);  // larger: a new block
    EXPECT_EQ(get1(*db_, "k2"), big);
    EXPECT_EQ(put1(*db_, "k2", small), Status::Success);  // much smaller: a new, small block
    EXPECT_EQ(get1(*db_, "k2"), small);
    EXPECT_EQ(put1(*db_, "k2", mid), Status::Success);
    EXPECT_EQ(get1(*db_, "k2"), mid);
    std::string expect;
    for (int i = 0; i < 200; i++) {
        std::string piece = std::to_string(i) + ",";
        expect += piece;
        ASSERT_EQ(put1(*db_, "k3", piece, YOKAN_MODE_APPEND), Status::Success);
    }
    EXPECT_EQ(get1(*db_, "k3"), "ghi" + expect);
    EXPECT_EQ(get1(*db_, "k1"), "abc");
    std::vector<uint64_t> sizes(3);
    ASSERT_EQ(db_->length({"k1", "k2", "k3"}, sizes), Status::Success);
    EXPECT_EQ(sizes, (std::vector<uint64_t>{3, mid.size(), 3 + expect.size()}));
    EXPECT_EQ(count(*db_), 3u);
    if (db_->is_sorted()) {
        std::vector<std::pair<std::string, std::string>> listed;
        ASSERT_EQ(db_->list("", false, "", true,
                            [&](std::string_view k, std::string_view val) {
                                listed.emplace_back(k, val);
                                return true;
                            }),
                  Status::Success);
        ASSERT_EQ(listed.size(), 3u);
        EXPECT_EQ(listed[0], std::make_pair(std::string("k1"), std::string("abc")));
        EXPECT_EQ(listed[1], std::make_pair(std::string("k2"), mid));
        EXPECT_EQ(listed[2], std::make_pair(std::string("k3"), "ghi" + expect));
    }
    EXPECT_EQ(db_->erase({"k2"}), Status::Success);
    EXPECT_FALSE(exists1(*db_, "k2"));
    EXPECT_EQ(get1(*db_, "k3"), "ghi" + expect);
}

TEST_P(BackendTest, MultiKeyPutSkipsRefusedPairs) {
    if (!kv()) GTEST_SKIP();
    ASSERT_EQ(put1(*db_, "x", v("old")), Status::Success);
    // NEW_ONLY: the existing key is skipped silently, the others are written.
    EXPECT_EQ(db_->put(YOKAN_MODE_NEW_ONLY, {"x", "y", "z"}, {v("X"), v("Y"), v("Z")}), Status::Success);
    EXPECT_EQ(get1(*db_, "x"), v("old"));
    EXPECT_EQ(get1(*db_, "y"), v("Y"));
    EXPECT_EQ(get1(*db_, "z"), v("Z"));
    // NEW_ONLY with a key repeated in the batch: the first pair wins.
    EXPECT_EQ(db_->put(YOKAN_MODE_NEW_ONLY, {"w", "w"}, {v("first"), v("second")}), Status::Success);
    EXPECT_EQ(get1(*db_, "w"), v("first"));
    // EXIST_ONLY: missing keys are skipped silently.
    EXPECT_EQ(db_->put(YOKAN_MODE_EXIST_ONLY, {"x", "q", "y"}, {v("X2"), v("Q"), v("Y2")}), Status::Success);
    EXPECT_EQ(get1(*db_, "x"), v("X2"));
    EXPECT_EQ(get1(*db_, "y"), v("Y2"));
    EXPECT_FALSE(exists1(*db_, "q"));
    EXPECT_EQ(count(*db_), 4u);
    // A plain multi-put.
    EXPECT_EQ(db_->put(0, {"m1", "m2"}, {v("1"), v("2")}), Status::Success);
    EXPECT_EQ(count(*db_), 6u);
}

TEST_P(BackendTest, GetConsume) {
    if (!kv()) GTEST_SKIP();
    ASSERT_EQ(db_->put(0, {"q1", "q2", "q3"}, {v("a"), v("b"), v("c")}), Status::Success);
    EXPECT_EQ(get1(*db_, "q1", YOKAN_MODE_CONSUME), v("a"));
    EXPECT_FALSE(exists1(*db_, "q1"));
    EXPECT_EQ(get1(*db_, "q1", YOKAN_MODE_CONSUME), std::nullopt);
    std::map<size_t, std::string> seen;
    EXPECT_EQ(db_->get(YOKAN_MODE_CONSUME, {"q3", "nope", "q2"},
                       [&](size_t i, std::string_view val) { seen[i] = std::string(val); }),
              Status::Success);
    EXPECT_EQ(seen, (std::map<size_t, std::string>{{0, v("c")}, {2, v("b")}}));
    EXPECT_EQ(count(*db_), 0u);
}

TEST_P(BackendTest, ListSorted) {
    if (!kv()) GTEST_SKIP();
    if (!db_->is_sorted()) {
        EXPECT_EQ(db_->list("", false, "", true, [](std::string_view, std::string_view) { return true; }),
                  Status::OpUnsupported);
        return;
    }
    std::vector<std::string> keys = {"c", "a", "abc", "b", "ab", "ba", "abd", "b\xff", "bb"};
    for (auto& k : keys) ASSERT_EQ(put1(*db_, k, v("v_" + k)), Status::Success);
    std::sort(keys.begin(), keys.end());
    using K = std::vector<std::string>;
    // Everything, in order, with values.
    auto all = list_all(*db_, "", false, "", true);
    EXPECT_EQ(keys_of(all), keys);
    for (auto& [k, val] : all) EXPECT_EQ(val, v("v_" + k));
    // Without values.
    for (auto& [k, val] : list_all(*db_, "", false, "", false)) EXPECT_EQ(val, "");
    // from_key: exclusive, then inclusive; a start key that is absent.
    EXPECT_EQ(keys_of(list_all(*db_, "ab", false, "", false)), (K{"abc", "abd", "b", "ba", "bb", "b\xff", "c"}));
    EXPECT_EQ(keys_of(list_all(*db_, "ab", true, "", false)), (K{"ab", "abc", "abd", "b", "ba", "bb", "b\xff", "c"}));
    EXPECT_EQ(keys_of(list_all(*db_, "abca", true, "", false)), (K{"abd", "b", "ba", "bb", "b\xff", "c"}));
    // Prefix, with and without from_key.
    EXPECT_EQ(keys_of(list_all(*db_, "", false, "ab", false)), (K{"ab", "abc", "abd"}));
    EXPECT_EQ(keys_of(list_all(*db_, "ab", false, "ab", false)), (K{"abc", "abd"}));
    EXPECT_EQ(keys_of(list_all(*db_, "ab", true, "ab", false)), (K{"ab", "abc", "abd"}));
    EXPECT_EQ(keys_of(list_all(*db_, "a", false, "b", false)), (K{"b", "ba", "bb", "b\xff"}));
    EXPECT_EQ(keys_of(list_all(*db_, "abz", false, "ab", false)), K{});
    EXPECT_EQ(keys_of(list_all(*db_, "", false, "b\xff", false)), K{"b\xff"});
    EXPECT_EQ(keys_of(list_all(*db_, "", false, "zz", false)), K{});
    // The visitor stops the walk; pagination from the last key.
    auto page1 = keys_of(list_all(*db_, "", false, "", false, 4));
    EXPECT_EQ(page1, (K{"a", "ab", "abc", "abd"}));
    auto page2 = keys_of(list_all(*db_, page1.back(), false, "", false, 4));
    EXPECT_EQ(page2, (K{"b", "ba", "bb", "b\xff"}));
}

TEST_P(BackendTest, Documents) {
    if (!supports_docs()) GTEST_SKIP();
    bool exists = true;
    EXPECT_EQ(db_->coll_exists("docs", exists), Status::Success);
    EXPECT_FALSE(exists);
    IdList ids;
    EXPECT_EQ(db_->doc_store(0, "docs", {"x"}, ids), Status::NotFound);
    ASSERT_EQ(db_->coll_create("docs"), Status::Success);
    EXPECT_EQ(db_->coll_create("docs"), Status::KeyExists);
    EXPECT_EQ(db_->coll_exists("docs", exists), Status::Success);
    EXPECT_TRUE(exists);
    EXPECT_EQ(coll_size(*db_, "docs"), 0u);
    // Ids start at 0 and increase by one per document.
    EXPECT_EQ(store1(*db_, "docs", "{\"n\":0}"), 0u);
    EXPECT_EQ(store1(*db_, "docs", "{\"n\":1}"), 1u);
    ASSERT_EQ(db_->doc_store(0, "docs", {"d2", "d3", "", "d5"}, ids), Status::Success);
    EXPECT_EQ(ids, (IdList{2, 3, 4, 5}));
    EXPECT_EQ(coll_size(*db_, "docs"), 6u);
    uint64_t last = 0;
    EXPECT_EQ(db_->coll_last_id("docs", last), Status::Success);
    EXPECT_EQ(last, 6u);
    EXPECT_EQ(load1(*db_, "docs", 1), "{\"n\":1}");
    EXPECT_EQ(load1(*db_, "docs", 4), "");
    EXPECT_EQ(load1(*db_, "docs", 6), std::nullopt);
    std::vector<uint64_t> sizes(3);
    EXPECT_EQ(db_->doc_length("docs", {2, 99, 0}, sizes), Status::Success);
    EXPECT_EQ(sizes, (std::vector<uint64_t>{2, YOKAN_KEY_NOT_FOUND, 7}));
    // Update.
    EXPECT_EQ(db_->doc_update(0, "docs", {2}, {"two"}), Status::Success);
    EXPECT_EQ(load1(*db_, "docs", 2), "two");
    EXPECT_EQ(db_->doc_update(0, "docs", {42}, {"nope"}), Status::InvalidId);
    EXPECT_EQ(db_->doc_update(0, "docs", {3, 42}, {"three", "nope"}), Status::InvalidId);
    // Erase; erased ids stay erased.
    EXPECT_EQ(db_->doc_erase("docs", {3, 77}), Status::Success);
    EXPECT_EQ(load1(*db_, "docs", 3), std::nullopt);
    EXPECT_EQ(coll_size(*db_, "docs"), 5u);
    EXPECT_EQ(db_->doc_update(0, "docs", {3}, {"back"}), Status::InvalidId);
    EXPECT_EQ(store1(*db_, "docs", "d6"), 6u);
    // Listing from a start id (inclusive) on sorted backends.
    if (db_->is_sorted()) {
        auto l = list_docs(*db_, "docs", 2);
        std::vector<uint64_t> got;
        for (auto& [id, d] : l) got.push_back(id);
        EXPECT_EQ(got, (std::vector<uint64_t>{2, 4, 5, 6}));
        EXPECT_EQ(l[0].second, "two");
        EXPECT_EQ(list_docs(*db_, "docs", 0, 2).size(), 2u);
        EXPECT_EQ(list_docs(*db_, "docs", 7).size(), 0u);
    }
    // A second collection is independent.
    ASSERT_EQ(db_->coll_create("other"), Status::Success);
    EXPECT_EQ(store1(*db_, "other", "o0"), 0u);
    EXPECT_EQ(load1(*db_, "other", 0), "o0");
    EXPECT_EQ(load1(*db_, "docs", 0), "{\"n\":0}");
    // Drop, then recreate from scratch.
    EXPECT_EQ(db_->coll_drop("docs"), Status::Success);
    EXPECT_EQ(db_->coll_drop("docs"), Status::NotFound);
    EXPECT_EQ(db_->coll_exists("docs", exists), Status::Success);
    EXPECT_FALSE(exists);
    uint64_t n;
    EXPECT_EQ(db_->coll_size("docs", n), Status::NotFound);
    ASSERT_EQ(db_->coll_create("docs"), Status::Success);
    EXPECT_EQ(coll_size(*db_, "docs"), 0u);
    EXPECT_EQ(load1(*db_, "docs", 1), std::nullopt);
    EXPECT_EQ(store1(*db_, "docs", "fresh"), 0u);
    EXPECT_EQ(coll_size(*db_, "other"), 1u);
}

TEST_P(BackendTest, DocumentsConsumeAndUpdateNew) {
    if (!supports_docs()) GTEST_SKIP();
    ASSERT_EQ(db_->coll_create("c"), Status::Success);
    IdList ids;
    ASSERT_EQ(db_->doc_store(0, "c", {"a", "b", "c"}, ids), Status::Success);
    EXPECT_EQ(load1(*db_, "c", 1, YOKAN_MODE_CONSUME), "b");
    EXPECT_EQ(load1(*db_, "c", 1), std::nullopt);
    EXPECT_EQ(coll_size(*db_, "c"), 2u);
    // UPDATE_NEW creates an erased id and one past the end.
    EXPECT_EQ(db_->doc_update(YOKAN_MODE_UPDATE_NEW, "c", {1}, {"B"}), Status::Success);
    EXPECT_EQ(load1(*db_, "c", 1), "B");
    EXPECT_EQ(db_->doc_update(YOKAN_MODE_UPDATE_NEW, "c", {5}, {"F"}), Status::Success);
    EXPECT_EQ(load1(*db_, "c", 5), "F");
    EXPECT_EQ(coll_size(*db_, "c"), 4u);
    EXPECT_EQ(store1(*db_, "c", "g"), 6u);
}

TEST_P(BackendTest, ReopenFindsData) {
    if (!persistent_) GTEST_SKIP();
    if (kv()) {
        for (uint64_t i = 0; i < 50; ++i) ASSERT_EQ(put1(*db_, key_for(i), value_for(i)), Status::Success);
        ASSERT_EQ(db_->erase({key_for(7)}), Status::Success);
        ASSERT_EQ(put1(*db_, key_for(8), "+", YOKAN_MODE_APPEND), Status::Success);
    }
    bool docs = supports_docs();
    if (docs) {
        ASSERT_EQ(db_->coll_create("keep"), Status::Success);
        ASSERT_EQ(db_->coll_create("dropped"), Status::Success);
        for (uint64_t i = 0; i < 20; ++i) ASSERT_EQ(store1(*db_, "keep", value_for(i)), i);
        ASSERT_EQ(store1(*db_, "dropped", "gone"), 0u);
        ASSERT_EQ(db_->doc_erase("keep", {3, 19}), Status::Success);
        ASSERT_EQ(db_->doc_update(0, "keep", {4}, {"four"}), Status::Success);
        ASSERT_EQ(db_->coll_drop("dropped"), Status::Success);
    }
    reopen();
    if (kv()) {
        if (!docs) { EXPECT_EQ(count(*db_), 49u); }
        if (db_->is_sorted()) { EXPECT_EQ(list_all(*db_, "", false, "key-", false).size(), 49u); }
        for (uint64_t i = 0; i < 50; ++i) {
            if (i == 7) EXPECT_FALSE(exists1(*db_, key_for(i)));
            else EXPECT_EQ(get1(*db_, key_for(i)), value_for(i) + (i == 8 ? "+" : "")) << i;
        }
    }
    if (docs) {
        bool exists = true;
        EXPECT_EQ(db_->coll_exists("dropped", exists), Status::Success);
        EXPECT_FALSE(exists);
        EXPECT_EQ(coll_size(*db_, "keep"), 18u);
        uint64_t last = 0;
        EXPECT_EQ(db_->coll_last_id("keep", last), Status::Success);
        EXPECT_EQ(last, 20u);  // the erased last id is not handed out again
        for (uint64_t i = 0; i < 20; ++i) {
            auto d = load1(*db_, "keep", i);
            if (i == 3 || i == 19) EXPECT_EQ(d, std::nullopt);
            else EXPECT_EQ(d, i == 4 ? "four" : value_for(i)) << i;
        }
        EXPECT_EQ(store1(*db_, "keep", "next"), 20u);
        // And once more, with the write made after the first reopen.
        reopen();
        EXPECT_EQ(load1(*db_, "keep", 20), "next");
        EXPECT_EQ(load1(*db_, "keep", 4), "four");
    }
}

TEST_P(BackendTest, DestroyRemovesFiles) {
    if (!persistent_) GTEST_SKIP();
    if (kv()) { ASSERT_EQ(put1(*db_, "k", "v"), Status::Success); }
    if (supports_docs()) {
        ASSERT_EQ(db_->coll_create("c"), Status::Success);
        ASSERT_EQ(store1(*db_, "c", "doc"), 0u);
    }
    fs::path p = cfg_["path"].get<std::string>();
    ASSERT_TRUE(fs::exists(p));
    db_->destroy();
    db_.reset();
    EXPECT_FALSE(fs::exists(p));
    // A new database at the same path starts empty.
    db_ = create_backend(type_, cfg_);
    if (kv()) { EXPECT_EQ(count(*db_), 0u); }
    if (!db_->supports_kv()) {
        bool exists = true;
        EXPECT_EQ(db_->coll_exists("c", exists), Status::Success);
        EXPECT_FALSE(exists);
    }
}

TEST_P(BackendTest, BadConfigs) {
    auto expect_invalid = [&](const json& c, const char* what) {
        try {
            create_backend(type_, c);
            ADD_FAILURE() << type_ << " accepted " << what << ": " << c.dump();
        } catch (const Exception& e) {
            EXPECT_EQ(e.code(), Status::InvalidConfig) << what << ": " << e.what();
        }
    };
    expect_invalid(json::array({1, 2}), "an array");
    if (!persistent_) return;
    db_.reset();
    json missing = cfg_;
    missing.erase("path");
    expect_invalid(missing, "no path");
    json wrong = cfg_;
    wrong["path"] = 42;
    expect_invalid(wrong, "a numeric path");
    wrong = cfg_;
    wrong["create_if_missing"] = "yes";
    expect_invalid(wrong, "a string create_if_missing");
    // A missing database without create_if_missing; an existing one with error_if_exists.
    json absent = cfg_;
    absent["path"] = (dir_.path / "absent").string();
    absent["create_if_missing"] = false;
    expect_invalid(absent, "a missing path without create_if_missing");
    if (type_ == "rocksdb" || type_ == "leveldb" || type_ == "log" || type_ == "lmdb") {
        json exists = cfg_;
        exists["error_if_exists"] = true;
        expect_invalid(exists, "an existing path with error_if_exists");
    }
    if (type_ == "rocksdb" || type_ == "leveldb") {
        wrong = cfg_;
        wrong["write_options"] = {{"sync", 1}};
        expect_invalid(wrong, "a numeric write_options.sync");
        wrong = cfg_;
        wrong["read_options"] = "fast";
        expect_invalid(wrong, "a string read_options");
        wrong = cfg_;
        wrong["write_buffer_size"] = "big";
        expect_invalid(wrong, "a string write_buffer_size");
    }
    if (type_ == "log") {
        wrong = cfg_;
        wrong["chunk_size"] = 1.5;
        expect_invalid(wrong, "a fractional chunk_size");
    }
}

TEST_P(BackendTest, ConcurrentAppendsAndStores) {
    const int kThreads = 4, kOps = 100;
    if (kv() && stores_values(type_)) {
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t)
            threads.emplace_back([&, t] {
                for (int i = 0; i < kOps; ++i) {
                    EXPECT_EQ(put1(*db_, "shared", std::string(1, char('a' + t)), YOKAN_MODE_APPEND), Status::Success);
                    EXPECT_EQ(put1(*db_, "own-" + std::to_string(t), "v", YOKAN_MODE_APPEND), Status::Success);
                }
            });
        for (auto& th : threads) th.join();
        EXPECT_EQ(length1(*db_, "shared"), uint64_t(kThreads * kOps));
        for (int t = 0; t < kThreads; ++t) EXPECT_EQ(length1(*db_, "own-" + std::to_string(t)), uint64_t(kOps));
    }
    if (supports_docs()) {
        ASSERT_EQ(db_->coll_create("cc"), Status::Success);
        std::vector<std::vector<uint64_t>> got(kThreads);
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t)
            threads.emplace_back([&, t] {
                for (int i = 0; i < kOps; ++i) got[t].push_back(store1(*db_, "cc", "t" + std::to_string(t)));
            });
        for (auto& th : threads) th.join();
        std::set<uint64_t> all;
        for (auto& g : got) all.insert(g.begin(), g.end());
        EXPECT_EQ(all.size(), size_t(kThreads * kOps));
        EXPECT_EQ(*all.rbegin(), uint64_t(kThreads * kOps - 1));
        EXPECT_EQ(coll_size(*db_, "cc"), uint64_t(kThreads * kOps));
        for (int t = 0; t < kThreads; ++t) EXPECT_EQ(load1(*db_, "cc", got[t][kOps / 2]), "t" + std::to_string(t));
    }
}

// The in-memory backends draw their pairs from pools (src/yokan/backends/memory_chunks.hpp):
// memory freed by erasing is used again by later puts instead of growing the process, and
// the pairs stay intact across the pools' huge chunks.
size_t resident_bytes() {
    std::ifstream statm("/proc/self/statm");
    size_t pages = 0, resident = 0;
    statm >> pages >> resident;
    return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

TEST(MemoryBackends, ErasedPairsMemoryIsReused) {
    for (const char* type : {"map", "unordered_map"}) {
        SCOPED_TRACE(type);
        auto db = create_backend(type, json::object());
        const int n = 200000;
        std::vector<std::string> keys(n);
        for (int i = 0; i < n; ++i) keys[i] = "key-" + std::to_string(1000000000 + i);
        std::vector<std::string_view> kv(keys.begin(), keys.end());
        std::string value(64, 'v');
        std::vector<std::string_view> vv(n, value);
        size_t before = resident_bytes();
        ASSERT_EQ(db->put(0, kv, vv), Status::Success);
        size_t first = resident_bytes() - before;
        EXPECT_GT(first, size_t(n) * 80);  // the pairs are really there
        for (int round = 0; round < 3; ++round) {
            ASSERT_EQ(db->erase(kv), Status::Success);
            ASSERT_EQ(count(*db), 0u);
            ASSERT_EQ(db->put(0, kv, vv), Status::Success);
        }
        size_t total = resident_bytes() - before;
        EXPECT_LT(total, first + first / 4) << "first fill " << first << " bytes, after 3 refills " << total;
        ASSERT_EQ(count(*db), uint64_t(n));
        for (int i = 0; i < n; i += 997) ASSERT_EQ(get1(*db, keys[i]), value) << keys[i];
    }
}

TEST(LmdbTest, MapGrowsWhenFull) {
    if (!has_backend("lmdb")) GTEST_SKIP();
    kinako::testing::TempDir dir{"kinako-yk"};
    json cfg = {{"path", (dir.path / "db").string()}, {"map_size", 1 << 20}, {"no_sync", true}};
    auto db = create_backend("lmdb", cfg);
    std::string big(64 << 10, 'z');
    for (int i = 0; i < 64; ++i) ASSERT_EQ(put1(*db, key_for(i), big), Status::Success) << i;  // 4 MiB
    EXPECT_EQ(count(*db), 64u);
    EXPECT_EQ(get1(*db, key_for(63)), big);
}

std::string param_name(const testing::TestParamInfo<std::string>& info) { return info.param; }

INSTANTIATE_TEST_SUITE_P(AllBackends, BackendTest, testing::ValuesIn(available_backends()), param_name);

// ---------------------------------------------------------------- log specifics

class LogTest : public testing::Test {
  protected:
    void SetUp() override {
        if (!has_backend("log")) GTEST_SKIP();
        cfg_ = {{"path", (dir_.path / "log").string()}, {"chunk_size", 4096}, {"cache_size", 2}};
    }
    std::vector<fs::path> chunks() {
        std::vector<fs::path> out;
        for (auto& e : fs::directory_iterator(cfg_["path"].get<std::string>()))
            if (e.path().extension() == ".chunk") out.push_back(e.path());
        std::sort(out.begin(), out.end());
        return out;
    }
    kinako::testing::TempDir dir_{"kinako-yk"};
    json cfg_;
};

TEST_F(LogTest, ManyChunksAndLargeDocuments) {
    auto db = create_backend("log", cfg_);
    ASSERT_EQ(db->coll_create("c"), Status::Success);
    std::string big(20000, 'B');  // larger than a chunk
    for (uint64_t i = 0; i < 60; ++i) ASSERT_EQ(store1(*db, "c", i == 30 ? big : value_for(i) + std::string(300, 'x')), i);
    EXPECT_GT(chunks().size(), 5u);
    // Reads across more chunks than the mapping cache holds.
    for (int round = 0; round < 2; ++round)
        for (uint64_t i = 0; i < 60; ++i)
            EXPECT_EQ(load1(*db, "c", i), i == 30 ? big : value_for(i) + std::string(300, 'x')) << i;
    db.reset();
    db = create_backend("log", cfg_);
    EXPECT_EQ(coll_size(*db, "c"), 60u);
    EXPECT_EQ(load1(*db, "c", 30), big);
    EXPECT_EQ(list_docs(*db, "c", 25, 10).size(), 10u);
}

TEST_F(LogTest, TornTailIsIgnoredAndOverwritten) {
    auto db = create_backend("log", cfg_);
    ASSERT_EQ(db->coll_create("c"), Status::Success);
    for (uint64_t i = 0; i < 6; ++i) ASSERT_EQ(store1(*db, "c", "document-" + std::to_string(i) + "-payload"), i);
    db.reset();
    // Corrupt a byte of document 4's payload: documents 4 and 5 must be dropped at reopen.
    auto files = chunks();
    ASSERT_EQ(files.size(), 1u);
    std::string bytes;
    {
        std::ifstream in(files[0], std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    auto at = bytes.find("document-4-payload");
    ASSERT_NE(at, std::string::npos);
    {
        std::fstream f(files[0], std::ios::binary | std::ios::in | std::ios::out);
        f.seekp(static_cast<std::streamoff>(at + 3));
        f.put('#');
    }
    db = create_backend("log", cfg_);
    for (uint64_t i = 0; i < 4; ++i) EXPECT_EQ(load1(*db, "c", i), "document-" + std::to_string(i) + "-payload");
    EXPECT_EQ(load1(*db, "c", 4), std::nullopt);
    EXPECT_EQ(load1(*db, "c", 5), std::nullopt);
    EXPECT_EQ(coll_size(*db, "c"), 4u);
    // The next store reuses id 4 (never acknowledged as far as the log knows); the old
    // document 5 behind it must not come back after another reopen.
    EXPECT_EQ(store1(*db, "c", "new"), 4u);
    db.reset();
    db = create_backend("log", cfg_);
    EXPECT_EQ(load1(*db, "c", 4), "new");
    EXPECT_EQ(load1(*db, "c", 5), std::nullopt);
    EXPECT_EQ(coll_size(*db, "c"), 5u);
}

TEST_F(LogTest, SecondOpenOfTheSameDirectoryIsRefused) {
    auto db = create_backend("log", cfg_);
    EXPECT_THROW(create_backend("log", cfg_), Exception);
    db.reset();
    EXPECT_NO_THROW(create_backend("log", cfg_));
}

// ---------------------------------------------------------------- crash test
//
// The parent re-executes this binary with KINAKO_YK_CRASH_* in the environment; the child
// (see CrashChild below, which runs before main) opens the backend configured to sync and
// writes key i (or stores document i), writing i to a pipe after each acknowledged write.
// The parent kills it with SIGKILL mid-stream, reopens the database and checks every
// acknowledged write.

int run_crash_child(const char* type, const char* cfg_text, int fd) {
    try {
        auto db = create_backend(type, json::parse(cfg_text));
        bool docs = !db->supports_kv();
        if (docs && db->coll_create("crash") != Status::Success) return 3;
        for (uint64_t i = 0;; ++i) {
            if (docs) {
                IdList ids;
                std::string d = value_for(i);
                if (db->doc_store(0, "crash", {std::string_view(d)}, ids) != Status::Success || ids[0] != i) return 4;
            } else {
                std::string k = key_for(i), v = value_for(i);
                // Plain puts and the read-modify-write modes (on a new key, both store v).
                int32_t mode = i % 3 == 1 ? YOKAN_MODE_NEW_ONLY : i % 3 == 2 ? YOKAN_MODE_APPEND : 0;
                if (db->put(mode, {std::string_view(k)}, {std::string_view(v)}) != Status::Success) return 4;
            }
            if (write(fd, &i, sizeof(i)) != sizeof(i)) return 5;
        }
    } catch (const std::exception& e) {
        fprintf(stderr, "crash child: %s\n", e.what());
        return 2;
    }
}

struct CrashChild {
    CrashChild() {
        const char* type = getenv("KINAKO_YK_CRASH_TYPE");
        const char* cfg = getenv("KINAKO_YK_CRASH_CONFIG");
        const char* fd = getenv("KINAKO_YK_CRASH_FD");
        if (type && cfg && fd) _exit(run_crash_child(type, cfg, atoi(fd)));
    }
} crash_child;

class CrashTest : public testing::TestWithParam<std::string> {};

TEST_P(CrashTest, AcknowledgedWritesSurviveKill9) {
    const std::string type = GetParam();
    if (!has_backend(type)) GTEST_SKIP() << type << " not built";
    kinako::testing::TempDir dir{"kinako-yk"};
    json cfg = sync_config(type, dir.path);
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = kinako::testing::spawn_self("KINAKO_YK_CRASH_",
                                            {"KINAKO_YK_CRASH_TYPE=" + type, "KINAKO_YK_CRASH_CONFIG=" + cfg.dump(),
                                             "KINAKO_YK_CRASH_FD=" + std::to_string(fds[1])},
                                            fds[0]);
    ASSERT_GE(pid, 0);
    close(fds[1]);
    // Let the child acknowledge some writes, then kill it while it is writing.
    const uint64_t kill_after = 150;
    uint64_t acked = 0, last = UINT64_MAX;
    auto read_ack = [&]() {
        uint64_t i;
        ssize_t n = read(fds[0], &i, sizeof(i));
        if (n != sizeof(i)) return false;
        EXPECT_EQ(i, last + 1);
        last = i;
        ++acked;
        return true;
    };
    while (acked < kill_after && read_ack()) {
    }
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    // Acknowledgments already in the pipe count too.
    while (read_ack()) {
    }
    close(fds[0]);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status) << " after " << acked << " writes";
    ASSERT_GE(acked, kill_after);

    auto db = create_backend(type, cfg);
    if (db->supports_kv()) {
        for (uint64_t i = 0; i <= last; ++i) ASSERT_EQ(get1(*db, key_for(i)), value_for(i)) << "key " << i;
        EXPECT_GE(count(*db), last + 1);
    } else {
        for (uint64_t i = 0; i <= last; ++i) ASSERT_EQ(load1(*db, "crash", i), value_for(i)) << "document " << i;
        EXPECT_GE(coll_size(*db, "crash"), last + 1);
    }
}

INSTANTIATE_TEST_SUITE_P(Persistent, CrashTest, testing::Values("rocksdb", "leveldb", "lmdb", "log"), param_name);

}  // namespace
