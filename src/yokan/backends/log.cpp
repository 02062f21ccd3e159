// The "log" backend: persistent collections of documents in an append-only log.
// Documents only: every key/value call answers OpUnsupported.
//
// On disk, `path` is a directory holding LOCK (flock'ed while open) and chunk files
// 000000.chunk, 000001.chunk, ... (six digits or more) of chunk_size bytes each (larger when one
// record needs it), created zero-filled. A chunk is a sequence of 8-byte aligned records:
//
//   u32 magic "KLG1" | u8 kind | u8[3] zero | u64 collection number | u64 document id
//   | u32 payload size | u32 CRC-32C of the 28 bytes before it and of the payload
//   | payload (collection name or document), zero-padded to a multiple of 8
//
// kinds: 1 create collection (payload = name), 2 drop collection, 3 put document (store or
// update), 4 erase document. A collection number or document id that made it into the log is
// never handed out again (compaction keeps the records that carry the counters, see below).
//
// Open replays the chunks in number order in two passes: the first verifies every record and
// collects the create and drop records (a collection number is live when it has a create
// record and no drop record, wherever they are in the log); the second applies the put and
// erase records of the live collections in log order into an in-memory index (name ->
// collection -> id -> location). A record whose magic, size or checksum is wrong ends its
// chunk: that is the torn tail of a crash; the tail of the last chunk is zeroed from there on
// so it can never be mistaken for data later.
// Reads map chunks (at most cache_size at a time) and visit documents in place; writes are
// pwritev at the tail (the last chunk), so a write that returned is in the page cache and
// survives the death of the process; "sync": true also fdatasyncs it before returning
// (survives a power loss), and "msync_interval" (ms, 0 = off) syncs when the last sync is
// older than that.
//
// Compaction ("compaction": true, "compaction_threshold": 0.5). Each chunk counts its dead
// bytes: records the replay no longer needs. A put is dead once a later put or erase of its
// document exists, or its collection is dropped. An erase (tombstone) is needed
// only while a put of its document is still on disk before it: each document counts its put
// records on disk, an erased one keeps that count with its tombstone, and the tombstone dies
// when the count reaches zero (or the document is stored again). A drop is needed while a create
// record of its collection is on disk. A create dies with its collection. Exceptions keep the
// id counters: the erase of a collection's highest id, and the drop of the highest collection
// number, stay live while they are the highest, so a reopen never hands out an id again.
// When dead bytes reach compaction_threshold of the records of a chunk other than the last,
// the chunk is compacted: its live records are copied, checksum and all, to the tail through
// the ordinary append path (after everything else, so a copy replays as newer than what it
// supersedes and older than what is written after it), the index moves to the copies, the copies are fdatasynced when sync or
// msync_interval asks for durability, then the chunk file is unlinked (and the directory
// fsynced, same condition). A kill -9 at any point leaves either the old chunk and some or all
// copies (replay sees a record twice; the later copy wins and is identical) or only the
// copies. Tombstones never disappear early: a tombstone is copied forward while the puts it
// shadows are still on disk, and the count that frees it drops only after the chunk holding
// such a put is unlinked. See compact() for why this runs inline on the writer.
// Compaction leaves gaps in the chunk numbers, so a chunk file deleted by hand goes unnoticed
// at open. Logs written before compaction existed are read as they are.
#include <mochi/yokan/backend.hpp>
#include <mochi/yokan/config_check.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace mochi::yokan::backends {

namespace {

namespace fs = std::filesystem;

const char* const kType = "log";

// ---- CRC-32C (Castagnoli), reflected, table driven, eight bytes per step ("slicing by 8")
struct Crc32c {
    std::array<std::array<uint32_t, 256>, 8> table{};
    Crc32c() {
        for (uint32_t i = 0; i < 256; ++i) {
            uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
            table[0][i] = c;
        }
        for (int t = 1; t < 8; ++t)
            for (uint32_t i = 0; i < 256; ++i) table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
    }
    static uint32_t le32(const unsigned char* p) {
        return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
    }
    uint32_t extend(uint32_t crc, const void* data, size_t n) const {
        auto p = static_cast<const unsigned char*>(data);
        crc = ~crc;
        for (; n >= 8; n -= 8, p += 8) {
            uint32_t lo = crc ^ le32(p), hi = le32(p + 4);
            crc = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^ table[5][(lo >> 16) & 0xff] ^ table[4][lo >> 24] ^
                  table[3][hi & 0xff] ^ table[2][(hi >> 8) & 0xff] ^ table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
        }
        for (; n > 0; --n, ++p) crc = table[0][(crc ^ *p) & 0xff] ^ (crc >> 8);
        return ~crc;
    }
};
const Crc32c& crc32c() {
    static const Crc32c c;
    return c;
}

// ---- record layout
constexpr uint32_t kMagic = 0x31474c4b;  // "KLG1" read as little-endian
constexpr size_t kHeader = 32;
constexpr size_t kCrcOffset = 28;
enum Kind : uint8_t { kCreate = 1, kDrop = 2, kPut = 3, kErase = 4 };

uint64_t padded(uint64_t n) { return (n + 7) & ~uint64_t(7); }
// Bytes a record with a payload of n bytes takes in its chunk.
uint64_t record_bytes(uint64_t n) { return kHeader + padded(n); }

void put_le(unsigned char* p, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
uint64_t get_le(const unsigned char* p, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= uint64_t(p[i]) << (8 * i);
    return v;
}

struct Header {
    Kind kind;
    uint64_t coll;
    uint64_t id;
    uint32_t size;
};

void encode(const Header& h, std::string_view payload, unsigned char out[kHeader]) {
    std::memset(out, 0, kHeader);
    put_le(out, kMagic, 4);
    out[4] = h.kind;
    put_le(out + 8, h.coll, 8);
    put_le(out + 16, h.id, 8);
    put_le(out + 24, h.size, 4);
    uint32_t crc = crc32c().extend(0, out, kCrcOffset);
    crc = crc32c().extend(crc, payload.data(), payload.size());
    put_le(out + kCrcOffset, crc, 4);
}

// Decodes the record at data[0..avail); false when it is not a whole, intact record.
// check_crc = false only for records already verified (a chunk's records below its end).
bool decode(const unsigned char* data, uint64_t avail, Header& h, std::string_view& payload, bool check_crc = true) {
    if (avail < kHeader || get_le(data, 4) != kMagic) return false;
    h.kind = static_cast<Kind>(data[4]);
    if (h.kind < kCreate || h.kind > kErase) return false;
    h.coll = get_le(data + 8, 8);
    h.id = get_le(data + 16, 8);
    h.size = static_cast<uint32_t>(get_le(data + 24, 4));
    if (kHeader + padded(h.size) > avail) return false;
    if (check_crc) {
        uint32_t crc = crc32c().extend(0, data, kCrcOffset);
        crc = crc32c().extend(crc, data + kHeader, h.size);
        if (crc != get_le(data + kCrcOffset, 4)) return false;
    }
    payload = std::string_view(reinterpret_cast<const char*>(data + kHeader), h.size);
    return true;
}

Status from_errno(int e) {
    switch (e) {
        case ENOMEM: return Status::Allocation;
        case EACCES:
        case EPERM: return Status::Permission;
        default: return Status::IO;
    }
}

// A read-only view of a whole chunk file, unmapped when the last user lets go.
struct Mapping {
    const unsigned char* data = nullptr;
    size_t size = 0;
    ~Mapping() {
        if (data) munmap(const_cast<unsigned char*>(data), size);
    }
};

struct Chunk {
    int fd = -1;
    uint64_t size = 0;               // file size (fixed when the chunk is created)
    uint64_t end = 0;                // bytes of intact records (the last chunk's is tail_)
    uint64_t dead = 0;               // bytes of those records the replay no longer needs
    bool queued = false;             // waiting in pending_, or being compacted
    std::shared_ptr<Mapping> map;    // cached mapping, or null
    uint64_t last_use = 0;           // for LRU eviction of mappings
};

struct Loc {
    uint64_t offset;  // of the payload
    uint32_t chunk;
    uint32_t size;
};

// A live document: its latest put, and how many put records of it are on disk (that one
// included); its tombstone inherits the count when it is erased.
struct Doc : Loc {
    uint64_t puts = 1;
};

// Where a record (its header) is.
struct Pos {
    uint32_t chunk = 0;
    uint64_t offset = 0;
    bool operator==(const Pos& o) const { return chunk == o.chunk && offset == o.offset; }
};

Pos pos_of(const Loc& payload) { return Pos{payload.chunk, payload.offset - kHeader}; }

// An erased document whose latest erase record is still needed.
struct Tomb {
    Pos at;         // the erase record
    uint64_t puts;  // put records of the document still on disk (all of them before `at`)
};

struct Coll {
    uint64_t number = 0;            // the collection's number in the records
    uint64_t next_id = 0;
    std::map<uint64_t, Doc> docs;   // live documents
    std::unordered_map<uint64_t, Tomb> tombs;  // erased documents whose erase record is needed
    Pos create;                     // its latest create record
    uint64_t creates = 0;           // create records of this number on disk
    uint32_t name_size = 0;
};

// A dropped collection whose drop record is still needed.
struct Dropped {
    Pos at;
    uint64_t creates;  // create records of this number still on disk
};

class LogBackend : public Backend {
  public:
    static std::unique_ptr<Backend> create(const nlohmann::json& given) {
        auto cfg = config::object_or_empty(kType, given);
        std::string path = config::require_string(kType, cfg, "path");
        int64_t chunk_size = config::get_int(kType, cfg, "chunk_size", 10 << 20);
        if (chunk_size < 4096) config::fail(kType, "chunk_size", "an integer >= 4096", cfg["chunk_size"]);
        int64_t cache_size = config::get_int(kType, cfg, "cache_size", 16);
        if (cache_size < 1) config::fail(kType, "cache_size", "a positive integer", cfg["cache_size"]);
        bool create = config::get_bool(kType, cfg, "create_if_missing", true);
        bool error_if_exists = config::get_bool(kType, cfg, "error_if_exists", false);
        config::get_bool(kType, cfg, "use_lock", false);  // accepted; the log always locks (see below)
        int64_t msync_interval = config::get_int(kType, cfg, "msync_interval", 0);
        if (msync_interval < 0) config::fail(kType, "msync_interval", "a non-negative integer (ms)", cfg["msync_interval"]);
        bool sync = config::get_bool(kType, cfg, "sync", false);
        bool compaction = config::get_bool(kType, cfg, "compaction", true);
        double threshold = config::get_number(kType, cfg, "compaction_threshold", 0.5);
        if (!(threshold > 0.0 && threshold <= 1.0))
            config::fail(kType, "compaction_threshold", "a number in (0, 1]", cfg["compaction_threshold"]);

        std::error_code ec;
        bool present = fs::is_directory(path, ec);
        if (!present && fs::exists(path, ec))
            throw Exception(Status::InvalidConfig, std::string(kType) + ": \"" + path + "\" is not a directory");
        if (present && error_if_exists && !list_chunks(path).empty())
            throw Exception(Status::InvalidConfig, std::string(kType) + ": \"" + path + "\" already exists");
        if (!present) {
            if (!create)
                throw Exception(Status::InvalidConfig,
                                std::string(kType) + ": \"" + path + "\" does not exist (create_if_missing is false)");
            fs::create_directories(path, ec);
            if (ec)
                throw Exception(Status::IO, std::string(kType) + ": cannot create \"" + path + "\": " + ec.message());
        }
        std::unique_ptr<LogBackend> b(new LogBackend(std::move(cfg), path));
        b->chunk_size_ = static_cast<uint64_t>(chunk_size);
        b->cache_size_ = static_cast<size_t>(cache_size);
        b->msync_interval_ = std::chrono::milliseconds(msync_interval);
        b->sync_ = sync;
        b->durable_ = sync || msync_interval > 0;
        b->compaction_ = compaction;
        b->threshold_ = threshold;
        b->open();
        return b;
    }

    ~LogBackend() override { close(); }

    std::string type() const override { return kType; }
    nlohmann::json config() const override { return cfg_; }
    bool is_sorted() const override { return true; }  // documents are listed in id order
    bool supports_kv() const override { return false; }

    void destroy() override {
        std::unique_lock<std::shared_mutex> lock(mutex_);
        auto names = list_chunks(path_);
        close();
        std::error_code ec;
        for (auto& [n, p] : names) fs::remove(p, ec);
        fs::remove(fs::path(path_) / "LOCK", ec);
        fs::remove(path_, ec);  // the directory, when nothing else is in it
    }

    Status count(uint64_t&) override { return Status::OpUnsupported; }
    Status exists(KeySpan, std::vector<uint8_t>&) override { return Status::OpUnsupported; }
    Status length(KeySpan, std::vector<uint64_t>&) override { return Status::OpUnsupported; }
    Status put(int32_t, KeySpan, KeySpan) override { return Status::OpUnsupported; }
    Status get(int32_t, KeySpan, const GetVisitor&) override { return Status::OpUnsupported; }
    Status erase(KeySpan) override { return Status::OpUnsupported; }
    Status list(std::string_view, bool, std::string_view, bool, const ListVisitor&) override {
        return Status::OpUnsupported;
    }

    // ---- collections

    Status coll_create(std::string_view name) override {
        if (name.empty() || name.size() > UINT32_MAX) return Status::InvalidArgs;
        std::unique_lock<std::shared_mutex> lock(mutex_);
        if (!open_) return Status::InvalidDatabase;
        if (colls_.count(name)) return Status::KeyExists;
        uint64_t number = next_coll_;
        Loc loc;
        Status st = append({kCreate, number, 0, static_cast<uint32_t>(name.size())}, name, loc);
        if (st == Status::Success) release_coll_pin();  // the new record now holds the highest number
        next_coll_ = number + 1;
        if (st == Status::Success) st = flush();
        if (st != Status::Success) return st;
        Coll c;
        c.number = number;
        c.create = pos_of(loc);
        c.creates = 1;
        c.name_size = static_cast<uint32_t>(name.size());
        auto it = colls_.emplace(std::string(name), std::move(c)).first;
        by_number_[number] = &it->second;
        finish_op();
        return Status::Success;
    }

    Status coll_drop(std::string_view name) override {
        std::unique_lock<std::shared_mutex> lock(mutex_);
        if (!open_) return Status::InvalidDatabase;
        auto it = colls_.find(name);
        if (it == colls_.end()) return Status::NotFound;
        Loc loc;
        Status st = append({kDrop, it->second.number, 0, 0}, {}, loc);
        if (st == Status::Success) st = flush();
        if (st != Status::Success) return st;
        // Everything of the collection is dead now but the drop record, which is needed while
        // a create record of the collection is on disk.
        Coll& c = it->second;
        for (auto& [id, d] : c.docs) mark_dead(d.chunk, record_bytes(d.size));
        for (auto& [id, t] : c.tombs) mark_dead(t.at.chunk, kHeader);
        mark_dead(c.create.chunk, record_bytes(c.name_size));
        settle_dropped(dropped_.emplace(c.number, Dropped{pos_of(loc), c.creates}).first);
        by_number_.erase(c.number);
        colls_.erase(it);
        finish_op();
        return Status::Success;
    }

    Status coll_names(std::vector<std::string>& names) override {
        std::shared_lock<std::shared_mutex> lock(mutex_);
        if (!open_) return Status::InvalidDatabase;
        for (auto& [name, c] : colls_) names.push_back(name);
        return Status::Success;
    }

    Status coll_exists(std::string_view name, bool& exists) override {
        std::shared_lock<std::shared_mutex> lock(mutex_);
        if (!open_) return Status::InvalidDatabase;
        exists = colls_.count(name) != 0;
        return Status::Success;
    }

    Status coll_last_id(std::string_view name, uint64_t& id) override {
        std::shared_lock<std::shared_mutex> lock(mutex_);
        const Coll* c = find(name);
        if (!c) return open_ ? Status::NotFound : Status::InvalidDatabase;
        id = c->next_id;
        return Status::Success;
    }

    Status coll_size(std::string_view name, uint64_t& size) override {
        std::shared_lock<std::shared_mutex> lock(mutex_);
        const Coll* c = find(name);
        if (!c) return open_ ? Status::NotFound : Status::InvalidDatabase;
        size = c->docs.size();
        return Status::Success;
    }

    // ---- documents

    Status doc_store(int32_t, std::string_view coll, KeySpan docs, IdList& ids) override {
        for (auto d : docs)
            if (d.size() > UINT32_MAX) return Status::SizeError;
        std::unique_lock<std::shared_mutex> lock(mutex_);
        Coll* c = find(coll);
        if (!c) return open_ ? Status::NotFound : Status::InvalidDatabase;
        ids.clear();
        ids.reserve(docs.size());
        for (auto d : docs) {
            uint64_t id = c->next_id;
            Loc loc;
            Status st = append({kPut, c->number, id, static_cast<uint32_t>(d.size())}, d, loc);
            if (st != Status::Success) return st;
            note_put(*c, id, loc);
            ids.push_back(id);
        }
        return finish_op(flush());
    }

    Status doc_update(int32_t mode, std::string_view coll, const IdList& ids, KeySpan docs) override {
        if (ids.size() != docs.size()) return Status::InvalidArgs;
        for (auto d : docs)
            if (d.size() > UINT32_MAX) return Status::SizeError;
        std::unique_lock<std::shared_mutex> lock(mutex_);
        Coll* c = find(coll);
        if (!c) return open_ ? Status::NotFound : Status::InvalidDatabase;
        if (!(mode & YOKAN_MODE_UPDATE_NEW)) {
            for (auto id : ids)  // all or nothing
                if (!c->docs.count(id)) return Status::InvalidId;
        }
        for (size_t i = 0; i < ids.size(); ++i) {
            Loc loc;
            Status st = append({kPut, c->number, ids[i], static_cast<uint32_t>(docs[i].size())}, docs[i], loc);
            if (st != Status::Success) return st;
            note_put(*c, ids[i], loc);
        }
        return finish_op(flush());
    }

    Status doc_load(int32_t mode, std::string_view coll, const IdList& ids, const GetVisitor& visit) override {
        if (mode & YOKAN_MODE_CONSUME) {
            std::unique_lock<std::shared_mutex> lock(mutex_);
            Coll* c = find(coll);
            if (!c) return open_ ? Status::NotFound : Status::InvalidDatabase;
            for (size_t i = 0; i < ids.size(); ++i) {
                auto it = c->docs.find(ids[i]);
                if (it == c->docs.end()) continue;
                Status st = visit_doc(it->second, [&](std::string_view d) { visit(i, d); });
                if (st != Status::Success) return st;
                Loc loc;
                st = append({kErase, c->number, ids[i], 0}, {}, loc);
                if (st != Status::Success) return st;
                note_erase(*c, ids[i], pos_of(loc));
            }
            return finish_op(flush());
        }
        std::shared_lock<std::shared_mutex> lock(mutex_);
        const Coll* c = find(coll);
        if (!c) return open_ ? Status::NotFound : Status::InvalidDatabase;
        for (size_t i = 0; i < ids.size(); ++i) {
            auto it = c->docs.find(ids[i]);
            if (it == c->docs.end()) continue;
            Status st = visit_doc(it->second, [&](std::string_view d) { visit(i, d); });
            if (st != Status::Success) return st;
        }
        return Status::Success;
    }

    Status doc_length(std::string_view coll, const IdList& ids, std::vector<uint64_t>& sizes) override {
        std::shared_lock<std::shared_mutex> lock(mutex_);
        const Coll* c = find(coll);
        if (!c) return open_ ? Status::NotFound : Status::InvalidDatabase;
        sizes.resize(ids.size());
        for (size_t i = 0; i < ids.size(); ++i) {
            auto it = c->docs.find(ids[i]);
            sizes[i] = it == c->docs.end() ? YOKAN_KEY_NOT_FOUND : it->second.size;
        }
        return Status::Success;
    }

    Status doc_erase(std::string_view coll, const IdList& ids) override {
        std::unique_lock<std::shared_mutex> lock(mutex_);
        Coll* c = find(coll);
        if (!c) return open_ ? Status::NotFound : Status::InvalidDatabase;
        for (auto id : ids) {
            if (!c->docs.count(id)) continue;
            Loc loc;
            Status st = append({kErase, c->number, id, 0}, {}, loc);
            if (st != Status::Success) return st;
            note_erase(*c, id, pos_of(loc));
        }
        return finish_op(flush());
    }

    Status doc_list(std::string_view coll, uint64_t start_id, const DocVisitor& visit) override {
        std::shared_lock<std::shared_mutex> lock(mutex_);
        const Coll* c = find(coll);
        if (!c) return open_ ? Status::NotFound : Status::InvalidDatabase;
        for (auto it = c->docs.lower_bound(start_id); it != c->docs.end(); ++it) {
            bool more = true;
            Status st = visit_doc(it->second, [&](std::string_view d) { more = visit(it->first, d); });
            if (st != Status::Success) return st;
            if (!more) break;
        }
        return Status::Success;
    }

  private:
    LogBackend(nlohmann::json cfg, std::string path) : cfg_(std::move(cfg)), path_(std::move(path)) {}

    // Chunk files of a directory, by number: six digits or more, then ".chunk".
    static std::map<uint32_t, fs::path> list_chunks(const std::string& dir) {
        std::map<uint32_t, fs::path> out;
        std::error_code ec;
        for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
            auto name = it->path().filename().string();
            if (name.size() < 12 || name.size() > 16 || name.compare(name.size() - 6, 6, ".chunk") != 0) continue;
            size_t digits = name.size() - 6;
            if (name.find_first_not_of("0123456789") != digits) continue;
            uint64_t n = std::stoull(name.substr(0, digits));
            if (n > UINT32_MAX) continue;
            out[static_cast<uint32_t>(n)] = it->path();
        }
        return out;
    }

    fs::path chunk_path(uint32_t n) const {
        char name[32];
        std::snprintf(name, sizeof(name), "%06u.chunk", n);
        return fs::path(path_) / name;
    }

    [[noreturn]] void fail_open(Status code, const std::string& what) {
        close();
        throw Exception(code, std::string(kType) + ": " + what);
    }

    Chunk& active() { return chunks_.rbegin()->second; }

    // Locks the directory, then replays every chunk into the index.
    void open() {
        std::string lock_path = (fs::path(path_) / "LOCK").string();
        lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (lock_fd_ < 0) fail_open(from_errno(errno), "cannot open " + lock_path + ": " + std::strerror(errno));
        if (flock(lock_fd_, LOCK_EX | LOCK_NB) != 0)
            fail_open(Status::Busy, "\"" + path_ + "\" is in use by another open log");

        // Compaction removes chunks, so the numbers need not be contiguous; the last one
        // (highest number) is the one appended to.
        for (auto& [n, p] : list_chunks(path_)) {
            Chunk ch;
            ch.fd = ::open(p.c_str(), O_RDWR | O_CLOEXEC);
            if (ch.fd < 0) fail_open(from_errno(errno), "cannot open " + p.string() + ": " + std::strerror(errno));
            struct stat st;
            fstat(ch.fd, &st);
            ch.size = static_cast<uint64_t>(st.st_size);
            chunks_.emplace(n, std::move(ch));
            active_ = n;
            next_chunk_ = n + 1;
        }
        replay();
        if (chunks_.empty()) {
            Status st = new_chunk(chunk_size_);
            if (st != Status::Success) fail_open(st, "cannot create the first chunk");
        }
        open_ = true;
    }

    // The two passes described at the top of this file, and the liveness accounting.
    void replay() {
        struct Seen {
            std::vector<Pos> creates;
            std::vector<uint32_t> name_sizes;
            std::string name;  // of the latest create record
            std::vector<Pos> drops;
        };
        std::map<uint64_t, Seen> seen;  // by collection number
        // Pass 1: find where each chunk's intact records end; collect creates and drops.
        for (auto& [n, ch] : chunks_) {
            uint64_t end = 0;
            {
                std::shared_ptr<Mapping> m;
                Status st = map_chunk(n, m);
                if (st != Status::Success) fail_open(st, "cannot map " + chunk_path(n).string() + ": " + std::strerror(errno));
                Header h;
                std::string_view payload;
                while (m && decode(m->data + end, m->size - end, h, payload)) {
                    if (h.coll >= next_coll_) next_coll_ = h.coll + 1;
                    if (h.kind == kCreate) {
                        Seen& s = seen[h.coll];
                        s.creates.push_back(Pos{n, end});
                        s.name_sizes.push_back(h.size);
                        s.name.assign(payload);
                    } else if (h.kind == kDrop) {
                        seen[h.coll].drops.push_back(Pos{n, end});
                    }
                    end += record_bytes(h.size);
                }
            }
            ch.end = end;
            if (n == active_) {
                tail_ = end;
                // Zero whatever follows the last intact record (a torn write), and give a
                // chunk that was being created when the process died its full size.
                uint64_t size = std::max<uint64_t>(ch.size, chunk_size_);
                if (end < ch.size || ch.size < size) {
                    unmap(n);
                    if (ftruncate(ch.fd, static_cast<off_t>(end)) != 0 ||
                        ftruncate(ch.fd, static_cast<off_t>(size)) != 0 || fdatasync(ch.fd) != 0)
                        fail_open(from_errno(errno), std::string("cannot repair the last chunk: ") + std::strerror(errno));
                    ch.size = size;
                }
            }
        }
        // The collections: live when created and never dropped.
        for (auto& [number, s] : seen) {
            if (!s.drops.empty()) {
                for (size_t i = 0; i < s.creates.size(); ++i) mark_dead(s.creates[i].chunk, record_bytes(s.name_sizes[i]));
                for (size_t i = 0; i + 1 < s.drops.size(); ++i) mark_dead(s.drops[i].chunk, kHeader);
                settle_dropped(dropped_.emplace(number, Dropped{s.drops.back(), s.creates.size()}).first);
                continue;
            }
            if (s.creates.empty()) continue;  // its create and drop records were compacted away
            for (size_t i = 0; i + 1 < s.creates.size(); ++i) mark_dead(s.creates[i].chunk, record_bytes(s.name_sizes[i]));
            auto old = colls_.find(s.name);
            if (old != colls_.end()) {
                // Two live numbers for one name: a drop record was lost with a damaged chunk.
                // The later collection wins (numbers grow); the records of the other are ignored.
                mark_dead(old->second.create.chunk, record_bytes(old->second.name_size));
                by_number_.erase(old->second.number);
                colls_.erase(old);
            }
            Coll c;
            c.number = number;
            c.create = s.creates.back();
            c.creates = s.creates.size();
            c.name_size = s.name_sizes.back();
            auto it = colls_.emplace(s.name, std::move(c)).first;
            by_number_[number] = &it->second;
        }
        seen.clear();
        // Pass 2: the puts and erases of the live collections, in log order.
        for (auto& [n, ch] : chunks_) {
            std::shared_ptr<Mapping> m;
            Status st = map_chunk(n, m);
            if (st != Status::Success) fail_open(st, "cannot map " + chunk_path(n).string() + ": " + std::strerror(errno));
            uint64_t off = 0;
            Header h;
            std::string_view payload;
            while (m && off < ch.end && decode(m->data + off, ch.end - off, h, payload, false)) {
                uint64_t bytes = record_bytes(h.size);
                if (h.kind == kPut || h.kind == kErase) {
                    Coll* c = by_number(h.coll);
                    if (!c) mark_dead(n, bytes);
                    else if (h.kind == kPut) note_put(*c, h.id, Loc{off + kHeader, n, h.size});
                    else note_erase(*c, h.id, Pos{n, off});
                }
                off += bytes;
            }
        }
        // Erase records with no put left before them are needed only for the highest id.
        for (auto& [name, c] : colls_)
            for (auto it = c.tombs.begin(); it != c.tombs.end();) {
                if (it->second.puts == 0 && it->first + 1 != c.next_id) {
                    mark_dead(it->second.at.chunk, kHeader);
                    it = c.tombs.erase(it);
                } else {
                    ++it;
                }
            }
        for (auto& [n, ch] : chunks_) consider(n, ch);  // e.g. an empty chunk left by a crash
    }

    // ---- liveness accounting

    Coll* by_number(uint64_t number) {
        auto it = by_number_.find(number);
        return it == by_number_.end() ? nullptr : it->second;
    }

    // Queues chunk n for compaction when its dead bytes reach the threshold (never the last chunk).
    void consider(uint32_t n, Chunk& ch) {
        if (!compaction_ || ch.queued || n == active_) return;
        if (static_cast<double>(ch.dead) >= threshold_ * static_cast<double>(ch.end)) {
            ch.queued = true;
            pending_.insert(n);
        }
    }

    // `bytes` of records in chunk n are no longer needed.
    void mark_dead(uint32_t n, uint64_t bytes) {
        auto it = chunks_.find(n);
        if (it == chunks_.end()) return;
        it->second.dead += bytes;
        consider(n, it->second);
    }

    // Document id of collection c has a record: raise next_id past it. The erase record of the
    // highest id stays needed while it is the highest (it keeps next_id across a reopen); once a
    // higher id is written, it is needed only as a tombstone.
    void advance(Coll& c, uint64_t id) {
        if (id < c.next_id) return;
        if (c.next_id > 0 && !c.tombs.empty()) {
            auto t = c.tombs.find(c.next_id - 1);
            if (t != c.tombs.end() && t->second.puts == 0) {
                mark_dead(t->second.at.chunk, kHeader);
                c.tombs.erase(t);
            }
        }
        c.next_id = id + 1;
    }

    // A put record of document id, at loc, is now the latest record of it.
    void note_put(Coll& c, uint64_t id, const Loc& loc) {
        auto [it, fresh] = c.docs.try_emplace(id);
        Doc& d = it->second;
        if (!fresh) {
            mark_dead(d.chunk, record_bytes(d.size));  // superseded
            ++d.puts;
        } else if (!c.tombs.empty()) {
            auto t = c.tombs.find(id);
            if (t != c.tombs.end()) {  // stored again after an erase: the erase record is moot
                d.puts = t->second.puts + 1;
                mark_dead(t->second.at.chunk, kHeader);
                c.tombs.erase(t);
            }
        }
        static_cast<Loc&>(d) = loc;
        advance(c, id);
    }

    // An erase record of document id, at `at`, is now the latest record of it.
    void note_erase(Coll& c, uint64_t id, Pos at) {
        auto it = c.docs.find(id);
        if (it != c.docs.end()) {
            mark_dead(it->second.chunk, record_bytes(it->second.size));
            uint64_t puts = it->second.puts;
            c.docs.erase(it);
            c.tombs[id] = Tomb{at, puts};
        } else if (auto t = c.tombs.find(id); t != c.tombs.end()) {  // at replay: a duplicate
            mark_dead(t->second.at.chunk, kHeader);
            t->second.at = at;
        } else {  // at replay: its puts were compacted away (settled at the end of the replay)
            c.tombs.emplace(id, Tomb{at, 0});
        }
        advance(c, id);
    }

    // Forgets the drop record of a dropped collection when no create record of it is left,
    // unless it holds the highest collection number (next_coll_ must survive a reopen).
    void settle_dropped(std::unordered_map<uint64_t, Dropped>::iterator it) {
        if (it->second.creates > 0 || it->first + 1 == next_coll_) return;
        mark_dead(it->second.at.chunk, kHeader);
        dropped_.erase(it);
    }

    // next_coll_ is about to grow: the highest dropped collection loses its pin.
    void release_coll_pin() {
        if (next_coll_ == 0) return;
        auto it = dropped_.find(next_coll_ - 1);
        if (it != dropped_.end() && it->second.creates == 0) {
            mark_dead(it->second.at.chunk, kHeader);
            dropped_.erase(it);
        }
    }

    // ---- compaction

    // Called at the end of every successful mutating operation, under the exclusive lock.
    Status finish_op(Status st = Status::Success) {
        if (st == Status::Success && !pending_.empty()) compact_pending(appended_ - settled_);
        settled_ = appended_;
        return st;
    }

    // Compacts queued chunks, oldest first: at least one, and enough to keep up with the dead
    // bytes the operation that wrote op_bytes may have made (a compacted chunk frees at least
    // threshold of its records), so a single operation's pause stays bounded while the backlog
    // cannot grow without bound. Chunks left over wait for the next operation.
    void compact_pending(uint64_t op_bytes) {
        double budget = std::max(static_cast<double>(chunk_size_), static_cast<double>(op_bytes) / threshold_);
        double done = 0;
        while (!pending_.empty() && done < budget) {
            uint32_t n = *pending_.begin();
            pending_.erase(pending_.begin());
            auto it = chunks_.find(n);
            if (it == chunks_.end()) continue;
            if (n == active_) {
                it->second.queued = false;
                continue;
            }
            uint64_t copied = 0;
            if (compact(n, copied) != Status::Success) {
                // Left in place, consistent (copies made so far are just newer duplicates);
                // queued again when more of it dies, or at the next open.
                it->second.queued = false;
                break;
            }
            done += static_cast<double>(copied) + 4096;  // an unlink and maybe syncs, too
        }
    }

    // Compacts sealed chunk n: appends copies of its live records at the tail and points the
    // index at them, makes the copies as durable as the config asks, then unlinks the chunk and
    // lets go of what its records were keeping alive.
    //
    // It runs inline on the writer, under the exclusive lock, and not on a background thread:
    // - a copy is an append plus an index update, which need the exclusive lock anyway (there
    //   is one tail); a thread would take the same lock and stall the same writers;
    // - readers work under the shared lock, so none can be inside the chunk being removed (its
    //   mapping is reference counted besides, and would outlive the file for a late holder);
    // - the crash-safety argument is about the order of appends, syncs and unlinks, which is
    //   then that of one thread, with no write between a liveness check and its copy;
    // - no thread to start, to stop around close/destroy, or to survive a fork.
    // The price is paid by the operation that makes a chunk cross the threshold: copying at
    // most (1 - threshold) of a chunk's records, plus with sync/msync_interval an fdatasync and
    // a directory fsync. An operation with nothing to compact pays one empty() test.
    Status compact(uint32_t n, uint64_t& copied) {
        Chunk& ch = chunks_.at(n);  // std::map: stays valid while chunks are added
        ch.queued = true;           // not queued again while its records are being copied
        std::shared_ptr<Mapping> m;
        Status st = map_chunk(n, m);
        if (st != Status::Success) return st;
        const uint64_t end = ch.end;
        const uint64_t before = appended_;
        Header h;
        std::string_view payload;
        for (uint64_t off = 0; m && off < end; off += record_bytes(h.size)) {
            if (!decode(m->data + off, end - off, h, payload, false)) return Status::Corruption;
            uint64_t mark = appended_;
            st = keep(n, off, m->data + off, h, payload);
            if (st != Status::Success) return st;
            if (appended_ != mark) ch.dead += record_bytes(h.size);  // the original is dead now
        }
        copied = appended_ - before;
        ch.dead = end;  // every record of it is dead now: the live ones have newer copies
        // The copies in sealed chunks were synced when those were sealed; the last one now.
        if (copied > 0 && durable_) {
            if (fdatasync(active().fd) != 0) return from_errno(errno);
            dirty_ = false;
            last_sync_ = std::chrono::steady_clock::now();
        }
        unmap(n);
        if (::unlink(chunk_path(n).c_str()) != 0) return from_errno(errno);
        ::close(ch.fd);
        chunks_.erase(n);
        if (durable_) sync_dir();  // the unlink before anything that relies on it
        if (m) forget(n, m->data, end);
        return Status::Success;
    }

    // Copies record (chunk n, offset off), whose bytes start at rec, to the tail when it is live.
    // A record is copied as it is, checksum included, after checking it (the chunk was verified
    // at open, but a copy must not vouch for bytes that changed since).
    Status keep(uint32_t n, uint64_t off, const unsigned char* rec, const Header& h, std::string_view payload) {
        const Pos here{n, off};
        Loc loc;
        switch (h.kind) {
            case kPut: {
                Coll* c = by_number(h.coll);
                if (!c) return Status::Success;
                auto it = c->docs.find(h.id);
                if (it == c->docs.end() || it->second.chunk != n || it->second.offset != off + kHeader)
                    return Status::Success;
                Status st = copy(rec, payload, loc);
                if (st != Status::Success) return st;
                static_cast<Loc&>(it->second) = loc;
                ++it->second.puts;
                break;
            }
            case kErase: {
                Coll* c = by_number(h.coll);
                if (!c) return Status::Success;
                auto t = c->tombs.find(h.id);
                if (t == c->tombs.end() || !(t->second.at == here)) return Status::Success;
                Status st = copy(rec, payload, loc);
                if (st != Status::Success) return st;
                t->second.at = pos_of(loc);
                break;
            }
            case kCreate: {
                Coll* c = by_number(h.coll);
                if (!c || !(c->create == here)) return Status::Success;
                Status st = copy(rec, payload, loc);
                if (st != Status::Success) return st;
                c->create = pos_of(loc);
                ++c->creates;
                break;
            }
            case kDrop: {
                auto d = dropped_.find(h.coll);
                if (d == dropped_.end() || !(d->second.at == here)) return Status::Success;
                Status st = copy(rec, payload, loc);
                if (st != Status::Success) return st;
                d->second.at = pos_of(loc);
                break;
            }
        }
        return Status::Success;
    }

    Status copy(const unsigned char* rec, std::string_view payload, Loc& loc) {
        Header h;
        std::string_view p;
        if (!decode(rec, record_bytes(payload.size()), h, p)) return Status::Corruption;
        return append_record(rec, payload, loc);
    }

    // The records data[0..end) of chunk n have left the disk: count them out of the tombstones
    // and drop records that were kept for them.
    void forget(uint32_t n, const unsigned char* data, uint64_t end) {
        Header h;
        std::string_view payload;
        for (uint64_t off = 0; off < end && decode(data + off, end - off, h, payload, false);
             off += record_bytes(h.size)) {
            if (h.kind == kPut) {
                Coll* c = by_number(h.coll);
                if (!c) continue;
                if (auto d = c->docs.find(h.id); d != c->docs.end()) {
                    if (d->second.puts > 1) --d->second.puts;  // (the live one was copied)
                } else if (auto t = c->tombs.find(h.id); t != c->tombs.end()) {
                    if (t->second.puts > 0) --t->second.puts;
                    if (t->second.puts == 0 && h.id + 1 != c->next_id) {
                        mark_dead(t->second.at.chunk, kHeader);  // nothing left for it to shadow
                        c->tombs.erase(t);
                    }
                }
            } else if (h.kind == kCreate) {
                if (Coll* c = by_number(h.coll)) {
                    if (c->creates > 1) --c->creates;
                } else if (auto d = dropped_.find(h.coll); d != dropped_.end()) {
                    if (d->second.creates > 0) --d->second.creates;
                    settle_dropped(d);
                }
            }
        }
    }

    void sync_dir() {
        int dfd = ::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            ::close(dfd);
        }
    }

    // ---- appending

    Status new_chunk(uint64_t size) {
        uint32_t n = next_chunk_;
        auto p = chunk_path(n);
        Chunk ch;
        ch.fd = ::open(p.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (ch.fd < 0) return from_errno(errno);
        if (ftruncate(ch.fd, static_cast<off_t>(size)) != 0) {
            int e = errno;
            ::close(ch.fd);
            fs::remove(p);
            return from_errno(e);
        }
        ch.size = size;
        // Make the new file's name durable when writes are meant to be.
        if (durable_) sync_dir();
        chunks_.emplace(n, std::move(ch));
        active_ = n;
        next_chunk_ = n + 1;
        tail_ = 0;
        return Status::Success;
    }

    // Appends one record at the tail (a new chunk when it does not fit); loc gets its payload.
    Status append(const Header& h, std::string_view payload, Loc& loc) {
        unsigned char header[kHeader];
        encode(h, payload, header);
        return append_record(header, payload, loc);
    }

    // Appends a record whose header is encoded already: a new one, or (compaction) a verified
    // record copied as it is, checksum included.
    Status append_record(const unsigned char* header, std::string_view payload, Loc& loc) {
        const uint32_t size = static_cast<uint32_t>(payload.size());
        uint64_t total = record_bytes(size);
        if (tail_ + total > active().size) {
            if (tail_ > 0 || active().size < total) {
                // The old active chunk is complete: make it durable before moving on.
                Chunk& old = active();
                if (durable_ && fdatasync(old.fd) != 0) return from_errno(errno);
                uint32_t sealed = active_;
                uint64_t end = tail_;
                Status st = new_chunk(std::max(chunk_size_, total));
                if (st != Status::Success) return st;
                old.end = end;
                consider(sealed, old);
            }
        }
        static const char zeros[8] = {};
        struct iovec iov[3] = {{const_cast<unsigned char*>(header), kHeader},
                               {const_cast<char*>(payload.data()), payload.size()},
                               {const_cast<char*>(zeros), padded(size) - size}};
        Chunk& ch = active();
        uint64_t off = tail_;
        size_t done = 0;
        while (done < total) {
            // Skip what was written already (a short write), then write the rest.
            struct iovec rest[3];
            int cnt = 0;
            size_t skip = done;
            for (auto& v : iov) {
                if (skip >= v.iov_len) {
                    skip -= v.iov_len;
                    continue;
                }
                rest[cnt].iov_base = static_cast<char*>(v.iov_base) + skip;
                rest[cnt].iov_len = v.iov_len - skip;
                skip = 0;
                ++cnt;
            }
            ssize_t w = pwritev(ch.fd, rest, cnt, static_cast<off_t>(off + done));
            if (w < 0) {
                if (errno == EINTR) continue;
                int e = errno;
                // Leave no half record behind: zero what was written.
                std::vector<char> z(done);
                if (done) (void)!pwrite(ch.fd, z.data(), done, static_cast<off_t>(off));
                return from_errno(e);
            }
            done += static_cast<size_t>(w);
        }
        tail_ += total;
        appended_ += total;
        dirty_ = true;
        loc = Loc{off + kHeader, active_, size};
        return Status::Success;
    }

    // Makes the writes of one operation durable, as configured.
    Status flush() {
        if (!dirty_) return Status::Success;
        auto now = std::chrono::steady_clock::now();
        bool due = sync_ || (msync_interval_.count() > 0 && now - last_sync_ >= msync_interval_);
        if (!due) return Status::Success;
        if (fdatasync(active().fd) != 0) return from_errno(errno);
        last_sync_ = now;
        dirty_ = false;
        return Status::Success;
    }

    // ---- reading

    // Maps chunk n (or reuses its mapping), evicting the least recently used beyond cache_size.
    Status map_chunk(uint32_t n, std::shared_ptr<Mapping>& out) {
        std::lock_guard<std::mutex> lock(cache_mutex_);
        auto found = chunks_.find(n);
        if (found == chunks_.end()) return Status::Corruption;
        Chunk& ch = found->second;
        ch.last_use = ++use_clock_;
        if (ch.map) {
            out = ch.map;
            return Status::Success;
        }
        if (ch.size == 0) {
            out.reset();
            return Status::Success;
        }
        void* p = mmap(nullptr, ch.size, PROT_READ, MAP_SHARED, ch.fd, 0);
        if (p == MAP_FAILED) return from_errno(errno);
        auto m = std::make_shared<Mapping>();
        m->data = static_cast<const unsigned char*>(p);
        m->size = ch.size;
        ch.map = m;
        out = m;
        mapped_.push_back(n);
        while (mapped_.size() > cache_size_) {
            // Evict the least recently used (never the one just mapped); readers still
            // holding it keep it alive through their shared_ptr.
            size_t victim = 0;
            for (size_t i = 1; i < mapped_.size(); ++i)
                if (chunks_.at(mapped_[i]).last_use < chunks_.at(mapped_[victim]).last_use) victim = i;
            chunks_.at(mapped_[victim]).map.reset();
            mapped_.erase(mapped_.begin() + static_cast<long>(victim));
        }
        return Status::Success;
    }

    void unmap(uint32_t n) {
        std::lock_guard<std::mutex> lock(cache_mutex_);
        if (auto it = chunks_.find(n); it != chunks_.end()) it->second.map.reset();
        for (size_t i = 0; i < mapped_.size(); ++i)
            if (mapped_[i] == n) {
                mapped_.erase(mapped_.begin() + static_cast<long>(i));
                break;
            }
    }

    template <typename F>
    Status visit_doc(const Loc& loc, F&& f) {
        std::shared_ptr<Mapping> m;
        Status st = map_chunk(loc.chunk, m);
        if (st != Status::Success) return st;
        if (!m || loc.offset + loc.size > m->size) return Status::Corruption;
        f(std::string_view(reinterpret_cast<const char*>(m->data + loc.offset), loc.size));
        return Status::Success;
    }

    Coll* find(std::string_view name) {
        auto it = colls_.find(name);
        return it == colls_.end() ? nullptr : &it->second;
    }

    void close() {
        open_ = false;
        for (auto& [n, ch] : chunks_) {
            ch.map.reset();
            if (ch.fd >= 0) {
                if (dirty_) fdatasync(ch.fd);
                ::close(ch.fd);
            }
        }
        dirty_ = false;
        chunks_.clear();
        mapped_.clear();
        colls_.clear();
        by_number_.clear();
        dropped_.clear();
        pending_.clear();
        if (lock_fd_ >= 0) {
            ::close(lock_fd_);  // releases the flock
            lock_fd_ = -1;
        }
    }

    nlohmann::json cfg_;
    std::string path_;
    uint64_t chunk_size_ = 10 << 20;
    size_t cache_size_ = 16;
    std::chrono::milliseconds msync_interval_{0};
    bool sync_ = false;
    bool durable_ = false;  // sync or msync_interval: new names, sealed chunks and compactions are synced
    bool compaction_ = true;
    double threshold_ = 0.5;

    // The log always takes this lock (whatever use_lock says): appends and the index must
    // not race, and the provider may call from several threads. Compaction runs under it too.
    std::shared_mutex mutex_;
    bool open_ = false;
    int lock_fd_ = -1;
    std::map<uint32_t, Chunk> chunks_;  // by number; the last one is appended to
    uint32_t active_ = 0;               // its number
    uint32_t next_chunk_ = 0;
    uint64_t tail_ = 0;  // write offset in the last chunk
    bool dirty_ = false;
    std::chrono::steady_clock::time_point last_sync_ = std::chrono::steady_clock::now();
    uint64_t next_coll_ = 0;
    std::map<std::string, Coll, std::less<>> colls_;
    std::unordered_map<uint64_t, Coll*> by_number_;  // live collections (nodes of colls_)
    std::unordered_map<uint64_t, Dropped> dropped_;  // dropped collections with a needed drop record
    std::set<uint32_t> pending_;                      // chunks to compact
    uint64_t appended_ = 0;                           // bytes appended since open
    uint64_t settled_ = 0;                            // appended_ at the end of the last operation

    std::mutex cache_mutex_;  // the mappings, used by readers under the shared lock
    std::vector<uint32_t> mapped_;
    uint64_t use_clock_ = 0;
};

}  // namespace

YOKAN_REGISTER_BACKEND(log, LogBackend);

}  // namespace mochi::yokan::backends
