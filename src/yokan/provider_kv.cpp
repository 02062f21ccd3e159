// Key/value handlers: count, put, get/fetch, exists, length, erase, erase_range.
#include "provider_impl.hpp"
#include "value_sink.hpp"

namespace mochi::yokan::detail {

namespace {
constexpr int32_t kPutModes = YOKAN_MODE_APPEND | YOKAN_MODE_NEW_ONLY | YOKAN_MODE_EXIST_ONLY;
}

Status ProviderImpl::count(const wire::RequestHeader& h, wire::Reader&, wire::Writer& w) {
    uint64_t n = 0;
    Status s = kv_backend(h.mode).count(n);
    if (s == Status::Success) w.pod<uint64_t>(n);
    return s;
}

Status ProviderImpl::put(const wire::RequestHeader& h, wire::Reader& r, wire::Writer&) {
    auto& b = kv_backend(h.mode);
    auto keys = r.list();
    auto values = r.list();
    if (keys.size() != values.size())
        throw Exception(Status::InvalidArgs, "Invalid argument: " + std::to_string(keys.size()) + " keys but " +
                                                 std::to_string(values.size()) + " values");
    check_keys(keys);
    Status s = b.put(h.mode & kPutModes, keys, values);
    if (s == Status::Success && (h.mode & YOKAN_MODE_NOTIFY))
        for (auto k : keys) watcher.notify(k);
    return s;
}

// get and fetch: values into the caller's space. WAIT parks on each missing key in turn.
Status ProviderImpl::get(const wire::RequestHeader& h, wire::Reader& r, wire::Writer& w) {
    auto& b = kv_backend(h.mode);
    auto keys = r.list();
    check_keys(keys);
    ValueSink sink(r, w, keys.size());
    int32_t mode = h.mode & YOKAN_MODE_CONSUME;
    if (!(h.mode & YOKAN_MODE_WAIT)) {
        Status s = b.get(mode, keys, [&](size_t i, std::string_view v) { sink.put(i, v); });
        sink.finish();
        return s;
    }
    Deadline deadline(h.timeout_ms);
    for (size_t i = 0; i < keys.size(); ++i) {
        wait_for(keys[i], deadline, [&] {
            bool found = false;
            Status s = b.get(mode, {keys[i]}, [&](size_t, std::string_view v) {
                found = true;
                sink.put(i, v);
            });
            if (s != Status::Success) throw Exception(s);
            return found;
        });
    }
    sink.finish();
    return Status::Success;
}

Status ProviderImpl::exists(const wire::RequestHeader& h, wire::Reader& r, wire::Writer& w) {
    auto& b = kv_backend(h.mode);
    auto keys = r.list();
    check_keys(keys);
    std::vector<uint8_t> found(keys.size(), 0);
    Status s = b.exists(keys, found);
    if (s != Status::Success) return s;
    if (h.mode & YOKAN_MODE_WAIT) {
        Deadline deadline(h.timeout_ms);
        for (size_t i = 0; i < keys.size(); ++i) {
            if (found[i]) continue;
            wait_for(keys[i], deadline, [&] {
                std::vector<uint8_t> one(1, 0);
                Status s1 = b.exists({keys[i]}, one);
                if (s1 != Status::Success) throw Exception(s1);
                return one[0] != 0;
            });
            found[i] = 1;
        }
    }
    w.raw(std::string_view(reinterpret_cast<const char*>(found.data()), found.size()));
    return Status::Success;
}

Status ProviderImpl::length(const wire::RequestHeader& h, wire::Reader& r, wire::Writer& w) {
    auto& b = kv_backend(h.mode);
    auto keys = r.list();
    check_keys(keys);
    std::vector<uint64_t> sizes(keys.size(), YOKAN_KEY_NOT_FOUND);
    Status s = b.length(keys, sizes);
    if (s != Status::Success) return s;
    if (h.mode & YOKAN_MODE_WAIT) {
        Deadline deadline(h.timeout_ms);
        for (size_t i = 0; i < keys.size(); ++i) {
            if (sizes[i] != YOKAN_KEY_NOT_FOUND) continue;
            wait_for(keys[i], deadline, [&] {
                std::vector<uint64_t> one(1, YOKAN_KEY_NOT_FOUND);
                Status s1 = b.length({keys[i]}, one);
                if (s1 != Status::Success) throw Exception(s1);
                sizes[i] = one[0];
                return one[0] != YOKAN_KEY_NOT_FOUND;
            });
        }
    }
    w.raw(std::string_view(reinterpret_cast<const char*>(sizes.data()), sizes.size() * sizeof(uint64_t)));
    return Status::Success;
}

Status ProviderImpl::erase(const wire::RequestHeader& h, wire::Reader& r, wire::Writer&) {
    auto& b = kv_backend(h.mode);
    auto keys = r.list();
    check_keys(keys);
    if (!(h.mode & YOKAN_MODE_WAIT)) return b.erase(keys);
    // WAIT: each key must appear before it is erased.
    Deadline deadline(h.timeout_ms);
    for (size_t i = 0; i < keys.size(); ++i) {
        wait_for(keys[i], deadline, [&] {
            std::vector<uint8_t> one(1, 0);
            Status s1 = b.exists({keys[i]}, one);
            if (s1 != Status::Success) throw Exception(s1);
            return one[0] != 0;
        });
        Status s = b.erase({keys[i]});
        if (s != Status::Success) return s;
    }
    return Status::Success;
}

Status ProviderImpl::erase_range(const wire::RequestHeader& h, wire::Reader& r, wire::Writer&) {
    auto& b = kv_backend(h.mode);
    auto prefix = r.bytes();
    if (!b.is_sorted())
        throw Exception(Status::OpUnsupported,
                        "Unsupported operation or mode: erase_range needs a sorted backend, \"" + b.type() + "\" is not");
    // Erase in batches so a huge range never needs all its keys in memory at once.
    for (;;) {
        std::vector<std::string> batch;
        Status s = b.list({}, false, prefix, false, [&](std::string_view k, std::string_view) {
            batch.emplace_back(k);
            return batch.size() < 4096;
        });
        if (s != Status::Success) return s;
        if (batch.empty()) return Status::Success;
        s = b.erase(KeyList(batch.begin(), batch.end()));
        if (s != Status::Success) return s;
    }
}

}  // namespace mochi::yokan::detail
