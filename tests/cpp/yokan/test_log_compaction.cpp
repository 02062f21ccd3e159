// Compaction of the "log" backend (src/yokan/backends/log.cpp), through the Backend interface:
// the directory stays bounded under updates, every document reads back its latest content
// before and after a reopen, erased documents and dropped collections stay gone, ids are never
// handed out twice, and the state survives a crash at any point of a compaction: a chunk
// brought back as if its unlink had not happened, a copy cut short, and kill -9 of a writer.
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
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
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

bool has_log() {
    auto all = available_backends();
    return std::find(all.begin(), all.end(), "log") != all.end();
}

uint64_t store1(Backend& b, std::string_view coll, std::string_view doc) {
    IdList ids;
    EXPECT_EQ(b.doc_store(0, coll, {doc}, ids), Status::Success);
    return ids.size() == 1 ? ids[0] : UINT64_MAX;
}

Status update1(Backend& b, std::string_view coll, uint64_t id, std::string_view doc, int32_t mode = 0) {
    return b.doc_update(mode, coll, IdList{id}, {doc});
}

std::optional<std::string> load1(Backend& b, std::string_view coll, uint64_t id) {
    std::optional<std::string> out;
    EXPECT_EQ(b.doc_load(0, coll, {id}, [&](size_t, std::string_view d) { out = std::string(d); }), Status::Success);
    return out;
}

using Docs = std::map<uint64_t, std::string>;

Docs all_docs(Backend& b, std::string_view coll, std::vector<uint64_t>* order = nullptr) {
    Docs out;
    EXPECT_EQ(b.doc_list(coll, 0, [&](uint64_t id, std::string_view d) {
        if (order) order->push_back(id);
        out.emplace(id, std::string(d));
        return true;
    }), Status::Success);
    return out;
}

uint64_t coll_size(Backend& b, std::string_view coll) {
    uint64_t n = 12345;
    EXPECT_EQ(b.coll_size(coll, n), Status::Success);
    return n;
}

uint64_t last_id(Backend& b, std::string_view coll) {
    uint64_t n = 12345;
    EXPECT_EQ(b.coll_last_id(coll, n), Status::Success);
    return n;
}

bool coll_exists(Backend& b, std::string_view coll) {
    bool e = false;
    EXPECT_EQ(b.coll_exists(coll, e), Status::Success);
    return e;
}

// Chunk files of a log directory, by name.
std::map<std::string, fs::path> chunk_files(const fs::path& dir) {
    std::map<std::string, fs::path> out;
    for (auto& e : fs::directory_iterator(dir))
        if (e.path().extension() == ".chunk") out[e.path().filename().string()] = e.path();
    return out;
}

uint64_t chunk_bytes(const fs::path& dir) {
    uint64_t total = 0;
    for (auto& [name, p] : chunk_files(dir)) total += fs::file_size(p);
    return total;
}

uint32_t highest_chunk(const fs::path& dir) {
    auto files = chunk_files(dir);
    uint32_t n = 0;
    for (auto& [name, p] : files) n = std::max<uint32_t>(n, static_cast<uint32_t>(std::stoul(name)));
    return n;
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_file(const fs::path& p, const std::string& bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Offsets of the record boundaries of a chunk file's intact prefix (the log's layout: 32-byte
// header with magic "KLG1" and the payload size at byte 24, payload padded to 8 bytes).
std::vector<uint64_t> record_boundaries(const std::string& bytes) {
    std::vector<uint64_t> out{0};
    uint64_t off = 0;
    while (off + 32 <= bytes.size() && std::memcmp(bytes.data() + off, "KLG1", 4) == 0) {
        uint32_t size;
        std::memcpy(&size, bytes.data() + off + 24, 4);
        uint64_t next = off + 32 + ((uint64_t(size) + 7) & ~uint64_t(7));
        if (next > bytes.size()) break;
        off = next;
        out.push_back(off);
    }
    return out;
}

// Document `id` at version `v`: its id and version up front, a length that varies.
std::string doc_value(uint64_t id, uint64_t v) {
    std::string s = "doc-" + std::to_string(id) + "-v" + std::to_string(v) + ":";
    s.append(120 + (id * 37 + v * 11) % 400, char('a' + (id + v) % 26));
    return s;
}

// Stores the next version of document `id` (which must be the collection's next id) into
// coll and the model.
void store_next(Backend& db, std::string_view coll, Docs& model, uint64_t id, uint64_t& version) {
    std::string v = doc_value(id, ++version);
    EXPECT_EQ(store1(db, coll, v), id);
    model[id] = v;
}

class LogCompactionTest : public testing::Test {
  protected:
    void SetUp() override {
        if (!has_log()) GTEST_SKIP() << "log backend not built";
        cfg_ = {{"path", path().string()}, {"chunk_size", 16384}, {"cache_size", 4}};
    }
    fs::path path() const { return dir_.path / "log"; }
    std::unique_ptr<Backend> open(const json& extra = json::object()) {
        json c = cfg_;
        for (auto& [k, v] : extra.items()) c[k] = v;
        return create_backend("log", c);
    }
    kinako::testing::TempDir dir_{"kinako-ylc"};
    json cfg_;
};

// ---------------------------------------------------------------- config

TEST_F(LogCompactionTest, ConfigDefaultsAndValidation) {
    auto db = open();
    json c = db->config();
    EXPECT_EQ(c["compaction"], true);
    EXPECT_EQ(c["compaction_threshold"], 0.5);
    EXPECT_EQ(c["chunk_size"], 16384);  // the existing keys stay
    EXPECT_EQ(c["sync"], false);
    EXPECT_EQ(c["msync_interval"], 0);
    db.reset();
    for (json good : {json(1), json(1.0), json(0.01), json(0.9)}) {
        auto d = open({{"compaction_threshold", good}});
        EXPECT_EQ(d->config()["compaction_threshold"], good);
    }
    EXPECT_EQ(open({{"compaction", false}})->config()["compaction"], false);
    for (json bad : {json(0), json(0.0), json(-0.5), json(1.5), json(2), json("0.5"), json(true), json(nullptr)}) {
        try {
            open({{"compaction_threshold", bad}});
            ADD_FAILURE() << "accepted compaction_threshold " << bad.dump();
        } catch (const Exception& e) {
            EXPECT_EQ(e.code(), Status::InvalidConfig) << e.what();
            EXPECT_NE(std::string(e.what()).find("compaction_threshold"), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find(bad.dump()), std::string::npos) << e.what();
        }
    }
    try {
        open({{"compaction", "yes"}});
        ADD_FAILURE() << "accepted a string compaction";
    } catch (const Exception& e) {
        EXPECT_EQ(e.code(), Status::InvalidConfig);
        EXPECT_NE(std::string(e.what()).find("compaction"), std::string::npos) << e.what();
    }
}

// ---------------------------------------------------------------- on-disk format

// CRC-32C, bit by bit (the log's records carry it).
uint32_t crc32c(const std::string& bytes) {
    uint32_t crc = ~0u;
    for (unsigned char b : bytes) {
        crc ^= b;
        for (int k = 0; k < 8; ++k) crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
    }
    return ~crc;
}

std::string le(uint64_t v, int bytes) {
    std::string s;
    for (int i = 0; i < bytes; ++i) s.push_back(char(v >> (8 * i)));
    return s;
}

// One record as the log lays it out.
std::string record(uint8_t kind, uint64_t coll, uint64_t id, const std::string& payload) {
    std::string h = "KLG1" + std::string(1, char(kind)) + std::string(3, '\0') + le(coll, 8) + le(id, 8) +
                    le(payload.size(), 4);
    std::string r = h + le(crc32c(h + payload), 4) + payload;
    r.append((8 - payload.size() % 8) % 8, '\0');
    return r;
}

// The format (and its checksum, now computed eight bytes at a time) is unchanged: a chunk
// written by hand is read, and records the backend writes check out.
TEST_F(LogCompactionTest, OnDiskFormatIsUnchanged) {
    ASSERT_EQ(crc32c("123456789"), 0xE3069283u);
    fs::create_directories(path());
    std::string chunk = record(1, 0, 0, "c") + record(3, 0, 0, "hello, this document is erased") +
                        record(3, 0, 1, "world: a document long enough to take the eight-byte steps") +
                        record(4, 0, 0, "");
    chunk.resize(16384, '\0');
    write_file(path() / "000000.chunk", chunk);
    auto db = open();
    EXPECT_EQ(all_docs(*db, "c"), (Docs{{1, "world: a document long enough to take the eight-byte steps"}}));
    EXPECT_EQ(last_id(*db, "c"), 2u);
    std::string doc = "written by the backend, 41 bytes long...";
    EXPECT_EQ(store1(*db, "c", doc), 2u);
    db.reset();
    std::string bytes = read_file(path() / "000000.chunk");
    auto ends = record_boundaries(bytes);
    ASSERT_EQ(ends.size(), 6u);
    EXPECT_EQ(bytes.substr(ends[4], ends[5] - ends[4]), record(3, 0, 2, doc));
}

// ---------------------------------------------------------------- bounded directory

// Updates every document `rounds` times; returns the largest directory size seen.
uint64_t churn(Backend& db, const fs::path& dir, Docs& model, int rounds, uint64_t& version) {
    uint64_t peak = 0;
    for (int r = 0; r < rounds; ++r) {
        for (auto& [id, v] : model) {
            v = doc_value(id, ++version);
            EXPECT_EQ(update1(db, "c", id, v), Status::Success);
        }
        peak = std::max(peak, chunk_bytes(dir));
        // Spot checks while chunks come and go.
        for (auto& [id, v] : model)
            if ((id + r) % 9 == 0) EXPECT_EQ(load1(db, "c", id), v) << "round " << r << " doc " << id;
    }
    return peak;
}

TEST_F(LogCompactionTest, UpdatesKeepTheDirectoryBounded) {
    const int kDocs = 100, kRounds = 60;
    uint64_t peak[2] = {0, 0}, final_bytes[2] = {0, 0};
    uint64_t live = 0;
    for (int compaction = 1; compaction >= 0; --compaction) {
        SCOPED_TRACE(compaction ? "compaction on" : "compaction off");
        fs::remove_all(path());
        auto db = open({{"compaction", compaction == 1}});
        ASSERT_EQ(db->coll_create("c"), Status::Success);
        Docs model;
        uint64_t version = 0;
        for (uint64_t i = 0; i < kDocs; ++i) {
            std::string v = doc_value(i, ++version);
            ASSERT_EQ(store1(*db, "c", v), i);
            model[i] = v;
        }
        peak[compaction] = churn(*db, path(), model, kRounds, version);
        final_bytes[compaction] = chunk_bytes(path());
        live = 0;
        for (auto& [id, v] : model) live += 32 + ((v.size() + 7) & ~size_t(7));
        // Everything reads back, in id order, before and after a reopen.
        for (int pass = 0; pass < 2; ++pass) {
            std::vector<uint64_t> order;
            EXPECT_EQ(all_docs(*db, "c", &order), model);
            EXPECT_TRUE(std::is_sorted(order.begin(), order.end()));
            EXPECT_EQ(coll_size(*db, "c"), uint64_t(kDocs));
            EXPECT_EQ(last_id(*db, "c"), uint64_t(kDocs));
            db.reset();
            db = open({{"compaction", compaction == 1}});
        }
        // Ids keep increasing after the reopen.
        EXPECT_EQ(store1(*db, "c", "after reopen"), uint64_t(kDocs));
    }
    // With a threshold of 0.5, every chunk but the last holds at least half live records.
    const uint64_t bound = 2 * live + 3 * 16384;
    std::printf("[ measure  ] %d updates of %d documents (%llu live bytes): directory %llu bytes with "
                "compaction (peak %llu), %llu bytes without\n",
                kDocs * kRounds, kDocs, (unsigned long long)live, (unsigned long long)final_bytes[1],
                (unsigned long long)peak[1], (unsigned long long)final_bytes[0]);
    EXPECT_LE(peak[1], bound) << "live " << live;
    EXPECT_GT(final_bytes[0], 10 * final_bytes[1]);  // and the workload does grow without it
}

TEST_F(LogCompactionTest, ThresholdOneOnlyRemovesFullyDeadChunks) {
    auto db = open({{"compaction_threshold", 1.0}});
    ASSERT_EQ(db->coll_create("c"), Status::Success);
    ASSERT_EQ(db->coll_create("keep"), Status::Success);
    Docs model;
    uint64_t version = 0;
    for (uint64_t i = 0; i < 20; ++i) store_next(*db, "c", model, i, version);
    // One long-lived document per chunk or so keeps those chunks; the rest is rewritten.
    for (int r = 0; r < 40; ++r) {
        if (r % 8 == 0) store1(*db, "keep", doc_value(1000 + r, 0));
        for (auto& [id, v] : model) ASSERT_EQ(update1(*db, "c", id, v = doc_value(id, ++version)), Status::Success);
    }
    EXPECT_LT(chunk_files(path()).size(), highest_chunk(path()) / 2);  // many were removed
    db.reset();
    db = open();
    EXPECT_EQ(all_docs(*db, "c"), model);
    EXPECT_EQ(coll_size(*db, "keep"), 5u);
}

// ---------------------------------------------------------------- tombstones and ids

// Chunk 0 holds long-lived documents next to documents that are later erased and a
// collection's documents; the erases and the drop are written in other chunks that churn then
// compacts. The erase and drop records must be carried forward while chunk 0 exists.
TEST_F(LogCompactionTest, ErasedDocumentsAndDroppedCollectionsStayGone) {
    auto db = open();
    for (auto name : {"keep", "churn", "gone"}) ASSERT_EQ(db->coll_create(name), Status::Success);
    Docs keep, churn_docs;
    uint64_t version = 0;
    std::string big(1900, 'K');
    // Chunk 0: a few documents of "gone", then "keep" documents (some erased later) nearly
    // filling it.
    for (int i = 0; i < 3; ++i) store1(*db, "gone", "gone-" + std::to_string(i));
    for (uint64_t i = 0; i < 8; ++i) keep[store1(*db, "keep", big + std::to_string(i))] = big + std::to_string(i);
    ASSERT_EQ(highest_chunk(path()), 0u) << "the test expects chunk 0 to hold all of that";
    // Then churn documents, the erases and the drop among them, in later chunks.
    for (uint64_t i = 0; i < 16; ++i) store_next(*db, "churn", churn_docs, i, version);
    const std::set<uint64_t> erased = {1, 4, 7};  // 7 is the highest id of "keep"
    ASSERT_EQ(db->doc_erase("keep", IdList(erased.begin(), erased.end())), Status::Success);
    for (auto id : erased) keep.erase(id);
    ASSERT_EQ(db->coll_drop("gone"), Status::Success);
    uint32_t tomb_chunk = highest_chunk(path());
    ASSERT_GT(tomb_chunk, 0u);
    for (uint64_t i = 16; i < 32; ++i) store_next(*db, "churn", churn_docs, i, version);
    // Churn until the chunks holding the erase and drop records were compacted.
    for (int r = 0; r < 30; ++r)
        for (auto& [id, v] : churn_docs) ASSERT_EQ(update1(*db, "churn", id, v = doc_value(id, ++version)), Status::Success);
    auto files = chunk_files(path());
    char name[32];
    std::snprintf(name, sizeof(name), "%06u.chunk", tomb_chunk);
    ASSERT_EQ(files.count(name), 0u) << "the chunk with the erase and drop records was not compacted";
    ASSERT_EQ(files.count("000000.chunk"), 1u) << "chunk 0, still mostly live, should have stayed";
    for (int reopen = 0; reopen < 2; ++reopen) {
        SCOPED_TRACE(reopen ? "after reopen" : "before reopen");
        EXPECT_EQ(all_docs(*db, "keep"), keep);
        for (auto id : erased) EXPECT_EQ(load1(*db, "keep", id), std::nullopt) << id;
        EXPECT_FALSE(coll_exists(*db, "gone"));
        EXPECT_EQ(all_docs(*db, "churn"), churn_docs);
        EXPECT_EQ(last_id(*db, "keep"), 8u);  // the erased highest id is not handed out again
        db.reset();
        db = open();
    }
    EXPECT_EQ(store1(*db, "keep", "new"), 8u);
    // A new collection of the dropped name starts empty.
    ASSERT_EQ(db->coll_create("gone"), Status::Success);
    EXPECT_EQ(coll_size(*db, "gone"), 0u);
    db.reset();
    db = open();
    EXPECT_EQ(coll_size(*db, "gone"), 0u);
    EXPECT_EQ(load1(*db, "keep", 8), "new");
}

// Every record of a collection's highest ids and of the highest collection number is compacted
// away but the ones that carry those counters: after a reopen, no id and no collection number is
// used again (a reused collection number would adopt the dropped collection's leftover records).
TEST_F(LogCompactionTest, CountersSurviveCompactionAndReopen) {
    auto db = open();
    ASSERT_EQ(db->coll_create("keep"), Status::Success);
    ASSERT_EQ(db->coll_create("churn"), Status::Success);
    ASSERT_EQ(db->coll_create("ids"), Status::Success);
    ASSERT_EQ(db->coll_create("victim"), Status::Success);  // the highest collection number
    Docs churn_docs;
    uint64_t version = 0;
    // Chunk 0: the creates, the documents of "ids", churn documents filling it.
    for (uint64_t i = 0; i < 10; ++i) store1(*db, "ids", "id-" + std::to_string(i));
    while (highest_chunk(path()) == 0) store_next(*db, "churn", churn_docs, churn_docs.size(), version);
    // Chunk 1: victim's documents among long-lived ones, so it stays after the drop.
    std::string big(2000, 'L');
    uint64_t kept = 0;
    for (int i = 0; i < 4; ++i) {
        store1(*db, "victim", "victim-" + std::to_string(i));
        store1(*db, "keep", big);
        ++kept;
    }
    while (highest_chunk(path()) == 1) {
        store1(*db, "keep", big);
        ++kept;
    }
    // Chunk 2: the erases of every "ids" document and the drop, among churn documents.
    ASSERT_EQ(db->doc_erase("ids", IdList{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}), Status::Success);
    ASSERT_EQ(db->coll_drop("victim"), Status::Success);
    for (int r = 0; r < 60; ++r)
        for (auto& [id, v] : churn_docs) ASSERT_EQ(update1(*db, "churn", id, v = doc_value(id, ++version)), Status::Success);
    auto files = chunk_files(path());
    EXPECT_FALSE(files.count("000000.chunk")) << "chunk 0 (the creates, the ids) was not compacted";
    EXPECT_TRUE(files.count("000001.chunk")) << "chunk 1 (mostly live) was compacted";
    EXPECT_FALSE(files.count("000002.chunk")) << "chunk 2 (the erases, the drop) was not compacted";
    db.reset();
    db = open();
    EXPECT_EQ(coll_size(*db, "ids"), 0u);
    EXPECT_EQ(last_id(*db, "ids"), 10u);
    EXPECT_EQ(store1(*db, "ids", "eleventh"), 10u);
    EXPECT_FALSE(coll_exists(*db, "victim"));
    ASSERT_EQ(db->coll_create("fresh"), Status::Success);
    db.reset();
    db = open();
    EXPECT_EQ(coll_size(*db, "fresh"), 0u) << "a new collection got the dropped one's number";
    EXPECT_EQ(all_docs(*db, "fresh"), Docs{});
    EXPECT_EQ(all_docs(*db, "churn"), churn_docs);
    EXPECT_EQ(coll_size(*db, "keep"), kept);
    EXPECT_EQ(load1(*db, "ids", 10), "eleventh");
}

// ---------------------------------------------------------------- readers

TEST_F(LogCompactionTest, ReadersDuringCompaction) {
    auto db = open({{"cache_size", 2}});
    ASSERT_EQ(db->coll_create("c"), Status::Success);
    const uint64_t kDocs = 60;
    for (uint64_t i = 0; i < kDocs; ++i) ASSERT_EQ(store1(*db, "c", doc_value(i, 0)), i);
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> reads{0}, bad{0};
    auto well_formed = [](uint64_t id, std::string_view d) {
        std::string prefix = "doc-" + std::to_string(id) + "-v";
        if (d.substr(0, prefix.size()) != prefix) return false;
        auto colon = d.find(':');
        if (colon == std::string_view::npos) return false;
        uint64_t v = std::stoull(std::string(d.substr(prefix.size(), colon - prefix.size())));
        return d == doc_value(id, v);
    };
    std::vector<std::thread> readers;
    for (int t = 0; t < 2; ++t)
        readers.emplace_back([&, t] {
            std::mt19937_64 rng(t);
            while (!stop) {
                if (t == 0) {
                    uint64_t id = rng() % kDocs;
                    db->doc_load(0, "c", {id}, [&](size_t, std::string_view d) {
                        if (!well_formed(id, d)) ++bad;
                    });
                } else {
                    db->doc_list("c", 0, [&](uint64_t id, std::string_view d) {
                        if (!well_formed(id, d)) ++bad;
                        return true;
                    });
                }
                ++reads;
            }
        });
    uint64_t version = 0;
    for (int r = 0; r < 40; ++r)
        for (uint64_t i = 0; i < kDocs; ++i) ASSERT_EQ(update1(*db, "c", i, doc_value(i, ++version)), Status::Success);
    stop = true;
    for (auto& th : readers) th.join();
    EXPECT_EQ(bad.load(), 0u);
    EXPECT_GT(reads.load(), 0u);
    EXPECT_LT(chunk_files(path()).size() * 3, highest_chunk(path()));  // compaction did run
}

// ---------------------------------------------------------------- simulated crashes

// The state the test expects: collection "c" always exists, "t" comes and goes.
struct Model {
    Docs c;
    uint64_t c_next = 0;
    bool t_exists = false;
    Docs t;
    uint64_t t_next = 0;
    bool operator==(const Model& o) const {
        return c == o.c && c_next == o.c_next && t_exists == o.t_exists && t == o.t && t_next == o.t_next;
    }
};

std::string describe(const Model& m) {
    std::string s = "c: " + std::to_string(m.c.size()) + " docs, next " + std::to_string(m.c_next) + " [";
    for (auto& [id, v] : m.c) s += std::to_string(id) + "=" + v.substr(0, v.find(':')) + " ";
    s += "] t: ";
    if (!m.t_exists) return s + "absent";
    s += std::to_string(m.t.size()) + " docs, next " + std::to_string(m.t_next) + " [";
    for (auto& [id, v] : m.t) s += std::to_string(id) + "=" + v.substr(0, v.find(':')) + " ";
    return s + "]";
}

// What the database holds, as a Model.
Model observe(Backend& db) {
    Model m;
    m.c = all_docs(db, "c");
    m.c_next = last_id(db, "c");
    m.t_exists = coll_exists(db, "t");
    if (m.t_exists) {
        m.t = all_docs(db, "t");
        m.t_next = last_id(db, "t");
    }
    return m;
}

// One operation, each a single record in the log.
enum OpKind : uint32_t { kUpdate, kErase, kStore, kRevive, kCreateT, kDropT, kStoreT, kUpdateT };

struct Op {
    uint32_t kind;
    uint32_t pad = 0;
    uint64_t id;
    uint64_t version;
};

// Picks a valid operation for state m (the random mix of the crash tests). Documents with an
// id divisible by 5 are cold: never updated, and the favourite targets of erases. Compaction
// packs them together in chunks that stay, while the erase records land among hot documents
// in chunks that are compacted soon: those erase records must be carried forward.
Op pick(const Model& m, std::mt19937_64& rng, uint64_t version) {
    auto nth_live = [&](const Docs& d) { return std::next(d.begin(), static_cast<long>(rng() % d.size()))->first; };
    auto live_where = [&](const Docs& d, bool cold) {
        uint64_t id = nth_live(d);
        for (int i = 0; i < 12 && (id % 5 == 0) != cold; ++i) id = nth_live(d);
        return id;
    };
    uint64_t r = rng() % 100;
    if (r < 5) return Op{m.t_exists ? kDropT : kCreateT, 0, 0, version};
    if (r < 14 && m.t_exists) {
        if (!m.t.empty() && rng() % 2) return Op{kUpdateT, 0, live_where(m.t, false), version};
        return Op{kStoreT, 0, m.t_next, version};
    }
    if (r < 24 && m.c.size() > 100) return Op{kErase, 0, live_where(m.c, true), version};
    if (r < 28 && m.c.size() < m.c_next) {
        uint64_t id;
        do id = rng() % m.c_next;
        while (m.c.count(id));
        return Op{kRevive, 0, id, version};
    }
    if (r < 36 || m.c.size() < 100) return Op{kStore, 0, m.c_next, version};
    uint64_t id = live_where(m.c, false);
    if (id % 5 == 0) return Op{kStore, 0, m.c_next, version};  // no hot document
    return Op{kUpdate, 0, id, version};
}

Status apply(Backend& db, const Op& op) {
    std::string v = doc_value(op.id, op.version);
    IdList ids;
    switch (op.kind) {
        case kUpdate: return update1(db, "c", op.id, v);
        case kRevive: return update1(db, "c", op.id, v, YOKAN_MODE_UPDATE_NEW);
        case kErase: return db.doc_erase("c", {op.id});
        case kStore: {
            Status s = db.doc_store(0, "c", {std::string_view(v)}, ids);
            return s == Status::Success && ids != IdList{op.id} ? Status::Other : s;
        }
        case kCreateT: return db.coll_create("t");
        case kDropT: return db.coll_drop("t");
        case kStoreT: {
            Status s = db.doc_store(0, "t", {std::string_view(v)}, ids);
            return s == Status::Success && ids != IdList{op.id} ? Status::Other : s;
        }
        case kUpdateT: return update1(db, "t", op.id, v);
    }
    return Status::Other;
}

void apply(Model& m, const Op& op) {
    std::string v = doc_value(op.id, op.version);
    switch (op.kind) {
        case kUpdate:
        case kRevive:
        case kStore:
            m.c[op.id] = v;
            m.c_next = std::max(m.c_next, op.id + 1);
            break;
        case kErase: m.c.erase(op.id); break;
        case kCreateT:
            m.t_exists = true;
            m.t.clear();
            m.t_next = 0;
            break;
        case kDropT:
            m.t_exists = false;
            m.t.clear();
            m.t_next = 0;
            break;
        case kStoreT:
        case kUpdateT:
            m.t[op.id] = v;
            m.t_next = std::max(m.t_next, op.id + 1);
            break;
    }
}

// Brings back a chunk that the last operation's compaction unlinked (the state of a crash
// between the copies and the unlink), sometimes also cutting the copies short (a crash in the
// middle of copying: the operation's own record may be cut too, so it may or may not show).
TEST_F(LogCompactionTest, CrashInTheMiddleOfACompaction) {
    auto db = open();
    ASSERT_EQ(db->coll_create("c"), Status::Success);
    Model m;
    uint64_t version = 0;
    for (uint64_t i = 0; i < 40; ++i) {
        Op op{kStore, 0, i, ++version};
        ASSERT_EQ(apply(*db, op), Status::Success);
        apply(m, op);
    }
    std::mt19937_64 rng(12345);
    int restored = 0, cut = 0;
    for (int step = 0; step < 3000 && restored < 25; ++step) {
        // Sealed chunk files do not change: remember them all before the operation.
        std::map<std::string, std::string> before;
        for (auto& [name, p] : chunk_files(path())) before[name] = read_file(p);
        std::string last_before = before.rbegin()->first;
        Op op = pick(m, rng, ++version);
        ASSERT_EQ(apply(*db, op), Status::Success) << "step " << step;
        Model prev = m;
        apply(m, op);
        auto after = chunk_files(path());
        std::vector<std::string> gone;
        for (auto& [name, bytes] : before)
            if (!after.count(name)) gone.push_back(name);
        if (gone.size() != 1) continue;
        db.reset();
        write_file(path() / gone[0], before[gone[0]]);
        bool cut_here = after.rbegin()->first == last_before && rng() % 2;
        bool cut_op = false;
        if (cut_here) {
            // The copies were appended after the operation's record, in the same chunk: cut
            // at a record boundary after what was there before the operation.
            fs::path tail = path() / last_before;
            std::string now = read_file(tail);
            auto old_ends = record_boundaries(before[last_before]);
            auto ends = record_boundaries(now);
            std::vector<uint64_t> choices;
            for (auto e : ends)
                if (e >= old_ends.back()) choices.push_back(e);
            uint64_t at = choices[rng() % choices.size()];
            cut_op = at == old_ends.back();  // the operation's own record is the first after those
            std::fill(now.begin() + static_cast<long>(at), now.end(), '\0');
            write_file(tail, now);
            ++cut;
        }
        ++restored;
        db = open();
        Model seen = observe(*db);
        if (cut_op) m = prev;  // the cut took the operation's own record (never acknowledged)
        {
            ASSERT_EQ(seen, m) << "step " << step << " after restoring " << gone[0]
                               << (cut_here ? " and cutting the copies" : "") << "\nexpected " << describe(m)
                               << "\nfound    " << describe(seen);
        }
    }
    std::printf("[ measure  ] %d states of a crash between the copies and the unlink, %d with the copies cut\n",
                restored, cut);
    EXPECT_GE(restored, 10) << "compaction removed too few chunks one at a time";
    EXPECT_GE(cut, 3);
    db.reset();
    db = open();
    EXPECT_EQ(observe(*db), m);
}

// ---------------------------------------------------------------- kill -9
//
// The parent re-executes this binary with KINAKO_YLC_* in the environment; the child (see
// CrashChild below, which runs before main) opens the log and runs random operations on it
// forever, writing to a pipe the operation it is about to run, then its acknowledgment. The
// parent kills it with SIGKILL at a random time and reopens the log: every acknowledged
// operation must show, and the one in flight either shows or does not. Several rounds run on
// the same directory, with sync on and off.

struct Msg {
    uint32_t ack;  // 0: about to run op; 1: op returned Success
    uint32_t pad = 0;
    Op op;
};

int run_crash_child(const char* path, bool sync, uint64_t seed, int fd) {
    try {
        json cfg = {{"path", path}, {"chunk_size", 16384}, {"cache_size", 4}, {"sync", sync}};
        auto db = create_backend("log", cfg);
        Model m = observe(*db);
        std::mt19937_64 rng(seed);
        uint64_t version = seed << 24;
        for (;;) {
            Msg msg{0, 0, pick(m, rng, ++version)};
            if (write(fd, &msg, sizeof(msg)) != sizeof(msg)) return 5;
            if (apply(*db, msg.op) != Status::Success) return 4;
            apply(m, msg.op);
            msg.ack = 1;
            if (write(fd, &msg, sizeof(msg)) != sizeof(msg)) return 5;
        }
    } catch (const std::exception& e) {
        fprintf(stderr, "crash child: %s\n", e.what());
        return 2;
    }
}

struct CrashChild {
    CrashChild() {
        const char* path = getenv("KINAKO_YLC_PATH");
        const char* sync = getenv("KINAKO_YLC_SYNC");
        const char* seed = getenv("KINAKO_YLC_SEED");
        const char* fd = getenv("KINAKO_YLC_FD");
        if (path && sync && seed && fd) _exit(run_crash_child(path, atoi(sync) != 0, strtoull(seed, nullptr, 10), atoi(fd)));
    }
} crash_child;

TEST_F(LogCompactionTest, Kill9DuringCompactionLosesNothingAcknowledged) {
    {
        auto db = open();
        ASSERT_EQ(db->coll_create("c"), Status::Success);
    }
    Model m;
    m.c_next = 0;
    std::mt19937_64 rng(std::random_device{}());
    const int kRounds = 10;
    uint64_t total_acked = 0;
    for (int round = 0; round < kRounds; ++round) {
        bool sync = round % 3 == 2;
        SCOPED_TRACE("round " + std::to_string(round) + (sync ? " (sync)" : ""));
        int fds[2];
        ASSERT_EQ(pipe(fds), 0);
        pid_t pid = kinako::testing::spawn_self("KINAKO_YLC_",
                                                {"KINAKO_YLC_PATH=" + path().string(),
                                                 std::string("KINAKO_YLC_SYNC=") + (sync ? "1" : "0"),
                                                 "KINAKO_YLC_SEED=" + std::to_string(round + 1),
                                                 "KINAKO_YLC_FD=" + std::to_string(fds[1])},
                                                fds[0]);
        ASSERT_GE(pid, 0);
        close(fds[1]);
        std::optional<Op> in_flight;
        uint64_t acked = 0;
        auto read_msg = [&]() {
            Msg msg;
            if (read(fds[0], &msg, sizeof(msg)) != sizeof(msg)) return false;
            if (msg.ack) {
                EXPECT_TRUE(in_flight && std::memcmp(&*in_flight, &msg.op, sizeof(Op)) == 0);
                apply(m, msg.op);
                in_flight.reset();
                ++acked;
            } else {
                EXPECT_FALSE(in_flight);
                in_flight = msg.op;
            }
            return true;
        };
        // Kill at a random point: after some acknowledged operations, then a random delay.
        const uint64_t kill_after = 100 + rng() % (sync ? 150 : 1500);
        while (acked < kill_after && read_msg()) {
        }
        std::this_thread::sleep_for(std::chrono::microseconds(rng() % 3000));
        kill(pid, SIGKILL);
        int status = 0;
        waitpid(pid, &status, 0);
        while (read_msg()) {  // what was already in the pipe
        }
        close(fds[0]);
        ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status) << " after " << acked << " operations";
        ASSERT_GE(acked, kill_after);
        total_acked += acked;

        auto db = open();
        Model seen = observe(*db);
        if (seen == m) continue;
        ASSERT_TRUE(in_flight) << "expected " << describe(m) << "\nfound    " << describe(seen);
        Model with = m;
        apply(with, *in_flight);
        ASSERT_EQ(seen, with) << "neither before nor after the operation in flight (kind " << in_flight->kind
                              << ", id " << in_flight->id << ")\nbefore " << describe(m) << "\nafter  "
                              << describe(with) << "\nfound  " << describe(seen);
        m = with;
    }
    // The directory stayed small although the rounds wrote far more.
    auto files = chunk_files(path());
    std::printf("[ measure  ] %llu acknowledged operations over %d kills: %zu chunk files left, highest number %u\n",
                (unsigned long long)total_acked, kRounds, files.size(), highest_chunk(path()));
    EXPECT_LT(files.size() * 2, highest_chunk(path()));
}

}  // namespace
