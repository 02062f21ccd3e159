// The order of keys in the sorted in-memory backends: plain byte-wise (unsigned) lexicographic
// order, the same as std::less<std::string_view>, computed eight bytes at a time.
//
// Why not std::less: it compares through memcmp, a library call per tree node, and a walk
// down a map of a few thousand keys makes a dozen of them. Keys that share a long prefix
// (the usual "name-000123") made that walk the largest part of a single put on `map`.
// Loading both keys a word at a time and comparing the byte-swapped words gives the same
// answer inline.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace mochi::yokan::backends {

struct KeyLess {
    bool operator()(std::string_view a, std::string_view b) const noexcept {
        const size_t n = a.size() < b.size() ? a.size() : b.size();
        const char* p = a.data();
        const char* q = b.data();
        size_t i = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        for (; i + 8 <= n; i += 8) {
            uint64_t x, y;
            std::memcpy(&x, p + i, 8);
            std::memcpy(&y, q + i, 8);
            // The first differing byte decides; after a byte swap it is the most significant.
            if (x != y) return __builtin_bswap64(x) < __builtin_bswap64(y);
        }
#endif
        for (; i < n; ++i) {
            auto x = static_cast<unsigned char>(p[i]), y = static_cast<unsigned char>(q[i]);
            if (x != y) return x < y;
        }
        return a.size() < b.size();
    }
};

}  // namespace mochi::yokan::backends
