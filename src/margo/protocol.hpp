// Wire format of engine messages. Every message starts with a MsgHeader; a request then
// carries the sender's raw address (so the receiver can answer) and the payload, unless the
// payload is large, in which case the receiver pulls it by RMA from (large_addr, large_key).
#pragma once

#include <cstdint>

namespace kinako::margo {

constexpr uint32_t kMagic = 0x4b4e4b31;  // "KNK1"

enum class MsgType : uint8_t { Request = 1, Response = 2, LargeDone = 3 };

enum MsgFlags : uint8_t {
    kNoResponse = 1,  // the caller does not wait for an answer
    kLarge = 2,       // the payload is not inline: read it from large_addr/large_key
};

struct MsgHeader {
    uint32_t magic;
    uint8_t type;
    uint8_t flags;
    uint16_t provider_id;
    int32_t status;          // responses: a mochi::margo::Status
    uint16_t src_len;        // requests: bytes of the sender address after the header
    uint16_t reserved;
    uint64_t rpc_id;
    uint64_t seq;            // request id chosen by the caller, echoed in the response
    uint64_t payload_size;
    uint64_t large_addr;
    uint64_t large_key;
    uint64_t token;          // large responses: id the caller sends back in LargeDone
};
static_assert(sizeof(MsgHeader) == 64, "header layout");

}  // namespace kinako::margo
