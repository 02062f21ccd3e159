// Listing handlers: list_keys and list_keyvals (iter is pages of list_keyvals on the client).
// The backend walks keys in order, from a prefix when the filter names one; the request's
// filter (filters/: prefix, suffix, Lua or library) decides which keys are part of the result
// and how they read (NO_PREFIX); IGNORE_KEYS/KEEP_LAST, CONSUME and the caller's buffer space
// are handled here.
//
// Pagination: a page holds up to `count` keys that pass the filter, and the caller resumes
// after the last key returned (Yokan's contract: pass the last key as the next from_key).
// Keys a filter rejected after that one are examined again by the next page, which is only
// work, never a wrong result. Key-transforming filters (NO_PREFIX, a library's key_copy)
// return keys that cannot serve as from_key, so iter pages (Space::Unlimited) also carry the
// untransformed last key at the end of the reply, for the client to resume from.
#include "filters/filter.hpp"
#include "provider_impl.hpp"

#include <exception>

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

// The pairs a listing collected, copied out while the backend held its lock: all bytes in
// one buffer (one allocation per page, not two per item), items as offsets into it.
class Items {
  public:
    void reserve(size_t n, size_t bytes) {
        spans_.reserve(n);
        bytes_.reserve(bytes);
    }
    void add(std::string_view k, std::string_view v) {
        spans_.push_back({bytes_.size(), k.size(), v.size()});
        bytes_.append(k);
        bytes_.append(v);
    }
    size_t size() const { return spans_.size(); }
    bool empty() const { return spans_.empty(); }
    std::string_view key(size_t i) const { return {bytes_.data() + spans_[i].at, spans_[i].klen}; }
    std::string_view value(size_t i) const {
        return {bytes_.data() + spans_[i].at + spans_[i].klen, spans_[i].vlen};
    }

  private:
    struct Span {
        size_t at, klen, vlen;
    };
    std::vector<Span> spans_;
    std::string bytes_;
};

// Appends what copy writes (at most size bytes) to out; returns the size written.
template <typename Copy>
size_t append_copy(std::string& out, size_t size, Copy&& copy) {
    size_t at = out.size();
    out.resize(at + size);
    size_t n = std::min(size, copy(&out[at], size));
    out.resize(at + n);
    return n;
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
    auto filt = make_kv_filter(h.mode, filter);
    const bool need_values = with_values || filt->requires_value() || (h.mode & YOKAN_MODE_FILTER_VALUE);
    const bool keep_last = (h.mode & YOKAN_MODE_KEEP_LAST) == YOKAN_MODE_KEEP_LAST;
    const bool ignore_keys = (h.mode & YOKAN_MODE_IGNORE_KEYS) && with_values;
    // Unlimited (iter) pages still need a bound: count == 0 would mean "everything".
    Items items;
    items.reserve(std::min<uint64_t>(count, 4096), std::min<uint64_t>(count, 4096) * (with_values ? 96 : 32));
    // What a filter throws is kept and rethrown once the backend is done: a backend may hold
    // locks or open transactions while it visits.
    std::exception_ptr failure;
    Status s = b.list(from_key, h.mode & YOKAN_MODE_INCLUSIVE, filt->key_prefix(), need_values,
                      [&](std::string_view k, std::string_view v) {
                          if (items.size() >= count) return false;
                          try {
                              if (!filt->check(k, v)) return true;
                          } catch (...) {
                              failure = std::current_exception();
                              return false;
                          }
                          items.add(k, with_values ? v : std::string_view());
                          return items.size() < count;
                      });
    if (failure) std::rethrow_exception(failure);
    if (s != Status::Success) return s;
    if (h.mode & YOKAN_MODE_CONSUME) {
        std::vector<std::string_view> keys;
        for (size_t i = 0; i < items.size(); ++i) keys.push_back(items.key(i));
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
        std::string_view key = items.key(i);
        bool send_key = !ignore_keys || (keep_last && i + 1 == items.size());
        size_t ksize = send_key ? filt->key_size_from(key) : 0;
        if (kcol.fits(i, ksize)) {
            if (ksize) ksize = append_copy(w.str(), ksize, [&](char* d, size_t m) { return filt->key_copy(d, m, key); });
            w.set_u64(ks_at, i, ksize);
        } else {
            w.set_u64(ks_at, i, YOKAN_SIZE_TOO_SMALL);
        }
        if (with_values) {
            std::string_view v = items.value(i);
            size_t vsize = filt->value_size_from(v);
            if (vcol.fits(i, vsize)) {
                if (vsize) vsize = append_copy(values, vsize, [&](char* d, size_t m) { return filt->value_copy(d, m, v); });
                w.set_u64(vs_at, i, vsize);
            } else {
                w.set_u64(vs_at, i, YOKAN_SIZE_TOO_SMALL);
            }
        }
    }
    w.raw(values);
    if (space == wire::Space::Unlimited) w.bytes(items.empty() ? std::string_view() : items.key(items.size() - 1));
    return Status::Success;
}

Status ProviderImpl::list_keys(const wire::RequestHeader& h, wire::Reader& r, wire::Writer& w) {
    return list_impl(*this, h, r, w, false);
}

Status ProviderImpl::list_keyvals(const wire::RequestHeader& h, wire::Reader& r, wire::Writer& w) {
    return list_impl(*this, h, r, w, true);
}

}  // namespace mochi::yokan::detail
