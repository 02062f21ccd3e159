// Collection and document handlers.
#include "filters/filter.hpp"
#include "provider_impl.hpp"
#include "value_sink.hpp"

#include <exception>

namespace mochi::yokan::detail {

namespace {
std::string_view read_name(wire::Reader& r) {
    auto name = r.bytes();
    if (name.empty()) throw Exception(Status::InvalidArgs, "Invalid argument: empty collection name");
    return name;
}
// The watcher key of a document (collection + id), marked so it never equals the watch of a
// plain key a caller might wait on.
std::string doc_watch_key(std::string_view coll, uint64_t id) {
    std::string k("\x02yk_doc_watch\0", 14);
    k.append(coll.data(), coll.size());
    k.push_back('\0');
    k.append(reinterpret_cast<const char*>(&id), sizeof(id));
    return k;
}
}  // namespace

Status ProviderImpl::coll_create(const wire::RequestHeader& h, wire::Reader& r, wire::Writer&) {
    auto name = read_name(r);
    Status s = doc_backend(h.mode).coll_create(name);
    if (s == Status::KeyExists)
        throw Exception(Status::KeyExists, "Key exists: collection \"" + std::string(name) + "\" already exists");
    return s;
}

Status ProviderImpl::coll_drop(const wire::RequestHeader& h, wire::Reader& r, wire::Writer&) {
    return doc_backend(h.mode).coll_drop(read_name(r));
}

Status ProviderImpl::coll_exists(const wire::RequestHeader& h, wire::Reader& r, wire::Writer& w) {
    bool e = false;
    Status s = doc_backend(h.mode).coll_exists(read_name(r), e);
    if (s == Status::Success) w.pod<uint8_t>(e ? 1 : 0);
    return s;
}

Status ProviderImpl::coll_last_id(const wire::RequestHeader& h, wire::Reader& r, wire::Writer& w) {
    uint64_t id = 0;
    Status s = doc_backend(h.mode).coll_last_id(read_name(r), id);
    if (s == Status::Success) w.pod<uint64_t>(id);
    return s;
}

Status ProviderImpl::coll_size(const wire::RequestHeader& h, wire::Reader& r, wire::Writer& w) {
    uint64_t n = 0;
    Status s = doc_backend(h.mode).coll_size(read_name(r), n);
    if (s == Status::Success) w.pod<uint64_t>(n);
    return s;
}

Status ProviderImpl::doc_store(const wire::RequestHeader& h, wire::Reader& r, wire::Writer& w) {
    auto& b = doc_backend(h.mode);
    auto name = read_name(r);
    auto docs = r.list();
    IdList ids;
    Status s = b.doc_store(h.mode, name, docs, ids);
    if (s != Status::Success) return s;
    w.raw(std::string_view(reinterpret_cast<const char*>(ids.data()), ids.size() * 8));
    if (h.mode & YOKAN_MODE_NOTIFY)
        for (auto id : ids) watcher.notify(doc_watch_key(name, id));
    return s;
}

Status ProviderImpl::doc_update(const wire::RequestHeader& h, wire::Reader& r, wire::Writer&) {
    auto& b = doc_backend(h.mode);
    auto name = read_name(r);
    auto ids = r.u64s();
    auto docs = r.list();
    if (ids.size() != docs.size())
        throw Exception(Status::InvalidArgs, "Invalid argument: " + std::to_string(ids.size()) + " ids but " +
                                                 std::to_string(docs.size()) + " documents");
    Status s = b.doc_update(h.mode, name, ids, docs);
    if (s == Status::InvalidId) throw Exception(s, "Invalid document id: update of a document that does not exist");
    if (s == Status::Success && (h.mode & YOKAN_MODE_NOTIFY))
        for (auto id : ids) watcher.notify(doc_watch_key(name, id));
    return s;
}

Status ProviderImpl::doc_load(const wire::RequestHeader& h, wire::Reader& r, wire::Writer& w) {
    auto& b = doc_backend(h.mode);
    auto name = read_name(r);
    auto ids = r.u64s();
    ValueSink sink(r, w, ids.size());
    int32_t mode = h.mode & YOKAN_MODE_CONSUME;
    if (!(h.mode & YOKAN_MODE_WAIT)) {
        Status s = b.doc_load(mode, name, ids, [&](size_t i, std::string_view v) { sink.put(i, v); });
        sink.finish();
        return s;
    }
    // WAIT: each missing id is waited for until a NOTIFY store or update creates it.
    Deadline deadline(h.timeout_ms);
    for (size_t i = 0; i < ids.size(); ++i) {
        wait_for(doc_watch_key(name, ids[i]), deadline, [&] {
            bool found = false;
            Status s = b.doc_load(mode, name, {ids[i]}, [&](size_t, std::string_view v) {
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

Status ProviderImpl::doc_length(const wire::RequestHeader& h, wire::Reader& r, wire::Writer& w) {
    auto& b = doc_backend(h.mode);
    auto name = read_name(r);
    auto ids = r.u64s();
    std::vector<uint64_t> sizes(ids.size(), YOKAN_KEY_NOT_FOUND);
    Status s = b.doc_length(name, ids, sizes);
    if (s == Status::Success)
        w.raw(std::string_view(reinterpret_cast<const char*>(sizes.data()), sizes.size() * sizeof(uint64_t)));
    return s;
}

Status ProviderImpl::doc_erase(const wire::RequestHeader& h, wire::Reader& r, wire::Writer&) {
    auto& b = doc_backend(h.mode);
    auto name = read_name(r);
    auto ids = r.u64s();
    return b.doc_erase(name, ids);
}

// Documents with id >= start_id that pass the request's filter (filters/: a document prefix
// by default, Lua or a library with those modes): ids[count], sizes[count], then the
// documents as the filter renders them (none with IGNORE_DOCS).
Status ProviderImpl::doc_list(const wire::RequestHeader& h, wire::Reader& r, wire::Writer& w) {
    auto& b = doc_backend(h.mode);
    auto name = read_name(r);
    uint64_t start_id = r.pod<uint64_t>();
    auto filter = r.bytes();
    auto space = static_cast<wire::Space>(r.pod<uint8_t>());
    uint64_t count = r.pod<uint64_t>();
    if (count > (uint64_t(1) << 24))
        throw Exception(Status::InvalidArgs, "Invalid argument: list count " + std::to_string(count) + " is too large");
    std::vector<uint64_t> caps;
    uint64_t remaining = 0;
    if (space == wire::Space::PerItem) caps = r.u64s_n(count);
    else if (space == wire::Space::Packed) remaining = r.pod<uint64_t>();
    else if (space != wire::Space::Unlimited) throw Exception(Status::InvalidArgs, "malformed request: bad space kind");
    auto filt = make_doc_filter(h.mode, filter);
    const bool ignore_docs = h.mode & YOKAN_MODE_IGNORE_DOCS;
    size_t ids_at = w.reserve_u64s(count);
    size_t sizes_at = w.reserve_u64s(count);
    size_t i = 0;
    bool overflow = false;
    // What the filter throws is rethrown once the backend is done (it may hold locks).
    std::exception_ptr failure;
    Status s = b.doc_list(name, start_id, [&](uint64_t id, std::string_view doc) {
        if (i >= count) return false;
        try {
            if (!filt->check(name, id, doc)) return true;
            w.set_u64(ids_at, i, id);
            size_t size = filt->doc_size_from(name, doc);
            bool fits = true;
            if (!ignore_docs) {
                if (space == wire::Space::PerItem) fits = size <= caps[i];
                else if (space == wire::Space::Packed) {
                    fits = !overflow && size <= remaining;
                    if (fits) remaining -= size;
                    else overflow = true;
                }
                if (fits && size) {
                    std::string& out = w.str();
                    size_t at = out.size();
                    out.resize(at + size);
                    size = std::min(size, filt->doc_copy(name, &out[at], size, doc));
                    out.resize(at + size);
                }
            }
            w.set_u64(sizes_at, i, fits ? size : YOKAN_SIZE_TOO_SMALL);
        } catch (...) {
            failure = std::current_exception();
            return false;
        }
        ++i;
        return i < count;
    });
    if (failure) std::rethrow_exception(failure);
    if (s != Status::Success) return s;
    for (; i < count; ++i) {
        w.set_u64(ids_at, i, YOKAN_NO_MORE_DOCS);
        w.set_u64(sizes_at, i, YOKAN_NO_MORE_DOCS);
    }
    return Status::Success;
}

}  // namespace mochi::yokan::detail
