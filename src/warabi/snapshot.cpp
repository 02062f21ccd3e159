// Target snapshots: every live region written to one file, and read back into a target.
//
// File layout (little-endian, native widths):
//   "KNKWSNAP" u32 version u32 0, then the source target:
//     version 1: u64 type length, type bytes
//     version 2: u64 length, JSON {"type", "config", "file": {"dev", "ino"} or null}, u64 XXH64
//                of the JSON bytes. "config" is the source's blank_config(): what a restore
//                into a provider without a target installs (as a migration would), and
//                "file" the source's own file, which that install must never replace.
//   per region: u8 1, RegionID (16 bytes), u64 size, size bytes, u64 XXH64 of those bytes
//   end:        u8 0, u64 region count
// Restore reads the whole file once to check every checksum and the end record before it
// touches the target, so a truncated or damaged file changes nothing. Version 1 files are
// still read; they lack the config, so installing from one takes the config from
// merge_config alone.
#include "provider_state.hpp"

#include <xxhash.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <memory>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>

namespace mochi::warabi::detail {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr char kMagic[8] = {'K', 'N', 'K', 'W', 'S', 'N', 'A', 'P'};
constexpr uint32_t kVersion = 2;
constexpr uint64_t kMaxHeader = uint64_t(1) << 20;  // a header's JSON is a few hundred bytes
constexpr size_t kChunk = size_t(4) << 20;  // bytes copied at a time
const char* const kFileName = "warabi.snapshot";

[[noreturn]] void io_error(const std::string& what, const std::string& path) {
    throw Exception(ErrorCode::IoError, what + " \"" + path + "\": " + std::strerror(errno));
}

// A file descriptor that closes itself, with whole-buffer reads and writes.
class File {
  public:
    File(const std::string& path, int flags) : path_(path), fd_(::open(path.c_str(), flags | O_CLOEXEC, 0644)) {
        if (fd_ < 0) io_error("cannot open snapshot file", path);
    }
    ~File() { ::close(fd_); }
    File(const File&) = delete;
    File& operator=(const File&) = delete;

    void write(const void* data, size_t n) {
        auto p = static_cast<const char*>(data);
        while (n) {
            ssize_t w = ::write(fd_, p, n);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) io_error("cannot write snapshot file", path_);
            p += w;
            n -= size_t(w);
        }
    }
    // False at a clean end of file before any byte; throws on a short read.
    bool read(void* data, size_t n, bool eof_ok = false) {
        auto p = static_cast<char*>(data);
        size_t got = 0;
        while (got < n) {
            ssize_t r = ::read(fd_, p + got, n - got);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) io_error("cannot read snapshot file", path_);
            if (r == 0) {
                if (got == 0 && eof_ok) return false;
                throw Exception(ErrorCode::InvalidArgument, "snapshot file \"" + path_ + "\" is truncated");
            }
            got += size_t(r);
        }
        return true;
    }
    template <typename T> void put(T v) { write(&v, sizeof(v)); }
    template <typename T> T get() {
        T v;
        read(&v, sizeof(v));
        return v;
    }
    void seek(off_t pos) {
        if (::lseek(fd_, pos, SEEK_SET) < 0) io_error("cannot seek in snapshot file", path_);
    }
    off_t tell() const { return ::lseek(fd_, 0, SEEK_CUR); }
    void sync() {
        if (::fsync(fd_) != 0) io_error("cannot sync snapshot file", path_);
    }
    const std::string& path() const { return path_; }

  private:
    std::string path_;
    int fd_;
};

struct Xxh64 {
    Xxh64() : state(XXH64_createState(), XXH64_freeState) { XXH64_reset(state.get(), 0); }
    void update(const void* p, size_t n) { XXH64_update(state.get(), p, n); }
    uint64_t digest() const { return XXH64_digest(state.get()); }
    std::unique_ptr<XXH64_state_t, XXH_errorcode (*)(XXH64_state_t*)> state;
};

[[noreturn]] void corrupt(const std::string& path, const std::string& why) {
    throw Exception(ErrorCode::InvalidArgument, "snapshot file \"" + path + "\" is damaged: " + why);
}

// Where a verified region's bytes sit in the file.
struct Entry {
    RegionID id;
    size_t size;
    off_t data_at;
};

// A verified snapshot file: its source target and its regions.
struct Snapshot {
    uint32_t version = 0;
    std::string type;
    json config;                  // null in version 1 files
    std::optional<FileIdentity> source_file;
    std::vector<Entry> entries;
};

// The source target as version 2 records it.
std::string header_json(const InstalledTarget& source) {
    json file = nullptr;
    if (auto id = file_identity(target_file(source.target->config()))) file = {{"dev", id->dev}, {"ino", id->ino}};
    return json{{"type", source.type}, {"config", source.target->blank_config()}, {"file", file}}.dump();
}

void write_header(File& f, const InstalledTarget& source) {
    f.write(kMagic, sizeof(kMagic));
    f.put<uint32_t>(kVersion);
    f.put<uint32_t>(0);
    std::string header = header_json(source);
    f.put<uint64_t>(header.size());
    f.write(header.data(), header.size());
    f.put<uint64_t>(XXH64(header.data(), header.size(), 0));
}

void read_v1_header(File& f, Snapshot& snap) {
    auto type_len = f.get<uint64_t>();
    if (type_len > 256) corrupt(f.path(), "bad header");
    snap.type.resize(type_len);
    f.read(snap.type.data(), snap.type.size());
}

void read_v2_header(File& f, Snapshot& snap) {
    auto len = f.get<uint64_t>();
    if (len > kMaxHeader) corrupt(f.path(), "bad header length " + std::to_string(len));
    std::string text(len, '\0');
    f.read(text.data(), text.size());
    if (f.get<uint64_t>() != XXH64(text.data(), text.size(), 0)) corrupt(f.path(), "header checksum mismatch");
    json h = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!h.is_object() || !h.contains("type") || !h["type"].is_string() || !h.contains("config") ||
        !h["config"].is_object())
        corrupt(f.path(), "the header has no target type or config");
    snap.type = h["type"].get<std::string>();
    snap.config = h["config"];
    const json& file = h.value("file", json());
    if (file.is_object() && file.value("dev", json()).is_number_unsigned() &&
        file.value("ino", json()).is_number_unsigned())
        snap.source_file = FileIdentity{file["dev"].get<uint64_t>(), file["ino"].get<uint64_t>()};
}

// Checks the header, every region's checksum and the end record.
Snapshot verify(File& f) {
    char magic[8];
    if (!f.read(magic, sizeof(magic), true) || std::memcmp(magic, kMagic, sizeof(magic)) != 0)
        throw Exception(ErrorCode::InvalidArgument, "\"" + f.path() + "\" is not a warabi snapshot file");
    Snapshot snap;
    snap.version = f.get<uint32_t>();
    f.get<uint32_t>();
    if (snap.version == 1)
        read_v1_header(f, snap);
    else if (snap.version == 2)
        read_v2_header(f, snap);
    else
        corrupt(f.path(), "unknown format version " + std::to_string(snap.version));
    std::vector<Entry>& out = snap.entries;
    std::vector<char> buf;
    for (;;) {
        uint8_t tag = f.get<uint8_t>();
        if (tag == 0) break;
        if (tag != 1) corrupt(f.path(), "unknown record tag " + std::to_string(tag));
        Entry e{};
        f.read(e.id.data(), e.id.size());
        e.size = f.get<uint64_t>();
        e.data_at = f.tell();
        Xxh64 h;
        for (size_t done = 0; done < e.size;) {
            size_t n = std::min(kChunk, e.size - done);
            buf.resize(n);
            f.read(buf.data(), n);
            h.update(buf.data(), n);
            done += n;
        }
        if (f.get<uint64_t>() != h.digest()) corrupt(f.path(), "checksum mismatch in region " + to_hex(e.id));
        out.push_back(e);
    }
    if (f.get<uint64_t>() != out.size()) corrupt(f.path(), "the region count does not match");
    return snap;
}

// Adds the verified regions to the target, each persisted; returns (snapshot id, id now).
MigrationResult add_regions(Target& target, File& f, const std::vector<Entry>& entries) {
    MigrationResult result;
    std::vector<char> buf;
    for (const Entry& e : entries) {
        // Same id when the target can place it there (memory targets), a new one otherwise.
        RegionID id = e.id;
        if (!target.create_at(e.id, e.size)) id = target.create(e.size);
        f.seek(e.data_at);
        for (size_t off = 0; off < e.size;) {
            size_t n = std::min(kChunk, e.size - off);
            buf.resize(n);
            f.read(buf.data(), n);
            target.write(id, off, buf.data(), n);
            off += n;
        }
        target.persist(id, 0, e.size);
        result.emplace_back(e.id, id);
    }
    return result;
}

std::string snapshot_file_path(const std::string& dir) { return (fs::path(dir) / kFileName).string(); }

}  // namespace

void ProviderState::snapshot(const std::string& dest_dir, bool remove_source) {
    // A target-less provider fails here (NoTarget), before the directory is made.
    std::shared_ptr<InstalledTarget> source = current();
    if (!source) this->target();  // throws NoTarget, naming this provider
    Target* target = source->target.get();
    std::error_code ec;
    fs::create_directories(dest_dir, ec);
    if (ec) throw Exception(ErrorCode::IoError, "cannot create snapshot directory \"" + dest_dir + "\": " + ec.message());
    // Written under a temporary name and renamed once synced: a crash never leaves a
    // half-written file under the real name.
    std::string final_path = snapshot_file_path(dest_dir), tmp_path = final_path + ".tmp";
    auto regions = target->list();
    {
        File f(tmp_path, O_WRONLY | O_CREAT | O_TRUNC);
        write_header(f, *source);
        std::vector<char> buf;
        for (const RegionInfo& r : regions) {
            f.put<uint8_t>(1);
            f.write(r.id.data(), r.id.size());
            f.put<uint64_t>(r.size);
            Xxh64 h;
            for (size_t off = 0; off < r.size;) {
                size_t n = std::min(kChunk, r.size - off);
                const char* p;
                std::shared_ptr<char> pin = target->map(r.id, off, n);
                if (pin) {
                    p = pin.get();
                } else {
                    buf.resize(n);
                    target->read(r.id, off, buf.data(), n);
                    p = buf.data();
                }
                f.write(p, n);
                h.update(p, n);
                off += n;
            }
            f.put<uint64_t>(h.digest());
        }
        f.put<uint8_t>(0);
        f.put<uint64_t>(regions.size());
        f.sync();
    }
    if (::rename(tmp_path.c_str(), final_path.c_str()) != 0) io_error("cannot rename snapshot file to", final_path);
    if (int dfd = ::open(dest_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
        ::fsync(dfd);  // makes the rename durable
        ::close(dfd);
    }
    if (remove_source)
        for (const RegionInfo& r : regions) target->erase(r.id);
}

MigrationResult ProviderState::restore(const std::string& src_dir, const RestoreOptions& options) {
    check_merge_config(options.merge_config);
    std::shared_ptr<InstalledTarget> here = current();
    if (here && asks_for_install(options.new_root, options.merge_config))
        // Those options describe a target to install: ignoring them would look like they applied.
        throw Exception(ErrorCode::InvalidArgument,
                        "warabi provider " + std::to_string(provider_id) + " already has a \"" + here->type +
                            "\" target: new_root and merge_config only apply when a restore installs the target "
                            "into a provider without one (an existing target is never replaced)");
    const std::string path = snapshot_file_path(src_dir);
    File f(path, O_RDONLY);
    Snapshot snap = verify(f);  // a damaged file stops here, before anything changes
    if (here) return add_regions(*here->target, f, snap.entries);

    // No target: install one like the snapshot's source, filled before requests can see it.
    json base = snap.config.is_null() ? json::object() : snap.config;
    json config = install_config(std::move(base), options.new_root, options.merge_config);
    MigrationResult result;
    try {
        install_target(snap.type, config, snap.source_file,
                       [&](Target& t) { result = add_regions(t, f, snap.entries); });
    } catch (const Exception& e) {
        std::string hint = snap.version == 1 ? " (a version-1 snapshot does not record its target's config: give "
                                               "the whole config in merge_config)"
                                             : "";
        throw Exception(e.code(), "cannot install a \"" + snap.type + "\" target into warabi provider " +
                                      std::to_string(provider_id) + " to restore \"" + path + "\": " + e.what() + hint);
    }
    return result;
}

}  // namespace mochi::warabi::detail
