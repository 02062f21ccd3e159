// "memory" target: each region is a zero-filled buffer in RAM (volatile, no keys).
// RegionID = (index, size). Erasing frees the buffer but keeps the index, as Warabi does.
#include <mochi/warabi/target.hpp>

#include "../config_check.hpp"
#include "region_id.hpp"

#include <cstdlib>
#include <cstring>
#include <mutex>

namespace mochi::warabi {
namespace {

using detail::invalid_region;
using detail::pack_id;
using detail::unpack_id;

// A restored id may lie past the last slot; the gap it leaves is bounded so that one odd id
// cannot make the slot table huge.
constexpr uint64_t kMaxIndexGap = uint64_t(1) << 24;

class MemoryTarget : public Target {
  public:
    explicit MemoryTarget(const nlohmann::json& c) {
        if (!c.is_null()) {
            detail::cfg::require_object(c, "memory target");
            detail::cfg::only_keys(c, {}, "memory target");
        }
    }
    std::string type() const override { return "memory"; }
    nlohmann::json config() const override { return nlohmann::json::object(); }

    RegionID create(size_t size) override {
        // Zeroed storage, allocated outside the lock; calloc maps large sizes lazily.
        char* raw = static_cast<char*>(calloc(size ? size : 1, 1));
        if (!raw) throw Exception(ErrorCode::OutOfSpace, "cannot allocate a region of " + std::to_string(size) + " bytes");
        std::shared_ptr<char> data(raw, free);
        std::lock_guard<std::mutex> lock(mutex_);
        regions_.push_back({std::move(data), size});
        return pack_id(regions_.size() - 1, size);
    }

    bool create_at(const RegionID& id, size_t size) override {
        uint64_t index, id_size;
        unpack_id(id, index, id_size);
        if (id_size != size) return false;
        char* raw = static_cast<char*>(calloc(size ? size : 1, 1));
        if (!raw) throw Exception(ErrorCode::OutOfSpace, "cannot allocate a region of " + std::to_string(size) + " bytes");
        std::shared_ptr<char> data(raw, free);
        std::lock_guard<std::mutex> lock(mutex_);
        if (index > kMaxIndexGap + regions_.size() || (index < regions_.size() && regions_[index].data)) return false;
        if (index >= regions_.size()) regions_.resize(index + 1);  // the slots in between stay erased
        regions_[index] = {std::move(data), size};
        return true;
    }

    size_t region_size(const RegionID& id) override { return lookup(id).size; }

    std::shared_ptr<char> map(const RegionID& id, size_t offset, size_t size) override {
        Slot s = lookup(id);
        check(id, s, offset, size);
        return std::shared_ptr<char>(s.data, s.data.get() + offset);  // shares ownership
    }

    void write(const RegionID& id, size_t offset, const char* data, size_t size) override {
        if (size) memcpy(map(id, offset, size).get(), data, size);
    }
    void read(const RegionID& id, size_t offset, char* data, size_t size) override {
        if (size) memcpy(data, map(id, offset, size).get(), size);
    }
    void persist(const RegionID& id, size_t offset, size_t size) override { check(id, lookup(id), offset, size); }

    void erase(const RegionID& id) override {
        lookup(id);
        uint64_t index, size;
        unpack_id(id, index, size);
        std::lock_guard<std::mutex> lock(mutex_);
        regions_[index].data.reset();
    }

    std::vector<RegionInfo> list() override {
        std::lock_guard<std::mutex> lock(mutex_);
        std::vector<RegionInfo> out;
        for (size_t i = 0; i < regions_.size(); i++)
            if (regions_[i].data) out.push_back({pack_id(i, regions_[i].size), regions_[i].size});
        return out;
    }

  private:
    struct Slot {
        std::shared_ptr<char> data;
        size_t size = 0;
    };
    Slot lookup(const RegionID& id) {
        uint64_t index, size;
        unpack_id(id, index, size);
        std::lock_guard<std::mutex> lock(mutex_);
        if (index >= regions_.size() || !regions_[index].data || regions_[index].size != size) invalid_region(id);
        return regions_[index];
    }
    static void check(const RegionID& id, const Slot& s, size_t offset, size_t size) {
        if (offset > s.size || size > s.size - offset)
            throw Exception(ErrorCode::OutOfRange, "range [" + std::to_string(offset) + ", " +
                                                       std::to_string(offset + size) + ") exceeds region " + to_hex(id) +
                                                       " of " + std::to_string(s.size) + " bytes");
    }
    std::mutex mutex_;
    std::vector<Slot> regions_;
};

}  // namespace
WARABI_REGISTER_TARGET("memory", MemoryTarget);
}  // namespace mochi::warabi
