// Client internals: a database handle's target, and the call path every operation shares
// (encode header, forward, turn the status into an exception or a reader of the output).
#pragma once

#include <mochi/yokan/client.hpp>

#include "wire.hpp"

#include <algorithm>
#include <cstring>

namespace mochi::yokan::detail {

struct DatabaseImpl {
    margo::Engine engine;
    margo::Address address;
    uint16_t provider_id = 0;

    // A response kept alive while its Reader is in use.
    struct Reply {
        margo::Response response;
        wire::Reader reader;
    };

    // Starts a request for rpc: the header, then whatever the caller appends.
    static wire::RequestBytes begin(int32_t mode, double timeout_ms) {
        check_mode(mode);
        wire::RequestBytes req;
        wire::RequestWriter w(req);
        w.header({mode, timeout_ms});
        return req;
    }

    // Sends the request and returns the reply positioned after the status. Throws Exception.
    Reply call(const char* rpc, std::string_view request, double timeout_ms) const;
    Reply call(const char* rpc, const wire::RequestBytes& request, double timeout_ms) const {
        return call(rpc, wire::view_of(request), timeout_ms);
    }
};

// Copies n bytes from the reply into a caller buffer (zero-length safe).
inline void copy_out(char* dst, std::string_view src) {
    if (!src.empty()) std::memcpy(dst, src.data(), src.size());
}

// Encodes the caller's output space when every item has a buffer of this capacity.
inline void write_per_item(wire::RequestWriter& w, const Buffer& each) {
    char b[1 + sizeof(uint64_t)] = {static_cast<char>(wire::Space::PerItemSame)};
    uint64_t size = each.size;
    std::memcpy(b + 1, &size, sizeof(size));
    w.raw({b, sizeof(b)});
}

// Encodes the caller's output space: the capacity of each buffer.
inline void write_per_item(wire::RequestWriter& w, const std::vector<Buffer>& bufs) {
    // Buffers of one size (the usual batch) travel as that one size, not one per item.
    bool same = std::all_of(bufs.begin(), bufs.end(), [&](const Buffer& b) { return b.size == bufs.front().size; });
    if (same && !bufs.empty()) return write_per_item(w, bufs.front());
    w.pod<uint8_t>(static_cast<uint8_t>(wire::Space::PerItem));
    size_t at = w.reserve_u64s(bufs.size());
    for (size_t i = 0; i < bufs.size(); i++) w.set_u64(at, i, bufs[i].size);
}

}  // namespace mochi::yokan::detail
