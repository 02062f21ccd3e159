// The storage interface of a Warabi provider. One class per target type (memory, pmdk, abtio)
// in src/warabi/targets/, each registering itself with WARABI_REGISTER_TARGET: adding a
// target is one new file plus its line in src/warabi/CMakeLists.txt.
//
// Threading: methods are called from handler fibers, concurrently. They may block the calling
// fiber on fiber primitives (the abtio target waits for its I/O threads that way) but must not
// hold an OS thread for long. Range arguments have been checked against region_size() by the
// provider; targets check again where a bad range could touch memory or another region.
#pragma once

#include <mochi/warabi/common.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mochi::warabi {

struct RegionInfo {
    RegionID id;
    size_t size;
};

class Target {
  public:
    virtual ~Target() = default;
    virtual std::string type() const = 0;
    // The effective configuration: every key with its value, defaults filled in.
    virtual nlohmann::json config() const = 0;
    // A config that creates a new, empty target like this one (migration installs it in a
    // target-less provider). File targets keep their file under the key "path" and must
    // create it when missing and never replace an existing one: migration then relocates
    // "path" and checks the destination file itself.
    virtual nlohmann::json blank_config() const { return config(); }

    virtual RegionID create(size_t size) = 0;
    // The size of a live region; throws Exception(InvalidRegion) for anything else.
    virtual size_t region_size(const RegionID& id) = 0;
    // Byte-addressable targets (memory, pmdk) return their storage of [offset, offset+size):
    // transfer managers then move data with one RDMA straight into it. The pointer keeps the
    // storage alive while held. File targets return nullptr and get write()/read() calls.
    virtual std::shared_ptr<char> map(const RegionID& id, size_t offset, size_t size) { return nullptr; }
    virtual void write(const RegionID& id, size_t offset, const char* data, size_t size) = 0;
    virtual void read(const RegionID& id, size_t offset, char* data, size_t size) = 0;
    // Makes [offset, offset+size) of the region durable (a no-op for memory).
    virtual void persist(const RegionID& id, size_t offset, size_t size) = 0;
    virtual void erase(const RegionID& id) = 0;
    // Creates a region under a chosen id, as restoring a snapshot does to keep ids. Returns
    // false when this target cannot choose ids or that id is taken; callers then create().
    virtual bool create_at(const RegionID& id, size_t size) { return false; }
    // Every live region (used by migration and after reopening a target).
    virtual std::vector<RegionInfo> list() = 0;
    // Staging buffers must be aligned to this for write()/read() (O_DIRECT files need it).
    virtual size_t buffer_alignment() const { return 64; }
};

using TargetFactory = std::function<std::unique_ptr<Target>(const nlohmann::json& config)>;

// Registry of target types by name ("memory", "abtio", "pmdk", and the alias "pmem").
struct TargetRegistry {
    static bool add(const std::string& type, TargetFactory factory);
    // Throws Exception(InvalidConfig) naming the type when it is unknown or its config is bad.
    static std::unique_ptr<Target> create(const std::string& type, const nlohmann::json& config);
    static std::vector<std::string> types();
};

}  // namespace mochi::warabi

#define WARABI_PP_CAT2(a, b) a##b
#define WARABI_PP_CAT(a, b) WARABI_PP_CAT2(a, b)
// WARABI_REGISTER_TARGET("name", Class): Class must be constructible from a const json&.
#define WARABI_REGISTER_TARGET(name, Class)                                                          \
    static const bool WARABI_PP_CAT(warabi_target_registered_, __LINE__) =                            \
        ::mochi::warabi::TargetRegistry::add(name, [](const nlohmann::json& cfg) {                    \
            return std::unique_ptr<::mochi::warabi::Target>(new Class(cfg));                          \
        })
