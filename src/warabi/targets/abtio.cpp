// "abtio" target: regions in one file (layout in abtio_layout.hpp). Every pread/pwrite/
// fdatasync runs on the target's I/O thread pool (the ABT-IO role) while the calling handler
// fiber waits, so handler xstreams keep serving.
//
// Config: path (required), create_if_missing (false), override_if_exists (false),
// alignment (8; >= 8, multiple of 8: where region data starts), sync (false: open with
// O_DSYNC so every write is durable on return), directio (false: aligned parts go through
// an O_DIRECT descriptor), abt_io ({"backing_thread_count": 4}).
// persist() is fdatasync (power-loss durability); acknowledged writes already survive a
// crash of the server process since they are in the kernel's page cache.
#include <mochi/warabi/target.hpp>

#include "../config_check.hpp"
#include "../io_pool.hpp"
#include "abtio_layout.hpp"
#include "crc32.hpp"
#include "region_id.hpp"

#include <boost/fiber/mutex.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>

namespace mochi::warabi {
namespace {

namespace cfg = detail::cfg;
namespace layout = detail::abtio;
using json = nlohmann::json;
constexpr size_t kDirectAlign = 4096;

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

[[noreturn]] void io_fail(const std::string& what, const std::string& path) {
    throw Exception(ErrorCode::IoError, what + " " + path + ": " + strerror(errno));
}

void pwrite_all(int fd, const char* p, size_t n, uint64_t off, const std::string& path) {
    while (n > 0) {
        ssize_t w = ::pwrite(fd, p, n, off);
        if (w < 0) {
            if (errno == EINTR) continue;
            io_fail("cannot write", path);
        }
        p += w, n -= w, off += w;
    }
}

// Reads n bytes; past the end of the file reads as zeros (regions are created sparse, and a
// regular file only returns a short read at its end).
void pread_all(int fd, char* p, size_t n, uint64_t off, const std::string& path) {
    while (n > 0) {
        ssize_t r = ::pread(fd, p, n, off);
        if (r < 0) {
            if (errno == EINTR) continue;
            io_fail("cannot read", path);
        }
        if (static_cast<size_t>(r) < n) {
            memset(p + r, 0, n - r);
            return;
        }
        return;
    }
}

class AbtioTarget : public Target {
  public:
    explicit AbtioTarget(const json& c) : io_(threads_of(c)) {
        const std::string where = "abtio target";
        path_ = cfg::get_string(c, "path", where);
        create_ = cfg::get_bool(c, "create_if_missing", false, where);
        override_ = cfg::get_bool(c, "override_if_exists", false, where);
        alignment_ = cfg::get_uint(c, "alignment", 8, where);
        sync_ = cfg::get_bool(c, "sync", false, where);
        directio_ = cfg::get_bool(c, "directio", false, where);
        if (alignment_ < 8 || alignment_ % 8 != 0)
            cfg::fail(where, "\"alignment\" must be a multiple of 8 and at least 8, got " + std::to_string(alignment_));
        if (alignment_ > (1u << 30)) cfg::fail(where, "\"alignment\" is too large: " + std::to_string(alignment_));
        abt_io_ = c.value("abt_io", json::object());
        abt_io_["backing_thread_count"] = io_.size();

        struct stat st;
        bool exists = ::stat(path_.c_str(), &st) == 0;
        if (!exists && !create_)
            cfg::fail(where, "file \"" + path_ + "\" does not exist (set \"create_if_missing\" to create it)");
        int flags = O_RDWR | O_CLOEXEC | (sync_ ? O_DSYNC : 0);
        if (!exists) flags |= O_CREAT;
        if (exists && override_) flags |= O_TRUNC;
        fd_ = ::open(path_.c_str(), flags, 0644);
        if (fd_ < 0) throw Exception(ErrorCode::InvalidConfig, "invalid abtio target configuration: cannot open \"" + path_ + "\": " + strerror(errno));
        if (directio_) {
            dfd_ = ::open(path_.c_str(), O_RDWR | O_CLOEXEC | O_DIRECT | (sync_ ? O_DSYNC : 0));
            if (dfd_ < 0) {
                int e = errno;
                ::close(fd_);
                throw Exception(ErrorCode::InvalidConfig, "invalid abtio target configuration: \"directio\" is not supported for \"" +
                                                             path_ + "\": " + strerror(e));
            }
        }
        try {
            open_layout();
        } catch (...) {
            close_fds();
            throw;
        }
    }
    ~AbtioTarget() override { close_fds(); }

    std::string type() const override { return "abtio"; }
    json config() const override {
        return {{"path", path_},         {"create_if_missing", create_}, {"override_if_exists", override_},
                {"alignment", alignment_}, {"sync", sync_},             {"directio", directio_},
                {"abt_io", abt_io_}};
    }
    // Same layout and I/O settings; the file is created and never replaced.
    json blank_config() const override {
        json c = config();
        c["create_if_missing"] = true;
        c["override_if_exists"] = false;
        return c;
    }
    size_t buffer_alignment() const override { return directio_ ? kDirectAlign : 64; }

    RegionID create(size_t size) override {
        // Records are written in chain order: one create at a time (a fiber mutex, so waiting
        // creates park their fiber, not their thread).
        std::lock_guard<boost::fibers::mutex> lock(create_mutex_);
        layout::Record r{};
        uint64_t pos = next_record_;
        r.magic = layout::kRecordMagic;
        r.data_offset = align_up(pos + layout::kRecordSize, alignment_);
        r.size = size;
        r.next = align_up(r.data_offset + size, layout::kRecordSize);
        if (r.next < r.data_offset) throw Exception(ErrorCode::OutOfSpace, "region size " + std::to_string(size) + " is too large");
        r.crc = detail::crc32(&r, 32);
        io_.run([&] { pwrite_all(fd_, reinterpret_cast<const char*>(&r), sizeof(r), pos, path_); });
        next_record_ = r.next;
        std::lock_guard<std::mutex> tl(table_mutex_);
        table_[r.data_offset] = {pos, size};
        return detail::pack_id(r.data_offset, size);
    }

    size_t region_size(const RegionID& id) override { return lookup(id).size; }

    void write(const RegionID& id, size_t offset, const char* data, size_t size) override {
        uint64_t base = checked(id, offset, size);
        if (size) io_.run([&] { transfer(true, const_cast<char*>(data), size, base + offset); });
    }
    void read(const RegionID& id, size_t offset, char* data, size_t size) override {
        uint64_t base = checked(id, offset, size);
        if (size) io_.run([&] { transfer(false, data, size, base + offset); });
    }
    void persist(const RegionID& id, size_t offset, size_t size) override {
        checked(id, offset, size);
        if (sync_) return;  // O_DSYNC: every write was durable when it returned
        io_.run([&] {
            if (::fdatasync(fd_) != 0) io_fail("cannot fdatasync", path_);
        });
    }

    void erase(const RegionID& id) override {
        Entry e = lookup(id);
        {
            std::lock_guard<std::mutex> tl(table_mutex_);
            uint64_t data_offset, size;
            detail::unpack_id(id, data_offset, size);
            if (!table_.erase(data_offset)) detail::invalid_region(id);
        }
        uint64_t data_offset, size;
        detail::unpack_id(id, data_offset, size);
        io_.run([&] {
            uint64_t mark = 1;
            pwrite_all(fd_, reinterpret_cast<const char*>(&mark), 8, e.record + layout::kErasedOffset, path_);
            // Give the blocks back to the file system (best effort).
            uint64_t lo = align_up(data_offset, 4096), hi = (data_offset + size) / 4096 * 4096;
            if (hi > lo) (void)::fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, lo, hi - lo);
        });
    }

    std::vector<RegionInfo> list() override {
        std::lock_guard<std::mutex> tl(table_mutex_);
        std::vector<RegionInfo> out;
        out.reserve(table_.size());
        for (auto& [off, e] : table_) out.push_back({detail::pack_id(off, e.size), e.size});
        return out;
    }

  private:
    struct Entry {
        uint64_t record;
        uint64_t size;
    };

    static size_t threads_of(const json& c) {
        cfg::require_object(c, "abtio target");
        cfg::only_keys(c, {"path", "create_if_missing", "override_if_exists", "alignment", "sync", "directio", "abt_io"},
                       "abtio target");
        json a = c.value("abt_io", json::object());
        if (!a.is_object()) cfg::fail("abtio target", "\"abt_io\" must be an object, got " + a.dump());
        uint64_t n = cfg::get_uint(a, "backing_thread_count", 4, "abtio target abt_io");
        if (n < 1 || n > 256) cfg::fail("abtio target", "\"abt_io.backing_thread_count\" must be in [1, 256], got " + std::to_string(n));
        return n;
    }

    void close_fds() {
        if (fd_ >= 0) ::close(fd_);
        if (dfd_ >= 0) ::close(dfd_);
        fd_ = dfd_ = -1;
    }

    // Writes the header of a new file, or checks it and walks the record chain.
    void open_layout() {
        struct stat st;
        if (::fstat(fd_, &st) != 0) io_fail("cannot stat", path_);
        if (st.st_size == 0) {
            layout::FileHeader h{};
            memcpy(h.magic, layout::kFileMagic, 8);
            h.version = layout::kVersion;
            h.first_record = layout::kFirstRecord;
            pwrite_all(fd_, reinterpret_cast<const char*>(&h), sizeof(h), 0, path_);
            if (::fdatasync(fd_) != 0) io_fail("cannot fdatasync", path_);
            next_record_ = layout::kFirstRecord;
            return;
        }
        layout::FileHeader h{};
        if (st.st_size < (off_t)sizeof(h)) bad_file("it is too short");
        pread_all(fd_, reinterpret_cast<char*>(&h), sizeof(h), 0, path_);
        if (memcmp(h.magic, layout::kFileMagic, 8) != 0) bad_file("it has no warabi abtio header");
        if (h.version != layout::kVersion) bad_file("unsupported version " + std::to_string(h.version));
        // Walk the chain through a read-ahead window (records of small regions are dense).
        uint64_t file_size = st.st_size, pos = h.first_record;
        std::vector<char> window(1 << 20);
        uint64_t wstart = 0, wend = 0;
        while (pos + layout::kRecordSize <= file_size) {
            if (pos < wstart || pos + layout::kRecordSize > wend) {
                size_t n = std::min<uint64_t>(window.size(), file_size - pos);
                pread_all(fd_, window.data(), n, pos, path_);
                wstart = pos, wend = pos + n;
            }
            layout::Record r;
            memcpy(&r, window.data() + (pos - wstart), sizeof(r));
            if (r.magic != layout::kRecordMagic || r.crc != detail::crc32(&r, 32) ||
                r.data_offset < pos + layout::kRecordSize || r.next < r.data_offset + r.size)
                break;  // end of the chain (never written, or torn by a crash)
            if (r.erased == 0) table_[r.data_offset] = {pos, r.size};
            pos = r.next;
        }
        next_record_ = pos;
    }

    [[noreturn]] void bad_file(const std::string& why) {
        throw Exception(ErrorCode::InvalidConfig, "invalid abtio target configuration: \"" + path_ +
                                                     "\" is not a warabi abtio file (" + why +
                                                     "); use \"override_if_exists\" to replace it");
    }

    Entry lookup(const RegionID& id) {
        uint64_t data_offset, size;
        detail::unpack_id(id, data_offset, size);
        std::lock_guard<std::mutex> tl(table_mutex_);
        auto it = table_.find(data_offset);
        if (it == table_.end() || it->second.size != size) detail::invalid_region(id);
        return it->second;
    }

    // Returns the data offset of the region after checking the range.
    uint64_t checked(const RegionID& id, size_t offset, size_t size) {
        Entry e = lookup(id);
        if (offset > e.size || size > e.size - offset)
            throw Exception(ErrorCode::OutOfRange, "range [" + std::to_string(offset) + ", " + std::to_string(offset + size) +
                                                       ") exceeds region " + to_hex(id) + " of " + std::to_string(e.size) + " bytes");
        uint64_t data_offset, s;
        detail::unpack_id(id, data_offset, s);
        return data_offset;
    }

    // On an I/O thread. With directio, the block-aligned middle goes through the O_DIRECT
    // descriptor (bounced through an aligned buffer when the memory is not aligned); the
    // unaligned head and tail go through the page cache.
    void transfer(bool write, char* p, size_t n, uint64_t off) {
        auto buffered = [&](char* q, size_t len, uint64_t o) {
            write ? pwrite_all(fd_, q, len, o, path_) : pread_all(fd_, q, len, o, path_);
        };
        if (!directio_) return buffered(p, n, off);
        uint64_t lo = align_up(off, kDirectAlign), hi = (off + n) / kDirectAlign * kDirectAlign;
        if (hi <= lo) return buffered(p, n, off);
        if (lo > off) buffered(p, lo - off, off);
        char* mid = p + (lo - off);
        if (reinterpret_cast<uintptr_t>(mid) % kDirectAlign == 0) {
            write ? pwrite_all(dfd_, mid, hi - lo, lo, path_) : pread_all(dfd_, mid, hi - lo, lo, path_);
        } else {
            constexpr size_t kBounce = 1 << 20;
            thread_local std::unique_ptr<char, decltype(&free)> bounce(static_cast<char*>(aligned_alloc(kDirectAlign, kBounce)), &free);
            for (uint64_t o = lo; o < hi; o += kBounce) {
                size_t len = std::min<uint64_t>(kBounce, hi - o);
                char* q = mid + (o - lo);
                if (write) {
                    memcpy(bounce.get(), q, len);
                    pwrite_all(dfd_, bounce.get(), len, o, path_);
                } else {
                    pread_all(dfd_, bounce.get(), len, o, path_);
                    memcpy(q, bounce.get(), len);
                }
            }
        }
        if (off + n > hi) buffered(p + (hi - off), off + n - hi, hi);
    }

    detail::IoPool io_;
    std::string path_;
    bool create_ = false, override_ = false, sync_ = false, directio_ = false;
    uint64_t alignment_ = 8;
    json abt_io_;
    int fd_ = -1, dfd_ = -1;
    boost::fibers::mutex create_mutex_;
    uint64_t next_record_ = layout::kFirstRecord;
    std::mutex table_mutex_;
    std::unordered_map<uint64_t, Entry> table_;  // data offset -> record
};

}  // namespace
WARABI_REGISTER_TARGET("abtio", AbtioTarget);
}  // namespace mochi::warabi
