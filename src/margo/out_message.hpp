// An engine message being built for sending: a MsgHeader followed by the request's source
// address and the payload. Small messages (the common echo- or key/value-sized RPC) are built
// in a buffer inside the object, on the caller's stack, because the transport copies them
// when it injects them; only a message too big to inject moves into a heap string that the
// send operation keeps until the transport is done with it.
#pragma once

#include "protocol.hpp"

#include <cstring>
#include <string>
#include <string_view>

namespace kinako::margo {

class OutMessage {
  public:
    static constexpr size_t kInline = 448;  // header + address + a few hundred payload bytes

    // `extra`: the bytes that will follow the header, so a big message allocates once.
    OutMessage(const MsgHeader& h, size_t extra) {
        if (sizeof(MsgHeader) + extra > kInline) {
            on_heap_ = true;
            heap_.reserve(sizeof(MsgHeader) + extra);
        }
        append(&h, sizeof(h));
    }
    OutMessage(const OutMessage&) = delete;
    OutMessage& operator=(const OutMessage&) = delete;

    void append(const void* p, size_t n) {
        if (n == 0) return;
        if (!on_heap_ && size_ + n > kInline) {
            heap_.assign(inline_, size_);
            on_heap_ = true;
        }
        if (on_heap_) {
            heap_.append(static_cast<const char*>(p), n);
        } else {
            std::memcpy(inline_ + size_, p, n);
        }
        size_ += n;
    }
    void append(std::string_view s) { append(s.data(), s.size()); }

    MsgHeader* header() { return reinterpret_cast<MsgHeader*>(on_heap_ ? heap_.data() : inline_); }
    const char* data() const { return on_heap_ ? heap_.data() : inline_; }
    size_t size() const { return size_; }
    // The bytes as a string the caller owns (for a send that outlives this object).
    std::string take() { return on_heap_ ? std::move(heap_) : std::string(inline_, size_); }

  private:
    alignas(MsgHeader) char inline_[kInline];
    size_t size_ = 0;
    bool on_heap_ = false;  // the bytes live in heap_, not inline_
    std::string heap_;
};

}  // namespace kinako::margo
