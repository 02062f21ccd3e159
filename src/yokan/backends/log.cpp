// The "log" backend: persistent collections of documents in an append-only log.
// Documents only: every key/value call answers OpUnsupported.
//
// On disk, `path` is a directory holding LOCK (flock'ed while open) and chunk files
// 000000.chunk, 000001.chunk, ... of chunk_size bytes each (larger when one record needs it),
// created zero-filled. A chunk is a sequence of 8-byte aligned records:
//
//   u32 magic "KLG1" | u8 kind | u8[3] zero | u64 collection number | u64 document id
//   | u32 payload size | u32 CRC-32C of the 28 bytes before it and of the payload
//   | payload (collection name or document), zero-padded to a multiple of 8
//
// kinds: 1 create collection (payload = name), 2 drop collection, 3 put document (store or
// update), 4 erase document. At open every chunk is scanned in order and the records are
// replayed into an in-memory index (name -> collection -> id -> location). A record whose
// magic, size or checksum is wrong ends its chunk: that is the torn tail of a crash; the
// tail of the last chunk is zeroed from there on so it can never be mistaken for data later.
// Reads map chunks (at most cache_size at a time) and visit documents in place; writes are
// pwritev at the tail, so a write that returned is in the page cache and survives the death
// of the process; "sync": true also fdatasyncs it before returning (survives a power loss),
// and "msync_interval" (ms, 0 = off) syncs when the last sync is older than that.
// Space held by updated, erased or dropped documents is not reclaimed (no compaction yet).
#include <mochi/yokan/backend.hpp>
#include <mochi/yokan/config_check.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

namespace mochi::yokan::backends {

namespace {

namespace fs = std::filesystem;

const char* const kType = "log";

// ---- CRC-32C (Castagnoli), reflected, table driven
struct Crc32c {
    std::array<uint32_t, 256> table{};
    Crc32c() {
        for (uint32_t i = 0; i < 256; ++i) {
            uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
            table[i] = c;
        }
    }
    uint32_t extend(uint32_t crc, const void* data, size_t n) const {
        auto p = static_cast<const unsigned char*>(data);
        crc = ~crc;
        for (size_t i = 0; i < n; ++i) crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
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
bool decode(const unsigned char* data, uint64_t avail, Header& h, std::string_view& payload) {
    if (avail < kHeader || get_le(data, 4) != kMagic) return false;
    h.kind = static_cast<Kind>(data[4]);
    if (h.kind < kCreate || h.kind > kErase) return false;
    h.coll = get_le(data + 8, 8);
    h.id = get_le(data + 16, 8);
    h.size = static_cast<uint32_t>(get_le(data + 24, 4));
    if (kHeader + padded(h.size) > avail) return false;
    uint32_t crc = crc32c().extend(0, data, kCrcOffset);
    crc = crc32c().extend(crc, data + kHeader, h.size);
    if (crc != get_le(data + kCrcOffset, 4)) return false;
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
    std::shared_ptr<Mapping> map;    // cached mapping, or null
    uint64_t last_use = 0;           // for LRU eviction of mappings
};

struct Loc {
    uint32_t chunk;
    uint64_t offset;  // of the payload
    uint32_t size;
};

struct Coll {
    uint64_t number = 0;            // the collection's number in the records
    uint64_t next_id = 0;
    std::map<uint64_t, Loc> docs;   // live documents
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
        uint64_t number = next_coll_++;
        Loc loc;
        Status st = append({kCreate, number, 0, static_cast<uint32_t>(name.size())}, name, loc);
        if (st == Status::Success) st = flush();
        if (st != Status::Success) return st;
        Coll c;
        c.number = number;
        colls_.emplace(std::string(name), std::move(c));
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
        colls_.erase(it);
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
            c->docs[id] = loc;
            c->next_id = id + 1;
            ids.push_back(id);
        }
        return flush();
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
            c->docs[ids[i]] = loc;
            if (ids[i] >= c->next_id) c->next_id = ids[i] + 1;
        }
        return flush();
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
                c->docs.erase(it);
            }
            return flush();
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
            auto it = c->docs.find(id);
            if (it == c->docs.end()) continue;
            Loc loc;
            Status st = append({kErase, c->number, id, 0}, {}, loc);
            if (st != Status::Success) return st;
            c->docs.erase(it);
        }
        return flush();
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

    // Chunk files of a directory, by number.
    static std::map<uint32_t, fs::path> list_chunks(const std::string& dir) {
        std::map<uint32_t, fs::path> out;
        std::error_code ec;
        for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
            auto name = it->path().filename().string();
            if (name.size() != 12 || name.compare(6, 6, ".chunk") != 0) continue;
            if (name.find_first_not_of("0123456789") != 6) continue;
            out[static_cast<uint32_t>(std::stoul(name.substr(0, 6)))] = it->path();
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

    // Locks the directory, then replays every chunk into the index.
    void open() {
        std::string lock_path = (fs::path(path_) / "LOCK").string();
        lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (lock_fd_ < 0) fail_open(from_errno(errno), "cannot open " + lock_path + ": " + std::strerror(errno));
        if (flock(lock_fd_, LOCK_EX | LOCK_NB) != 0)
            fail_open(Status::Busy, "\"" + path_ + "\" is in use by another open log");

        auto names = list_chunks(path_);
        uint32_t expected = 0;
        for (auto& [n, p] : names) {
            if (n != expected) fail_open(Status::Corruption, "chunk " + std::to_string(expected) + " is missing");
            ++expected;
            Chunk ch;
            ch.fd = ::open(p.c_str(), O_RDWR | O_CLOEXEC);
            if (ch.fd < 0) fail_open(from_errno(errno), "cannot open " + p.string() + ": " + std::strerror(errno));
            struct stat st;
            fstat(ch.fd, &st);
            ch.size = static_cast<uint64_t>(st.st_size);
            chunks_.push_back(std::move(ch));
        }
        std::map<uint64_t, std::string> names_by_number;
        for (uint32_t n = 0; n < chunks_.size(); ++n) {
            uint64_t end = replay(n, names_by_number);
            bool last = n + 1 == chunks_.size();
            if (last) {
                tail_ = end;
                Chunk& ch = chunks_[n];
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
        if (chunks_.empty()) {
            Status st = new_chunk(chunk_size_);
            if (st != Status::Success) fail_open(st, "cannot create the first chunk");
        }
        open_ = true;
    }

    // Applies the records of chunk n; returns the offset after the last intact one.
    uint64_t replay(uint32_t n, std::map<uint64_t, std::string>& names) {
        std::shared_ptr<Mapping> m;
        if (map_chunk(n, m) != Status::Success || !m) return 0;
        uint64_t off = 0;
        Header h;
        std::string_view payload;
        while (decode(m->data + off, m->size - off, h, payload)) {
            switch (h.kind) {
                case kCreate: {
                    std::string name(payload);
                    colls_.erase(name);  // a stale entry would mean a drop record was lost
                    Coll c;
                    c.number = h.coll;
                    colls_.emplace(name, std::move(c));
                    names[h.coll] = std::move(name);
                    if (h.coll >= next_coll_) next_coll_ = h.coll + 1;
                    break;
                }
                case kDrop: {
                    auto it = names.find(h.coll);
                    if (it != names.end()) {
                        auto c = colls_.find(it->second);
                        if (c != colls_.end() && c->second.number == h.coll) colls_.erase(c);
                        names.erase(it);
                    }
                    break;
                }
                case kPut:
                case kErase: {
                    auto it = names.find(h.coll);
                    if (it == names.end()) break;
                    auto c = colls_.find(it->second);
                    if (c == colls_.end() || c->second.number != h.coll) break;
                    if (h.kind == kPut) c->second.docs[h.id] = Loc{n, off + kHeader, h.size};
                    else c->second.docs.erase(h.id);
                    if (h.id >= c->second.next_id) c->second.next_id = h.id + 1;
                    break;
                }
            }
            off += kHeader + padded(h.size);
        }
        return off;
    }

    Status new_chunk(uint64_t size) {
        uint32_t n = static_cast<uint32_t>(chunks_.size());
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
        if (sync_ || msync_interval_.count() > 0) {
            int dfd = ::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (dfd >= 0) {
                fsync(dfd);
                ::close(dfd);
            }
        }
        chunks_.push_back(std::move(ch));
        tail_ = 0;
        return Status::Success;
    }

    // Appends one record at the tail (a new chunk when it does not fit); loc gets its payload.
    Status append(const Header& h, std::string_view payload, Loc& loc) {
        uint64_t total = kHeader + padded(h.size);
        if (tail_ + total > chunks_.back().size) {
            if (tail_ > 0 || chunks_.back().size < total) {
                // The old active chunk is complete: make it durable before moving on.
                if ((sync_ || msync_interval_.count() > 0) && fdatasync(chunks_.back().fd) != 0)
                    return from_errno(errno);
                Status st = new_chunk(std::max(chunk_size_, total));
                if (st != Status::Success) return st;
            }
        }
        unsigned char header[kHeader];
        encode(h, payload, header);
        static const char zeros[8] = {};
        struct iovec iov[3] = {{header, kHeader},
                               {const_cast<char*>(payload.data()), payload.size()},
                               {const_cast<char*>(zeros), padded(h.size) - h.size}};
        Chunk& ch = chunks_.back();
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
        dirty_ = true;
        loc = Loc{static_cast<uint32_t>(chunks_.size() - 1), off + kHeader, h.size};
        return Status::Success;
    }

    // Makes the writes of one operation durable, as configured.
    Status flush() {
        if (!dirty_) return Status::Success;
        auto now = std::chrono::steady_clock::now();
        bool due = sync_ || (msync_interval_.count() > 0 && now - last_sync_ >= msync_interval_);
        if (!due) return Status::Success;
        if (fdatasync(chunks_.back().fd) != 0) return from_errno(errno);
        last_sync_ = now;
        dirty_ = false;
        return Status::Success;
    }

    // Maps chunk n (or reuses its mapping), evicting the least recently used beyond cache_size.
    Status map_chunk(uint32_t n, std::shared_ptr<Mapping>& out) {
        std::lock_guard<std::mutex> lock(cache_mutex_);
        Chunk& ch = chunks_[n];
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
                if (chunks_[mapped_[i]].last_use < chunks_[mapped_[victim]].last_use) victim = i;
            chunks_[mapped_[victim]].map.reset();
            mapped_.erase(mapped_.begin() + static_cast<long>(victim));
        }
        return Status::Success;
    }

    void unmap(uint32_t n) {
        std::lock_guard<std::mutex> lock(cache_mutex_);
        chunks_[n].map.reset();
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
        for (auto& ch : chunks_) {
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

    // The log always takes this lock (whatever use_lock says): appends and the index must
    // not race, and the provider may call from several threads.
    std::shared_mutex mutex_;
    bool open_ = false;
    int lock_fd_ = -1;
    std::vector<Chunk> chunks_;
    uint64_t tail_ = 0;  // write offset in the last chunk
    bool dirty_ = false;
    std::chrono::steady_clock::time_point last_sync_ = std::chrono::steady_clock::now();
    uint64_t next_coll_ = 0;
    std::map<std::string, Coll, std::less<>> colls_;

    std::mutex cache_mutex_;  // the mappings, used by readers under the shared lock
    std::vector<uint32_t> mapped_;
    uint64_t use_clock_ = 0;
};

}  // namespace

YOKAN_REGISTER_BACKEND(log, LogBackend);

}  // namespace mochi::yokan::backends
