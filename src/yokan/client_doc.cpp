// Collections and documents.
#include "client_impl.hpp"

namespace mochi::yokan {

using detail::DatabaseImpl;
namespace rpc = detail::wire::rpc;
namespace wire = detail::wire;

namespace {

wire::RequestBytes coll_request(int32_t mode, double timeout_ms, std::string_view name) {
    if (name.empty()) throw Exception(Status::InvalidArgs, "Invalid argument: empty collection name");
    auto req = DatabaseImpl::begin(mode, timeout_ms);
    wire::RequestWriter w(req);
    w.bytes(name);
    return req;
}

void write_ids(wire::RequestWriter& w, const IdList& ids) { w.u64s(ids); }

bool valid(uint64_t size) { return size <= YOKAN_LAST_VALID_SIZE; }

}  // namespace

Collection Database::create_collection(std::string_view name, int32_t mode, double timeout_ms) const {
    impl_->call(rpc::coll_create, coll_request(mode, timeout_ms, name), timeout_ms);
    return Collection(name, *this);
}

void Database::drop_collection(std::string_view name, int32_t mode, double timeout_ms) const {
    impl_->call(rpc::coll_drop, coll_request(mode, timeout_ms, name), timeout_ms);
}

bool Database::collection_exists(std::string_view name, int32_t mode, double timeout_ms) const {
    auto reply = impl_->call(rpc::coll_exists, coll_request(mode, timeout_ms, name), timeout_ms);
    return reply.reader.pod<uint8_t>() != 0;
}

Collection Database::open_collection(std::string_view name) const { return Collection(name, *this); }

uint64_t Collection::size(int32_t mode, double timeout_ms) const {
    auto reply = db_.impl_->call(rpc::coll_size, coll_request(mode, timeout_ms, name_), timeout_ms);
    return reply.reader.pod<uint64_t>();
}

uint64_t Collection::last_id(int32_t mode, double timeout_ms) const {
    auto reply = db_.impl_->call(rpc::coll_last_id, coll_request(mode, timeout_ms, name_), timeout_ms);
    return reply.reader.pod<uint64_t>();
}

uint64_t Collection::store(std::string_view doc, int32_t mode, double timeout_ms) const {
    return store_multi({doc}, mode, timeout_ms)[0];
}

IdList Collection::store_multi(const KeyList& docs, int32_t mode, double timeout_ms) const {
    auto req = coll_request(mode, timeout_ms, name_);
    wire::RequestWriter w(req);
    w.list(docs);
    auto reply = db_.impl_->call(rpc::doc_store, req, timeout_ms);
    return reply.reader.u64s_n(docs.size());
}

void Collection::update(uint64_t id, std::string_view doc, int32_t mode, double timeout_ms) const {
    update_multi({id}, {doc}, mode, timeout_ms);
}

void Collection::update_multi(const IdList& ids, const KeyList& docs, int32_t mode, double timeout_ms) const {
    if (ids.size() != docs.size())
        throw Exception(Status::InvalidArgs, "Invalid argument: " + std::to_string(ids.size()) + " ids but " +
                                                 std::to_string(docs.size()) + " documents");
    auto req = coll_request(mode, timeout_ms, name_);
    wire::RequestWriter w(req);
    write_ids(w, ids);
    w.list(docs);
    db_.impl_->call(rpc::doc_update, req, timeout_ms);
}

size_t Collection::load(uint64_t id, Buffer doc, int32_t mode, double timeout_ms) const {
    std::vector<uint64_t> sizes;
    load_multi({id}, {doc}, sizes, mode, timeout_ms);
    if (sizes[0] == YOKAN_KEY_NOT_FOUND) throw Exception(Status::NotFound, "Key not found");
    if (sizes[0] == YOKAN_SIZE_TOO_SMALL) throw Exception(Status::SizeError, "Buffer too small for the document");
    return sizes[0];
}

void Collection::load_multi(const IdList& ids, const std::vector<Buffer>& docs, std::vector<uint64_t>& sizes,
                            int32_t mode, double timeout_ms) const {
    if (ids.size() != docs.size())
        throw Exception(Status::InvalidArgs, "Invalid argument: " + std::to_string(ids.size()) + " ids but " +
                                                 std::to_string(docs.size()) + " buffers");
    auto req = coll_request(mode, timeout_ms, name_);
    wire::RequestWriter w(req);
    write_ids(w, ids);
    detail::write_per_item(w, docs);
    auto reply = db_.impl_->call(rpc::doc_load, req, timeout_ms);
    sizes = reply.reader.u64s_n(ids.size());
    for (size_t i = 0; i < ids.size(); ++i)
        if (valid(sizes[i])) detail::copy_out(docs[i].data, reply.reader.raw(sizes[i]));
}

void Collection::load_packed(const IdList& ids, Buffer docs, std::vector<uint64_t>& sizes, int32_t mode,
                             double timeout_ms) const {
    auto req = coll_request(mode, timeout_ms, name_);
    wire::RequestWriter w(req);
    write_ids(w, ids);
    w.pod<uint8_t>(static_cast<uint8_t>(wire::Space::Packed));
    w.pod<uint64_t>(docs.size);
    auto reply = db_.impl_->call(rpc::doc_load, req, timeout_ms);
    sizes = reply.reader.u64s_n(ids.size());
    size_t off = 0;
    for (size_t i = 0; i < ids.size(); ++i) {
        if (!valid(sizes[i])) continue;
        detail::copy_out(docs.data + off, reply.reader.raw(sizes[i]));
        off += sizes[i];
    }
}

void Collection::fetch_multi(const IdList& ids, const FetchCallback& cb, int32_t mode, double timeout_ms,
                             size_t batch_size) const {
    size_t step = batch_size ? batch_size : ids.size();
    for (size_t start = 0; start < ids.size(); start += step) {
        size_t n = std::min(step, ids.size() - start);
        IdList part(ids.begin() + start, ids.begin() + start + n);
        auto req = coll_request(mode, timeout_ms, name_);
        wire::RequestWriter w(req);
        write_ids(w, part);
        w.pod<uint8_t>(static_cast<uint8_t>(wire::Space::Unlimited));
        auto reply = db_.impl_->call(rpc::doc_fetch, req, timeout_ms);
        auto sizes = reply.reader.u64s_n(n);
        for (size_t i = 0; i < n; ++i) {
            if (valid(sizes[i])) {
                std::string_view d = reply.reader.raw(sizes[i]);
                cb(start + i, part[i], &d);
            } else {
                cb(start + i, part[i], nullptr);
            }
        }
    }
}

std::vector<uint64_t> Collection::length_multi(const IdList& ids, int32_t mode, double timeout_ms) const {
    auto req = coll_request(mode, timeout_ms, name_);
    wire::RequestWriter w(req);
    write_ids(w, ids);
    auto reply = db_.impl_->call(rpc::doc_length, req, timeout_ms);
    return reply.reader.u64s_n(ids.size());
}

void Collection::erase_multi(const IdList& ids, int32_t mode, double timeout_ms) const {
    auto req = coll_request(mode, timeout_ms, name_);
    wire::RequestWriter w(req);
    write_ids(w, ids);
    db_.impl_->call(rpc::doc_erase, req, timeout_ms);
}

namespace {
wire::RequestBytes list_docs_request(int32_t mode, double timeout_ms, const std::string& name, uint64_t start_id,
                              std::string_view filter, wire::Space space, size_t count) {
    auto req = coll_request(mode, timeout_ms, name);
    wire::RequestWriter w(req);
    w.pod<uint64_t>(start_id);
    w.bytes(filter);
    w.pod<uint8_t>(static_cast<uint8_t>(space));
    w.pod<uint64_t>(count);
    return req;
}
}  // namespace

void Collection::list_docs(uint64_t start_id, std::string_view filter, const std::vector<Buffer>& docs, IdList& ids,
                           std::vector<uint64_t>& sizes, int32_t mode, double timeout_ms) const {
    auto req = list_docs_request(mode, timeout_ms, name_, start_id, filter, wire::Space::PerItem, docs.size());
    wire::RequestWriter w(req);
    for (auto& b : docs) w.pod<uint64_t>(b.size);
    auto reply = db_.impl_->call(rpc::doc_list, req, timeout_ms);
    ids = reply.reader.u64s_n(docs.size());
    sizes = reply.reader.u64s_n(docs.size());
    if (mode & YOKAN_MODE_IGNORE_DOCS) return;
    for (size_t i = 0; i < docs.size(); ++i)
        if (valid(sizes[i])) detail::copy_out(docs[i].data, reply.reader.raw(sizes[i]));
}

void Collection::list_docs_packed(uint64_t start_id, std::string_view filter, size_t count, Buffer docs, IdList& ids,
                                  std::vector<uint64_t>& sizes, int32_t mode, double timeout_ms) const {
    auto req = list_docs_request(mode, timeout_ms, name_, start_id, filter, wire::Space::Packed, count);
    wire::RequestWriter w(req);
    w.pod<uint64_t>(docs.size);
    auto reply = db_.impl_->call(rpc::doc_list, req, timeout_ms);
    ids = reply.reader.u64s_n(count);
    sizes = reply.reader.u64s_n(count);
    if (mode & YOKAN_MODE_IGNORE_DOCS) return;
    size_t off = 0;
    for (size_t i = 0; i < count; ++i) {
        if (!valid(sizes[i])) continue;
        detail::copy_out(docs.data + off, reply.reader.raw(sizes[i]));
        off += sizes[i];
    }
}

void Collection::iter(uint64_t start_id, std::string_view filter, uint64_t count, const FetchCallback& cb,
                      int32_t mode, double timeout_ms, size_t batch_size) const {
    const size_t page = batch_size ? batch_size : 128;
    uint64_t seen = 0, next = start_id;
    for (;;) {
        size_t want = count ? std::min<uint64_t>(page, count - seen) : page;
        if (want == 0) return;
        auto req = list_docs_request(mode & ~YOKAN_MODE_IGNORE_DOCS, timeout_ms, name_, next, filter,
                                     wire::Space::Unlimited, want);
        auto reply = db_.impl_->call(rpc::doc_list, req, timeout_ms);
        auto ids = reply.reader.u64s_n(want);
        auto sizes = reply.reader.u64s_n(want);
        size_t got = 0;
        for (; got < want && ids[got] != YOKAN_NO_MORE_DOCS; ++got) {
            std::string_view d = reply.reader.raw(sizes[got]);
            cb(seen + got, ids[got], &d);
        }
        seen += got;
        if (got < want) return;
        next = ids[got - 1] + 1;
    }
}

}  // namespace mochi::yokan
