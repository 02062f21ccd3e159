// "pmdk" target (alias "pmem"): regions are objects of a libpmemobj pool.
// Each object is a 16-byte header {magic, size} followed by the data. PMDK's allocator is
// crash-safe (an object is either fully allocated and constructed or absent), so the pool's
// own object list is the region table: reopening walks it with pmemobj_first/next.
// RegionID = (pool uuid_lo, object offset). Offsets are validated against the live set
// before any pointer is formed from them.
//
// On an ordinary (non-DAX) file PMDK persists with msync (~1 ms): allocation, free and
// persist run on a small I/O thread pool so handler xstreams never wait on the disk.
// Data written by memcpy/RDMA into the mapping survives a process crash (shared mapping);
// persist() makes it survive power loss too.
#include <mochi/warabi/target.hpp>

#include "../config_check.hpp"
#include "../io_pool.hpp"
#include "region_id.hpp"

#include <libpmemobj.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <unordered_map>

namespace mochi::warabi {
namespace {

using detail::invalid_region;
using json = nlohmann::json;
namespace cfg = detail::cfg;

constexpr const char* kLayout = "kinako-warabi";
constexpr uint64_t kTypeNum = 0x5742;              // "WB": our region objects
constexpr uint64_t kMagic = 0x314e4f4947455242ULL;  // "BREGION1"
constexpr uint64_t kMinPoolSize = 8388608;         // PMEMOBJ_MIN_POOL

struct ObjHeader {
    uint64_t magic;
    uint64_t size;
};

std::string pmem_error(const std::string& what) {
    const char* msg = pmemobj_errormsg();
    return what + ": " + (msg && *msg ? msg : strerror(errno));
}

class PmdkTarget : public Target {
  public:
    explicit PmdkTarget(const json& c) : io_(2) {
        const std::string where = "pmdk target";
        cfg::require_object(c, where);
        cfg::only_keys(c, {"path", "create_if_missing_with_size", "override_if_exists"}, where);
        path_ = cfg::get_string(c, "path", where);
        create_size_ = cfg::get_uint(c, "create_if_missing_with_size", 0, where);
        override_ = cfg::get_bool(c, "override_if_exists", false, where);
        if (c.contains("create_if_missing_with_size") && create_size_ < kMinPoolSize)
            cfg::fail(where, "\"create_if_missing_with_size\" must be at least " + std::to_string(kMinPoolSize) +
                                 " bytes, got " + std::to_string(create_size_));
        struct stat st;
        bool exists = ::stat(path_.c_str(), &st) == 0;
        if (exists && override_) {
            if (::unlink(path_.c_str()) != 0)
                throw Exception(ErrorCode::IoError, "cannot remove " + path_ + ": " + strerror(errno));
            exists = false;
        }
        if (exists) {
            pop_ = pmemobj_open(path_.c_str(), kLayout);
            if (!pop_) throw Exception(ErrorCode::InvalidConfig, pmem_error("invalid pmdk target configuration: cannot open pool " + path_));
        } else {
            if (create_size_ == 0)
                cfg::fail(where, "pool file \"" + path_ + "\" does not exist and \"create_if_missing_with_size\" is not set");
            pop_ = pmemobj_create(path_.c_str(), kLayout, create_size_, 0600);
            if (!pop_) throw Exception(ErrorCode::InvalidConfig, pmem_error("invalid pmdk target configuration: cannot create pool " + path_));
        }
        uuid_lo_ = pmemobj_oid(pmemobj_direct(pmemobj_root(pop_, 64))).pool_uuid_lo;
        for (PMEMoid oid = pmemobj_first(pop_); !OID_IS_NULL(oid); oid = pmemobj_next(oid)) {
            if (pmemobj_type_num(oid) != kTypeNum) continue;
            auto* h = static_cast<ObjHeader*>(pmemobj_direct(oid));
            if (h->magic == kMagic) live_[oid.off] = h->size;
        }
    }
    ~PmdkTarget() override { pmemobj_close(pop_); }

    std::string type() const override { return "pmdk"; }
    json config() const override {
        json c = {{"path", path_}, {"override_if_exists", override_}};
        if (create_size_) c["create_if_missing_with_size"] = create_size_;
        return c;
    }
    // A pool as large as this one (pools do not grow), created and never replaced.
    json blank_config() const override {
        json c = config();
        struct stat st;
        uint64_t size = create_size_;
        if (::stat(path_.c_str(), &st) == 0) size = std::max<uint64_t>(size, uint64_t(st.st_size));
        c["create_if_missing_with_size"] = std::max(size, kMinPoolSize);
        c["override_if_exists"] = false;
        return c;
    }

    RegionID create(size_t size) override {
        PMEMoid oid = OID_NULL;
        std::string error;
        io_.run([&] {
            ObjHeader h{kMagic, size};
            int rc = pmemobj_alloc(pop_, &oid, sizeof(ObjHeader) + size, kTypeNum,
                                   [](PMEMobjpool* pop, void* ptr, void* arg) -> int {
                                       // New regions read as zeros on every target. The zeros
                                       // need no flush: unpersisted content is undefined anyway.
                                       auto* hdr = static_cast<ObjHeader*>(arg);
                                       pmemobj_memset(pop, static_cast<char*>(ptr) + sizeof(ObjHeader), 0, hdr->size,
                                                      PMEMOBJ_F_MEM_NOFLUSH);
                                       pmemobj_memcpy_persist(pop, ptr, arg, sizeof(ObjHeader));
                                       return 0;
                                   },
                                   &h);
            if (rc != 0) error = pmem_error("cannot allocate a region of " + std::to_string(size) + " bytes in " + path_);
        });
        if (!error.empty()) throw Exception(ErrorCode::OutOfSpace, error);
        std::lock_guard<std::mutex> lock(mutex_);
        live_[oid.off] = size;
        return detail::pack_id(uuid_lo_, oid.off);
    }

    size_t region_size(const RegionID& id) override { return lookup(id).second; }

    std::shared_ptr<char> map(const RegionID& id, size_t offset, size_t size) override {
        auto [ptr, rsize] = lookup(id);
        if (offset > rsize || size > rsize - offset)
            throw Exception(ErrorCode::OutOfRange, "range exceeds region " + to_hex(id));
        return std::shared_ptr<char>(ptr + offset, [](char*) {});  // the pool outlives requests
    }
    void write(const RegionID& id, size_t offset, const char* data, size_t size) override {
        if (size) memcpy(map(id, offset, size).get(), data, size);
    }
    void read(const RegionID& id, size_t offset, char* data, size_t size) override {
        if (size) memcpy(data, map(id, offset, size).get(), size);
    }
    void persist(const RegionID& id, size_t offset, size_t size) override {
        char* p = map(id, offset, size).get();
        if (size) io_.run([&] { pmemobj_persist(pop_, p, size); });
    }

    void erase(const RegionID& id) override {
        uint64_t pool, off;
        detail::unpack_id(id, pool, off);
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (pool != uuid_lo_ || !live_.erase(off)) invalid_region(id);
        }
        PMEMoid oid{uuid_lo_, off};
        io_.run([&] { pmemobj_free(&oid); });
    }

    std::vector<RegionInfo> list() override {
        std::lock_guard<std::mutex> lock(mutex_);
        std::vector<RegionInfo> out;
        out.reserve(live_.size());
        for (auto& [off, size] : live_) out.push_back({detail::pack_id(uuid_lo_, off), size});
        return out;
    }

  private:
    // (data pointer, size) of a live region.
    std::pair<char*, size_t> lookup(const RegionID& id) {
        uint64_t pool, off;
        detail::unpack_id(id, pool, off);
        size_t size;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            auto it = live_.find(off);
            if (pool != uuid_lo_ || it == live_.end()) invalid_region(id);
            size = it->second;
        }
        char* base = static_cast<char*>(pmemobj_direct(PMEMoid{uuid_lo_, off}));
        return {base + sizeof(ObjHeader), size};
    }

    detail::IoPool io_;
    std::string path_;
    uint64_t create_size_ = 0;
    bool override_ = false;
    PMEMobjpool* pop_ = nullptr;
    uint64_t uuid_lo_ = 0;
    std::mutex mutex_;
    std::unordered_map<uint64_t, size_t> live_;  // object offset -> region size
};

}  // namespace
WARABI_REGISTER_TARGET("pmdk", PmdkTarget);
WARABI_REGISTER_TARGET("pmem", PmdkTarget);
}  // namespace mochi::warabi
