// Database listing: list_keys / list_keyvals (per-buffer and packed) and iter, which pages
// through list_keyvals so any number of pairs can be visited with bounded memory.
#include "client_impl.hpp"

namespace mochi::yokan {

using detail::DatabaseImpl;
namespace rpc = detail::wire::rpc;
namespace wire = detail::wire;

namespace {

wire::RequestBytes list_request(int32_t mode, double timeout_ms, std::string_view from_key, std::string_view filter,
                         wire::Space space, size_t count) {
    auto req = DatabaseImpl::begin(mode, timeout_ms);
    wire::RequestWriter w(req);
    w.bytes(from_key);
    w.bytes(filter);
    w.pod<uint8_t>(static_cast<uint8_t>(space));
    w.pod<uint64_t>(count);
    return req;
}

bool valid(uint64_t size) { return size <= YOKAN_LAST_VALID_SIZE; }

}  // namespace

void Database::list_keys(std::string_view from_key, std::string_view filter, const std::vector<Buffer>& keys,
                         std::vector<uint64_t>& ksizes, int32_t mode, double timeout_ms) const {
    auto req = list_request(mode, timeout_ms, from_key, filter, wire::Space::PerItem, keys.size());
    wire::RequestWriter w(req);
    for (auto& b : keys) w.pod<uint64_t>(b.size);
    auto reply = impl_->call(rpc::list_keys, req, timeout_ms);
    ksizes = reply.reader.u64s_n(keys.size());
    for (size_t i = 0; i < keys.size(); ++i)
        if (valid(ksizes[i])) detail::copy_out(keys[i].data, reply.reader.raw(ksizes[i]));
}

void Database::list_keys_packed(std::string_view from_key, std::string_view filter, size_t count, Buffer keys,
                                std::vector<uint64_t>& ksizes, int32_t mode, double timeout_ms) const {
    auto req = list_request(mode, timeout_ms, from_key, filter, wire::Space::Packed, count);
    wire::RequestWriter w(req);
    w.pod<uint64_t>(keys.size);
    auto reply = impl_->call(rpc::list_keys, req, timeout_ms);
    ksizes = reply.reader.u64s_n(count);
    size_t off = 0;
    for (size_t i = 0; i < count; ++i) {
        if (!valid(ksizes[i])) continue;
        detail::copy_out(keys.data + off, reply.reader.raw(ksizes[i]));
        off += ksizes[i];
    }
}

void Database::list_keyvals(std::string_view from_key, std::string_view filter, const std::vector<Buffer>& keys,
                            const std::vector<Buffer>& values, std::vector<uint64_t>& ksizes,
                            std::vector<uint64_t>& vsizes, int32_t mode, double timeout_ms) const {
    if (keys.size() != values.size())
        throw Exception(Status::InvalidArgs, "Invalid argument: " + std::to_string(keys.size()) +
                                                 " key buffers but " + std::to_string(values.size()) + " value buffers");
    size_t n = keys.size();
    auto req = list_request(mode, timeout_ms, from_key, filter, wire::Space::PerItem, n);
    wire::RequestWriter w(req);
    for (auto& b : keys) w.pod<uint64_t>(b.size);
    for (auto& b : values) w.pod<uint64_t>(b.size);
    auto reply = impl_->call(rpc::list_keyvals, req, timeout_ms);
    ksizes = reply.reader.u64s_n(n);
    vsizes = reply.reader.u64s_n(n);
    for (size_t i = 0; i < n; ++i)
        if (valid(ksizes[i])) detail::copy_out(keys[i].data, reply.reader.raw(ksizes[i]));
    for (size_t i = 0; i < n; ++i)
        if (valid(vsizes[i])) detail::copy_out(values[i].data, reply.reader.raw(vsizes[i]));
}

void Database::list_keyvals_packed(std::string_view from_key, std::string_view filter, size_t count, Buffer keys,
                                   Buffer values, std::vector<uint64_t>& ksizes, std::vector<uint64_t>& vsizes,
                                   int32_t mode, double timeout_ms) const {
    auto req = list_request(mode, timeout_ms, from_key, filter, wire::Space::Packed, count);
    wire::RequestWriter w(req);
    w.pod<uint64_t>(keys.size);
    w.pod<uint64_t>(values.size);
    auto reply = impl_->call(rpc::list_keyvals, req, timeout_ms);
    ksizes = reply.reader.u64s_n(count);
    vsizes = reply.reader.u64s_n(count);
    size_t off = 0;
    for (size_t i = 0; i < count; ++i) {
        if (!valid(ksizes[i])) continue;
        detail::copy_out(keys.data + off, reply.reader.raw(ksizes[i]));
        off += ksizes[i];
    }
    off = 0;
    for (size_t i = 0; i < count; ++i) {
        if (!valid(vsizes[i])) continue;
        detail::copy_out(values.data + off, reply.reader.raw(vsizes[i]));
        off += vsizes[i];
    }
}

void Database::iter(std::string_view from_key, std::string_view filter, uint64_t count, const IterCallback& cb,
                    bool ignore_values, int32_t mode, double timeout_ms, size_t batch_size) const {
    const size_t page = batch_size ? batch_size : 128;
    // The provider renders keys (NO_PREFIX, a library filter's key_copy) and ends each page
    // with the untransformed last key, which later pages start after. The callback always
    // gets keys: IGNORE_KEYS/KEEP_LAST do not apply to iter.
    int32_t wire_mode = mode & ~YOKAN_MODE_KEEP_LAST;
    std::string last(from_key);
    uint64_t seen = 0;
    bool first = true;
    for (;;) {
        size_t want = count ? std::min<uint64_t>(page, count - seen) : page;
        if (want == 0) return;
        int32_t m = first ? wire_mode : (wire_mode & ~YOKAN_MODE_INCLUSIVE);
        auto req = list_request(m, timeout_ms, last, filter, wire::Space::Unlimited, want);
        auto reply = impl_->call(ignore_values ? rpc::list_keys : rpc::list_keyvals, req, timeout_ms);
        auto ksizes = reply.reader.u64s_n(want);
        std::vector<uint64_t> vsizes;
        if (!ignore_values) vsizes = reply.reader.u64s_n(want);
        std::vector<std::string_view> keys;
        for (size_t i = 0; i < want && valid(ksizes[i]); ++i) keys.push_back(reply.reader.raw(ksizes[i]));
        size_t got = keys.size();
        for (size_t i = 0; i < got; ++i) {
            if (ignore_values) {
                cb(seen + i, keys[i], nullptr);
            } else {
                std::string_view v = reply.reader.raw(vsizes[i]);
                cb(seen + i, keys[i], &v);
            }
        }
        seen += got;
        if (got < want) return;
        auto resume = reply.reader.bytes();
        last.assign(resume.data(), resume.size());
        first = false;
    }
}

}  // namespace mochi::yokan
