// CRC-32 (IEEE, reflected) for the abtio file's region records: detects torn or stale records.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mochi::warabi::detail {

inline uint32_t crc32(const void* data, size_t len) {
    static const struct Table {
        uint32_t t[256];
        Table() {
            for (uint32_t i = 0; i < 256; i++) {
                uint32_t c = i;
                for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
                t[i] = c;
            }
        }
    } table;
    uint32_t c = 0xFFFFFFFFu;
    auto* p = static_cast<const uint8_t*>(data);
    for (size_t i = 0; i < len; i++) c = table.t[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

}  // namespace mochi::warabi::detail
