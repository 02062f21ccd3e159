// Packing two 64-bit fields into a 16-byte RegionID (native little-endian), the layout all
// built-in targets use: memory (index, size), abtio (data offset, size), pmdk (pool, offset).
#pragma once

#include <mochi/warabi/common.hpp>

#include <cstring>

namespace mochi::warabi::detail {

inline RegionID pack_id(uint64_t a, uint64_t b) {
    RegionID id;
    memcpy(id.data(), &a, 8);
    memcpy(id.data() + 8, &b, 8);
    return id;
}

inline void unpack_id(const RegionID& id, uint64_t& a, uint64_t& b) {
    memcpy(&a, id.data(), 8);
    memcpy(&b, id.data() + 8, 8);
}

[[noreturn]] inline void invalid_region(const RegionID& id, const char* why = nullptr) {
    throw Exception(ErrorCode::InvalidRegion, "Invalid RegionID information: region " + to_hex(id) +
                                                  (why ? std::string(" ") + why : std::string(" does not exist")));
}

}  // namespace mochi::warabi::detail
