// Snapshot, restore and migration of yokan providers (Provider::snapshot/restore/migrate),
// checked through the client over real engines (na+sm) for every backend type: contents come
// back identical (pairs with empty values, binary keys, 100 KiB values; collections with their
// ids and next id), across backend types too; damaged or missing snapshot files are refused
// without touching the database; a migrated provider answers Migrated.
#include <mochi/yokan/backend.hpp>
#include <mochi/yokan/client.hpp>
#include <mochi/yokan/provider.hpp>

#include <gtest/gtest.h>

#include "../common/temp_dir.hpp"
#include "../common/yokan_status.hpp"
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

using namespace mochi;
using namespace mochi::yokan;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace mochi::yokan {
std::ostream& operator<<(std::ostream& os, Status s) {
    return os << status_message(s) << " (" << static_cast<int>(s) << ")";
}
}  // namespace mochi::yokan

namespace {

using kinako::test::code_of;

// ---------------------------------------------------------------- helpers

const std::vector<std::string> kKvTypes = {"map", "unordered_map", "set", "unordered_set", "rocksdb", "lmdb", "leveldb"};
const std::vector<std::string> kDocTypes = {"array", "log"};

bool has_backend(const std::string& type) {
    auto all = available_backends();
    return std::find(all.begin(), all.end(), type) != all.end();
}
bool is_doc_only(const std::string& type) { return type == "array" || type == "log"; }
bool stores_values(const std::string& type) { return type != "set" && type != "unordered_set"; }
bool holds_documents(const std::string& type) { return stores_values(type); }
bool is_persistent(const std::string& type) {
    return type == "rocksdb" || type == "lmdb" || type == "leveldb" || type == "log";
}


// Provider config for a type; persistent types keep their files under dir/name.
std::string provider_config(const std::string& type, const fs::path& dir, const std::string& name) {
    json cfg = json::object();
    std::string path = (dir / name).string();
    if (type == "log") cfg = {{"path", path}, {"chunk_size", 65536}};
    else if (type == "lmdb") cfg = {{"path", path}, {"no_sync", true}};
    else if (is_persistent(type)) cfg = {{"path", path}};
    return json{{"database", {{"type", type}, {"config", cfg}}}}.dump();
}

std::string pattern(size_t n, int seed) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) s[i] = char((i * 131 + seed * 7) & 0xff);
    return s;
}

// What a database is expected to hold.
struct CollModel {
    uint64_t last_id = 0;
    std::map<uint64_t, std::string> docs;
    std::vector<uint64_t> erased;
};
struct Model {
    std::map<std::string, std::string> pairs;
    std::map<std::string, CollModel> colls;
};

// Fills db the way a type allows: pairs (empty values, binary keys, a 100 KiB value, enough
// small ones to span many chunks) and collections with erased documents, the last one among
// them (so the next id is past the last live document).
Model fill(const Database& db, const std::string& type) {
    Model m;
    if (!is_doc_only(type)) {
        auto v = [&](std::string s) { return stores_values(type) ? s : std::string(); };
        m.pairs["alpha"] = v("one");
        m.pairs["empty"] = "";
        m.pairs[std::string("bin\0key\xff", 8)] = v(std::string("\0\x01\x02", 3));
        m.pairs[std::string("\0lead", 5)] = v("zero-led");
        m.pairs["big"] = v(pattern(100 << 10, 1));
        for (int i = 0; i < 300; ++i) m.pairs["k" + std::to_string(1000 + i)] = v("value-" + std::to_string(i));
        std::vector<std::string_view> keys, values;
        for (auto& [k, val] : m.pairs) {
            keys.push_back(k);
            values.push_back(val);
        }
        db.put_multi(keys, values);
    }
    if (holds_documents(type)) {
        std::vector<std::string> names = {"docs"};
        if (is_doc_only(type)) names.push_back("more");
        for (auto& name : names) {
            auto coll = db.create_collection(name);
            CollModel c;
            for (uint64_t i = 0; i < 12; ++i) {
                std::string doc = i == 4 ? pattern(100 << 10, 2) : (i == 5 ? "" : name + "-doc-" + std::to_string(i));
                EXPECT_EQ(coll.store(doc), i);
                c.docs[i] = doc;
            }
            for (uint64_t id : {3, 10, 11}) {
                coll.erase_multi({id});
                c.docs.erase(id);
                c.erased.push_back(id);
            }
            c.last_id = 12;
            m.colls[name] = c;
        }
    }
    return m;
}

// Checks db holds exactly what m says (pair count: kv_count when given).
void expect_content(const Database& db, const Model& m, const std::string& type, std::optional<uint64_t> kv_count = {}) {
    if (!is_doc_only(type)) {
        if (kv_count) EXPECT_EQ(db.count(), *kv_count);
        std::vector<std::string_view> keys;
        for (auto& [k, v] : m.pairs) keys.push_back(k);
        size_t seen = 0;
        db.fetch_multi(keys, [&](size_t i, const std::string_view* v) {
            ASSERT_NE(v, nullptr) << "missing key " << keys[i];
            EXPECT_TRUE(*v == m.pairs.at(std::string(keys[i]))) << "wrong value for " << keys[i];
            ++seen;
        });
        EXPECT_EQ(seen, keys.size());
    }
    for (auto& [name, c] : m.colls) {
        ASSERT_TRUE(db.collection_exists(name)) << name;
        auto coll = db.open_collection(name);
        EXPECT_EQ(coll.size(), c.docs.size()) << name;
        EXPECT_EQ(coll.last_id(), c.last_id) << name;
        IdList ids;
        for (auto& [id, d] : c.docs) ids.push_back(id);
        for (auto id : c.erased) ids.push_back(id);
        coll.fetch_multi(ids, [&](size_t i, uint64_t id, const std::string_view* doc) {
            auto it = c.docs.find(id);
            if (it == c.docs.end()) {
                EXPECT_EQ(doc, nullptr) << name << " erased id " << id << " came back";
            } else {
                ASSERT_NE(doc, nullptr) << name << " lost id " << id;
                EXPECT_TRUE(*doc == it->second) << name << " id " << id;
            }
        });
    }
}

// A small, different content a target holds before a restore ("unchanged" checks use it).
Model fill_other(const Database& db, const std::string& type) {
    Model m;
    if (!is_doc_only(type)) {
        m.pairs["pre"] = stores_values(type) ? "existing" : "";
        m.pairs["alpha"] = stores_values(type) ? "old" : "";
        db.put_multi({"pre", "alpha"}, {m.pairs["pre"], m.pairs["alpha"]});
    } else {
        auto coll = db.create_collection("pre");
        coll.store("pre-doc");
        m.colls["pre"] = CollModel{1, {{0, "pre-doc"}}, {}};
    }
    return m;
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}
void write_file(const fs::path& p, const std::string& data) {
    fs::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

// ---------------------------------------------------------------- fixture

// One server engine (plus a second one for migrations), providers on it, and handles to them.
class SnapshotTest : public testing::TestWithParam<std::string> {
  protected:
    void SetUp() override {
        type_ = GetParam();
        if (!has_backend(type_)) GTEST_SKIP() << type_ << " not built";
        engine_ = margo::Engine("na+sm", margo::Mode::Server);
    }
    void TearDown() override {
        providers_.clear();
        if (engine_) engine_.finalize();
        if (engine2_) engine2_.finalize();
    }
    Database add(const std::string& type, uint16_t id, margo::Engine* engine = nullptr) {
        margo::Engine& e = engine ? *engine : engine_;
        providers_.push_back(std::make_unique<Provider>(e, id, provider_config(type, dir_.path, "db" + std::to_string(id))));
        return handle(e, id);
    }
    Provider& provider(size_t i) { return *providers_.at(i); }
    Database handle(const margo::Engine& e, uint16_t id) {
        return Client(engine_).make_database_handle(engine_.lookup(e.self().to_string()), id);
    }
    fs::path snap_dir() const { return dir_.path / "snap"; }

    kinako::testing::TempDir dir_{"kinako-yk-snap"};
    std::string type_;
    margo::Engine engine_, engine2_;
    std::vector<std::unique_ptr<Provider>> providers_;
};

std::string param_name(const testing::TestParamInfo<std::string>& info) { return info.param; }

// ---------------------------------------------------------------- backend level

TEST_P(SnapshotTest, VisitAllAndCollNames) {
    // The two Backend calls the dump relies on, straight on a backend.
    json cfg = json::parse(provider_config(type_, dir_.path, "direct"))["database"]["config"];
    auto b = create_backend(type_, cfg);
    if (is_doc_only(type_)) {
        ASSERT_EQ(b->coll_create("x"), Status::Success);
        ASSERT_EQ(b->coll_create("y"), Status::Success);
        std::vector<std::string> names;
        ASSERT_EQ(b->coll_names(names), Status::Success);
        std::sort(names.begin(), names.end());
        EXPECT_EQ(names, (std::vector<std::string>{"x", "y"}));
        return;
    }
    std::string v = stores_values(type_) ? "v" : "";
    ASSERT_EQ(b->put(0, {"a", "b", std::string_view("c\0", 2)}, {v, "", v}), Status::Success);
    std::map<std::string, std::string> seen;
    ASSERT_EQ(b->visit_all([&](std::string_view k, std::string_view val) {
        seen[std::string(k)] = std::string(val);
        return true;
    }), Status::Success);
    EXPECT_EQ(seen, (std::map<std::string, std::string>{{"a", v}, {"b", ""}, {std::string("c\0", 2), v}}));
    size_t visits = 0;
    ASSERT_EQ(b->visit_all([&](std::string_view, std::string_view) { return ++visits < 2; }), Status::Success);
    EXPECT_EQ(visits, 2u);  // stops when told
    std::vector<std::string> names;
    EXPECT_EQ(b->coll_names(names), Status::OpUnsupported);  // collections travel as pairs
}

// ---------------------------------------------------------------- snapshot and restore

TEST_P(SnapshotTest, SnapshotThenRestoreIntoAFreshProvider) {
    auto src = add(type_, 1);
    Model m = fill(src, type_);
    uint64_t n = is_doc_only(type_) ? 0 : src.count();
    provider(0).snapshot(snap_dir().string(), R"({"chunk_size": 4096})");
    ASSERT_TRUE(fs::is_regular_file(snap_dir() / "yokan.snapshot"));
    EXPECT_FALSE(fs::exists(snap_dir() / "yokan.snapshot.tmp"));
    expect_content(src, m, type_, n);  // the source is left alone

    auto dst = add(type_, 2);
    provider(1).restore(snap_dir().string());
    expect_content(dst, m, type_, n);
    // The restored collections go on from the source's next id.
    for (auto& [name, c] : m.colls) EXPECT_EQ(dst.open_collection(name).store("after"), c.last_id);
    // The file itself may be named too, and default options (4 MiB chunks) work.
    provider(0).snapshot((dir_.path / "snap2").string());
    auto dst2 = add(type_, 3);
    provider(2).restore((dir_.path / "snap2" / "yokan.snapshot").string(), "{}");
    expect_content(dst2, m, type_, n);
}

// Both sides hold collection "docs": the merge must add up the documents, whichever way the
// collection travels (raw pairs of the default document store, or document records).
TEST_P(SnapshotTest, MergeIntoTheSameCollectionKeepsCountsAndIds) {
    if (!holds_documents(type_)) GTEST_SKIP() << type_ << " holds no documents";
    auto src = add(type_, 1);
    Model m = fill(src, type_);  // "docs": ids 0..11, 3, 10 and 11 erased, next id 12
    provider(0).snapshot(snap_dir().string(), R"({"chunk_size": 4000})");

    auto dst = add(type_, 2);
    auto coll = dst.create_collection("docs");
    for (uint64_t i = 0; i < 15; ++i) EXPECT_EQ(coll.store("dst-" + std::to_string(i)), i);
    coll.erase_multi({0, 1});  // live: 2..14 (13 documents), next id 15

    provider(1).restore(snap_dir().string(), R"({"merge": true})");
    std::map<uint64_t, std::string> expected;
    for (uint64_t i = 2; i < 15; ++i) expected[i] = "dst-" + std::to_string(i);
    for (auto& [id, doc] : m.colls["docs"].docs) expected[id] = doc;  // the snapshot wins on equal ids
    auto merged = dst.open_collection("docs");
    EXPECT_EQ(merged.size(), expected.size());
    for (auto& [id, doc] : expected) {
        std::string got;
        merged.fetch_multi({id}, [&](size_t, uint64_t, const std::string_view* d) { got = d ? std::string(*d) : "<none>"; });
        EXPECT_EQ(got, doc) << "document " << id;
    }
    // The next id is the larger of the two (15), not the snapshot's (12).
    EXPECT_EQ(merged.store("next"), 15u);
    EXPECT_EQ(merged.size(), expected.size() + 1);
}

TEST_P(SnapshotTest, RestoreClearsUnlessMerge) {
    auto src = add(type_, 1);
    Model m = fill(src, type_);
    provider(0).snapshot(snap_dir().string(), R"({"chunk_size": 10000})");

    auto dst = add(type_, 2);
    Model other = fill_other(dst, type_);
    provider(1).restore(snap_dir().string(), R"({"merge": true})");
    Model merged = m;
    for (auto& [k, v] : other.pairs) merged.pairs.emplace(k, v);  // snapshot pairs win on equal keys
    for (auto& [k, c] : other.colls) merged.colls.emplace(k, c);
    expect_content(dst, merged, type_);
    if (!is_doc_only(type_)) EXPECT_EQ(dst.count(), src.count() + 1);  // "pre" kept, "alpha" overwritten

    provider(1).restore(snap_dir().string(), R"({"merge": false})");
    expect_content(dst, m, type_, is_doc_only(type_) ? std::optional<uint64_t>() : src.count());
    if (is_doc_only(type_)) EXPECT_FALSE(dst.collection_exists("pre"));
    else EXPECT_FALSE(dst.exists("pre"));
}

TEST_P(SnapshotTest, RemoveSourceEmptiesTheDatabase) {
    auto src = add(type_, 1);
    Model m = fill(src, type_);
    uint64_t n = is_doc_only(type_) ? 0 : src.count();
    provider(0).snapshot(snap_dir().string(), R"({"chunk_size": 4096})", true);
    if (!is_doc_only(type_)) EXPECT_EQ(src.count(), 0u);
    for (auto& [name, c] : m.colls) EXPECT_FALSE(src.collection_exists(name));
    // Still usable, and the snapshot brings everything back.
    provider(0).restore(snap_dir().string());
    expect_content(src, m, type_, n);
}

TEST_P(SnapshotTest, DamagedOrMissingFilesLeaveTheDatabaseAlone) {
    auto src = add(type_, 1);
    fill(src, type_);
    provider(0).snapshot(snap_dir().string(), R"({"chunk_size": 8192})");
    const std::string good = read_file(snap_dir() / "yokan.snapshot");
    ASSERT_GT(good.size(), 100u);

    auto dst = add(type_, 2);
    Model other = fill_other(dst, type_);
    auto expect_refused = [&](const fs::path& path, const std::string& label) {
        for (bool merge : {false, true}) {
            std::string msg;
            Status s = code_of([&] { provider(1).restore(path.string(), merge ? R"({"merge":true})" : "{}"); }, &msg);
            EXPECT_EQ(s, Status::InvalidArgs) << label << ": " << msg;
            EXPECT_NE(msg.find(path.filename().string()), std::string::npos) << label << ": " << msg;
        }
        expect_content(dst, other, type_, is_doc_only(type_) ? std::optional<uint64_t>() : 2u);
        if (is_doc_only(type_)) EXPECT_FALSE(dst.collection_exists("docs")) << label;
    };

    fs::path bad = dir_.path / "bad" / "yokan.snapshot";
    // Flipped bytes: all of the header, then spread over the file, then all of the end.
    std::set<size_t> positions;
    for (size_t i = 0; i < 48 && i < good.size(); ++i) positions.insert(i);
    for (size_t k = 1; k < 32; ++k) positions.insert(good.size() * k / 32);
    for (size_t i = good.size() - 40; i < good.size(); ++i) positions.insert(i);
    for (size_t pos : positions) {
        std::string data = good;
        data[pos] = char(data[pos] ^ 0x20);
        write_file(bad, data);
        expect_refused(bad.parent_path(), "byte " + std::to_string(pos) + " flipped");
    }
    // Truncated anywhere, and junk after the end.
    for (size_t len : {size_t(0), size_t(7), size_t(16), size_t(40), good.size() / 3, good.size() / 2, good.size() - 26,
                       good.size() - 9, good.size() - 1}) {
        write_file(bad, good.substr(0, len));
        expect_refused(bad, "truncated to " + std::to_string(len));
    }
    write_file(bad, good + "x");
    expect_refused(bad, "one byte too many");
    // Not a snapshot at all, and nothing there.
    write_file(bad, "this is not a snapshot, just some text that is long enough to have a header\n");
    expect_refused(bad, "text file");
    expect_refused(dir_.path / "nowhere", "missing directory");
    expect_refused(dir_.path / "nowhere" / "yokan.snapshot", "missing file");
    fs::create_directories(dir_.path / "empty-dir");
    expect_refused(dir_.path / "empty-dir", "directory without a snapshot");

    // The good file still restores.
    write_file(bad, good);
    provider(1).restore(bad.string());
}

TEST_P(SnapshotTest, BadOptionsAndDestinations) {
    auto src = add(type_, 1);
    EXPECT_EQ(code_of([&] { provider(0).snapshot(snap_dir().string(), "{not json"); }), Status::InvalidArgs);
    EXPECT_EQ(code_of([&] { provider(0).snapshot(snap_dir().string(), R"({"chunk_size": 0})"); }), Status::InvalidArgs);
    EXPECT_EQ(code_of([&] { provider(0).snapshot(snap_dir().string(), R"({"chunk_size": "big"})"); }), Status::InvalidArgs);
    EXPECT_EQ(code_of([&] { provider(0).restore(snap_dir().string(), R"({"merge": 1})"); }), Status::InvalidArgs);
    write_file(dir_.path / "a-file", "x");
    EXPECT_EQ(code_of([&] { provider(0).snapshot((dir_.path / "a-file").string()); }), Status::InvalidArgs);
    EXPECT_EQ(code_of([&] { provider(0).snapshot(""); }), Status::InvalidArgs);
    // A database-less provider has nothing to snapshot.
    Provider none(engine_, 7, "{}");
    EXPECT_EQ(code_of([&] { none.snapshot(snap_dir().string()); }), Status::InvalidDatabase);
}

// ---------------------------------------------------------------- migration

TEST_P(SnapshotTest, MigrateToAnotherEngine) {
    engine2_ = margo::Engine("na+sm", margo::Mode::Server);
    auto src = add(type_, 1);
    Model m = fill(src, type_);
    uint64_t n = is_doc_only(type_) ? 0 : src.count();
    auto dst = add(type_, 5, &engine2_);
    const std::string dest_addr = engine2_.self().to_string();

    // No yokan provider under that id: refused before anything moves.
    std::string msg;
    EXPECT_EQ(code_of([&] { provider(0).migrate(dest_addr, 99); }, &msg), Status::InvalidProvider) << msg;
    expect_content(src, m, type_, n);
    // Onto itself: refused.
    EXPECT_EQ(code_of([&] { provider(0).migrate(engine_.self().to_string(), 1); }), Status::InvalidArgs);
    expect_content(src, m, type_, n);

    // A copy first (remove_source false): both hold everything.
    provider(0).migrate(dest_addr, 5, R"({"transfer_size": 8192})", false);
    expect_content(dst, m, type_, n);
    expect_content(src, m, type_, n);

    // Then the move: the destination has it, the source answers Migrated.
    fs::path src_path = dir_.path / "db1";
    provider(0).migrate(dest_addr, 5, R"({"transfer_size": 8192, "timeout_ms": 30000})");
    expect_content(dst, m, type_, n);
    std::vector<std::function<void()>> requests = {
        [&] { src.count(); },
        [&] { src.exists("alpha"); },
        [&] { src.put("new", ""); },
        [&] { src.collection_exists("docs"); },
        [&] { src.open_collection("docs").size(); },
    };
    for (size_t i = 0; i < requests.size(); ++i) {
        std::string why;
        EXPECT_EQ(code_of(requests[i], &why), Status::Migrated) << "request " << i << ": " << why;
        EXPECT_NE(why.find(dest_addr), std::string::npos) << why;
    }
    EXPECT_EQ(static_cast<int>(Status::Migrated), 32);  // YOKAN_ERR_MIGRATED
    if (is_persistent(type_)) EXPECT_FALSE(fs::exists(src_path)) << "the migrated database's files remain";
    // A migrated provider does not snapshot, restore or migrate again.
    EXPECT_EQ(code_of([&] { provider(0).snapshot(snap_dir().string()); }), Status::Migrated);
    EXPECT_EQ(code_of([&] { provider(0).migrate(dest_addr, 5); }), Status::Migrated);
}

TEST_P(SnapshotTest, DefaultSizedChunksOfSeveralMiB) {
    // 4 MiB chunks (the default) travel by RMA inside the engine; a few of them, and one
    // 5 MiB record bigger than a chunk, must arrive whole, through files and migration alike.
    if (!stores_values(type_)) GTEST_SKIP() << "values are what makes the chunks large";
    engine2_ = margo::Engine("na+sm", margo::Mode::Server);
    auto src = add(type_, 1);
    Model m;
    if (is_doc_only(type_)) {
        auto coll = src.create_collection("large");
        CollModel c;
        for (uint64_t i = 0; i < 10; ++i) c.docs[i] = pattern(i == 7 ? (5 << 20) : (1 << 20), int(i));
        for (auto& [id, d] : c.docs) ASSERT_EQ(coll.store(d), id);
        c.last_id = 10;
        m.colls["large"] = c;
    } else {
        for (int i = 0; i < 10; ++i) m.pairs["large" + std::to_string(i)] = pattern(i == 7 ? (5 << 20) : (1 << 20), i);
        for (auto& [k, v] : m.pairs) src.put(k, v);
    }
    provider(0).snapshot(snap_dir().string());
    auto restored = add(type_, 2);
    provider(1).restore(snap_dir().string());
    expect_content(restored, m, type_);
    auto dst = add(type_, 3, &engine2_);
    provider(0).migrate(engine2_.self().to_string(), 3);
    expect_content(dst, m, type_);
}

INSTANTIATE_TEST_SUITE_P(Types, SnapshotTest,
                         testing::ValuesIn([] {
                             auto all = kKvTypes;
                             all.insert(all.end(), kDocTypes.begin(), kDocTypes.end());
                             return all;
                         }()),
                         param_name);

// ---------------------------------------------------------------- across types

struct Pairing {
    std::string from, to;
};
void PrintTo(const Pairing& p, std::ostream* os) { *os << p.from << " -> " << p.to; }

class CrossTypeTest : public testing::TestWithParam<Pairing> {
  protected:
    void SetUp() override {
        if (!has_backend(GetParam().from) || !has_backend(GetParam().to)) GTEST_SKIP();
        engine_ = margo::Engine("na+sm", margo::Mode::Server);
    }
    void TearDown() override {
        src_.reset();
        dst_.reset();
        if (engine_) engine_.finalize();
    }
    Database handle(uint16_t id) { return Client(engine_).make_database_handle(engine_.self(), id); }
    kinako::testing::TempDir dir_{"kinako-yk-snap"};
    margo::Engine engine_;
    std::unique_ptr<Provider> src_, dst_;
};

TEST_P(CrossTypeTest, RestoreAndMigrate) {
    const auto& [from, to] = GetParam();
    src_ = std::make_unique<Provider>(engine_, 1, provider_config(from, dir_.path, "src"));
    dst_ = std::make_unique<Provider>(engine_, 2, provider_config(to, dir_.path, "dst"));
    auto src = handle(1), dst = handle(2);
    Model m = fill(src, from);
    // Key/value to key/value types keep every pair, collections' reserved pairs included.
    std::optional<uint64_t> n;
    if (!is_doc_only(from) && !is_doc_only(to)) n = src.count();
    src_->snapshot((dir_.path / "snap").string(), R"({"chunk_size": 5000})");
    dst_->restore((dir_.path / "snap").string());
    expect_content(dst, m, to, n);
    // Migration between two providers of one engine, into a fresh one.
    dst_ = std::make_unique<Provider>(engine_, 3, provider_config(to, dir_.path, "dst3"));
    src_->migrate(engine_.self().to_string(), 3, R"({"transfer_size": 3000})");
    expect_content(handle(3), m, to, n);
    EXPECT_EQ(code_of([&] { src.collection_exists("docs"); }), Status::Migrated);
}

TEST(CrossType, IncompatibleTargetsAreRefusedUntouched) {
    for (auto [from, to] : std::vector<Pairing>{{"map", "array"}, {"map", "set"}, {"array", "set"}}) {
        SCOPED_TRACE(from + " -> " + to);
        kinako::testing::TempDir dir{"kinako-yk-snap"};
        margo::Engine engine("na+sm", margo::Mode::Server);
        {
            Provider src(engine, 1, provider_config(from, dir.path, "src"));
            Provider dst(engine, 2, provider_config(to, dir.path, "dst"));
            Client client(engine);
            auto s = client.make_database_handle(engine.self(), 1), d = client.make_database_handle(engine.self(), 2);
            fill(s, from);
            Model other = fill_other(d, to);
            src.snapshot((dir.path / "snap").string());
            std::string msg;
            EXPECT_EQ(code_of([&] { dst.restore((dir.path / "snap").string()); }, &msg), Status::OpUnsupported) << msg;
            expect_content(d, other, to);
            EXPECT_EQ(code_of([&] { src.migrate(engine.self().to_string(), 2); }, &msg), Status::OpUnsupported) << msg;
            expect_content(d, other, to);
            EXPECT_NO_THROW(s.collection_exists("docs"));  // the source stays in service
        }
        engine.finalize();
    }
}

std::string pairing_name(const testing::TestParamInfo<Pairing>& info) { return info.param.from + "_to_" + info.param.to; }

INSTANTIATE_TEST_SUITE_P(Pairs, CrossTypeTest,
                         testing::Values(Pairing{"map", "rocksdb"}, Pairing{"rocksdb", "map"},
                                         Pairing{"unordered_map", "lmdb"}, Pairing{"leveldb", "unordered_map"},
                                         Pairing{"set", "unordered_set"}, Pairing{"unordered_set", "map"},
                                         Pairing{"array", "log"}, Pairing{"log", "array"}, Pairing{"array", "map"},
                                         Pairing{"log", "rocksdb"}),
                         pairing_name);

}  // namespace
