// Listing handlers: list_keys and list_keyvals (iter is pages of list_keyvals on the client).
// The backend walks keys in order under a prefix; everything else (suffix filters,
// NO_PREFIX, IGNORE_KEYS/KEEP_LAST, CONSUME, the caller's buffer space) happens here.
#include "provider_impl.hpp"

namespace mochi::yokan::detail {

namespace {

// The caller's space for one column (keys or values) of a listing.
struct Column {
    wire::Space space = wire::Space::Unlimited;
    std::vector<uint64_t> caps;  // PerItem
    uint64_t remaining = 0;      // Packed
    bool overflow = false;

    void read(wire::Reader& r, wire::Space s, size_t count) {
        space = s;
        if (s == wire::Space::PerItem) caps = r.u64s_n(count);
        else if (s == wire::Space::Packed) remaining = r.pod<uint64_t>();
    }
    // Whether item i of this size fits (and takes its room when it does).
    bool fits(size_t i, size_t size) {
        switch (space) {
            case wire::Space::PerItem: return size <= caps[i];
            case wire::Space::Packed:
                if (overflow || size > remaining) { overflow = true; return false; }
                remaining -= size;
                return true;
            default: return true;
        }
    }
};

struct Item {
    std::string key, value;
};

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

static Status list_impl(ProviderImpl& p, const wire::RequestHeader& h, wire::Reader& r, wire::Writer& w,
                        bool with_values) {
    auto& b = p.kv_backend(h.mode);
    auto from_key = r.bytes();
    auto filter = r.bytes();
    auto space = static_cast<wire::Space>(r.pod<uint8_t>());
    if (space > wire::Space::Unlimited) throw Exception(Status::InvalidArgs, "malformed request: bad space kind");
    uint64_t count = r.pod<uint64_t>();
    if (space == wire::Space::PerItem && count > r.remaining() / sizeof(uint64_t))
        throw Exception(Status::InvalidArgs, "malformed request: bad count");
    if (count > (uint64_t(1) << 24))
        throw Exception(Status::InvalidArgs, "Invalid argument: list count " + std::to_string(count) + " is too large");
    Column kcol, vcol;
    kcol.read(r, space, count);
    if (with_values) vcol.read(r, space, count);
    if (!b.is_sorted())
        throw Exception(Status::OpUnsupported, "Unsupported operation or mode: backend \"" + b.type() +
                                                   "\" does not keep keys in order, so it cannot list them");
    const bool suffix = h.mode & YOKAN_MODE_SUFFIX;
    const bool strip = h.mode & YOKAN_MODE_NO_PREFIX;
    const bool keep_last = (h.mode & YOKAN_MODE_KEEP_LAST) == YOKAN_MODE_KEEP_LAST;
    const bool ignore_keys = (h.mode & YOKAN_MODE_IGNORE_KEYS) && with_values;
    // Unlimited (iter) pages still need a bound: count == 0 would mean "everything".
    std::vector<Item> items;
    items.reserve(std::min<uint64_t>(count, 4096));
    Status s = b.list(from_key, h.mode & YOKAN_MODE_INCLUSIVE, suffix ? std::string_view() : filter, with_values,
                      [&](std::string_view k, std::string_view v) {
                          if (items.size() >= count) return false;
                          if (suffix && !ends_with(k, filter)) return true;
                          items.push_back(Item{std::string(k), std::string(v)});
                          return items.size() < count;
                      });
    if (s != Status::Success) return s;
    if (h.mode & YOKAN_MODE_CONSUME) {
        std::vector<std::string_view> keys;
        for (auto& it : items) keys.push_back(it.key);
        Status es = b.erase(keys);
        if (es != Status::Success) return es;
    }
    size_t ks_at = w.reserve_u64s(count);
    size_t vs_at = with_values ? w.reserve_u64s(count) : 0;
    std::string values;  // values go after all keys
    for (size_t i = 0; i < count; ++i) {
        if (i >= items.size()) {
            w.set_u64(ks_at, i, YOKAN_NO_MORE_KEYS);
            if (with_values) w.set_u64(vs_at, i, YOKAN_NO_MORE_KEYS);
            continue;
        }
        std::string_view key = items[i].key;
        if (strip && !filter.empty()) {
            if (suffix) key.remove_suffix(filter.size());
            else key.remove_prefix(filter.size());
        }
        bool send_key = !ignore_keys || (keep_last && i + 1 == items.size());
        if (!send_key) key = {};
        if (kcol.fits(i, key.size())) {
            w.raw(key);
            w.set_u64(ks_at, i, key.size());
        } else {
            w.set_u64(ks_at, i, YOKAN_SIZE_TOO_SMALL);
        }
        if (with_values) {
            const std::string& v = items[i].value;
            if (vcol.fits(i, v.size())) {
                values += v;
                w.set_u64(vs_at, i, v.size());
            } else {
                w.set_u64(vs_at, i, YOKAN_SIZE_TOO_SMALL);
            }
        }
    }
    w.raw(values);
    return Status::Success;
}

Status ProviderImpl::list_keys(const wire::RequestHeader& h, wire::Reader& r, wire::Writer& w) {
    return list_impl(*this, h, r, w, false);
}

Status ProviderImpl::list_keyvals(const wire::RequestHeader& h, wire::Reader& r, wire::Writer& w) {
    return list_impl(*this, h, r, w, true);
}

}  // namespace mochi::yokan::detail
