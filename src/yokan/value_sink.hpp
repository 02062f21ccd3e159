// Builds the "sizes then bytes" part of a response for operations that return values into
// the caller's space (get, fetch, doc_load, doc_fetch): one size per item (the value's size,
// YOKAN_KEY_NOT_FOUND or YOKAN_SIZE_TOO_SMALL) followed by the values that fit, in order.
#pragma once

#include "wire.hpp"

#include <algorithm>

namespace mochi::yokan::detail {

class ValueSink {
  public:
    // Reads the caller's space description (after the item list) from the request.
    ValueSink(wire::Reader& in, wire::Writer& out, size_t n) : out_(out), n_(n) {
        space_ = static_cast<wire::Space>(in.pod<uint8_t>());
        switch (space_) {
            case wire::Space::PerItem: caps_ = in.u64s_n(n); break;
            case wire::Space::PerItemSame: same_cap_ = in.pod<uint64_t>(); break;
            case wire::Space::Packed: remaining_ = in.pod<uint64_t>(); break;
            case wire::Space::Unlimited: break;
            default: throw Exception(Status::InvalidArgs, "malformed request: bad space kind");
        }
        reserve_for_values(n);
        sizes_at_ = out_.reserve_u64s(n);
        for (size_t i = 0; i < n; ++i) out_.set_u64(sizes_at_, i, YOKAN_KEY_NOT_FOUND);
    }

    // Item i (visited in increasing order) has this value.
    void put(size_t i, std::string_view v) {
        bool fits = false;
        switch (space_) {
            case wire::Space::PerItem: fits = v.size() <= caps_[i]; break;
            case wire::Space::PerItemSame: fits = v.size() <= same_cap_; break;
            case wire::Space::Packed:
                fits = !overflow_ && v.size() <= remaining_;
                if (fits) remaining_ -= v.size();
                else if (!overflow_) { overflow_ = true; overflow_at_ = i; }
                break;
            case wire::Space::Unlimited: fits = true; break;
        }
        if (fits) {
            out_.raw(v);
            out_.set_u64(sizes_at_, i, v.size());
        } else {
            out_.set_u64(sizes_at_, i, YOKAN_SIZE_TOO_SMALL);
        }
    }

    // Packed space: once one value did not fit, every later item is SIZE_TOO_SMALL too, so
    // the caller never mistakes a skipped value for a missing one.
    void finish() {
        if (!overflow_) return;
        for (size_t i = overflow_at_; i < n_; ++i) out_.set_u64(sizes_at_, i, YOKAN_SIZE_TOO_SMALL);
    }

  private:
    // Sizes the response once for the values the caller has room for, instead of letting it
    // double its way up (each step a copy of everything so far). Bounded: a caller's claimed
    // space is only a hint, and Unlimited has no bound to go by.
    void reserve_for_values(size_t n) {
        constexpr uint64_t kMaxReserve = uint64_t(64) << 20;
        uint64_t room = 0;
        if (space_ == wire::Space::PerItem)
            for (uint64_t c : caps_) room = c > kMaxReserve - room ? kMaxReserve : room + c;
        else if (space_ == wire::Space::PerItemSame)
            room = same_cap_ != 0 && n > kMaxReserve / same_cap_ ? kMaxReserve : n * same_cap_;
        else if (space_ == wire::Space::Packed)
            room = std::min<uint64_t>(remaining_, kMaxReserve);
        auto& s = out_.str();
        s.reserve(s.size() + n * sizeof(uint64_t) + room);
    }

    wire::Writer& out_;
    size_t n_;
    wire::Space space_;
    std::vector<uint64_t> caps_;
    uint64_t remaining_ = 0;
    uint64_t same_cap_ = 0;
    bool overflow_ = false;
    size_t overflow_at_ = 0;
    size_t sizes_at_ = 0;
};

}  // namespace mochi::yokan::detail
