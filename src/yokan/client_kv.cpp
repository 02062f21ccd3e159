// Database key/value operations. Singles are batches of one: the same RPC and wire format,
// but encoded from a one-item array on the stack and decoded in place, so a single put or
// get allocates no vectors (they showed up as a quarter of a single op's client-side cost).
#include "client_impl.hpp"

#include <array>

namespace mochi::yokan {

using detail::DatabaseImpl;
namespace rpc = detail::wire::rpc;

namespace {

// One key (or value) as a list, without a heap-allocated vector.
using One = std::array<std::string_view, 1>;

template <typename Keys>
void check_keys(const Keys& keys) {
    for (size_t i = 0; i < keys.size(); ++i)
        if (keys[i].empty())
            throw Exception(Status::InvalidArgs, "Invalid argument: key " + std::to_string(i) + " is empty");
}

// Reads sizes[n] then the values that fit, handing each to on_value(i, view).
template <typename OnValue>
void read_values(detail::wire::Reader& r, size_t n, std::vector<uint64_t>& sizes, OnValue&& on_value) {
    sizes = r.u64s_n(n);
    for (size_t i = 0; i < n; ++i)
        if (sizes[i] <= YOKAN_LAST_VALID_SIZE) on_value(i, r.raw(sizes[i]));
}

// A request made of the header and one list of keys (exists, length, erase, ...).
template <typename Keys>
detail::wire::RequestBytes keys_request(const Keys& keys, int32_t mode, double timeout_ms) {
    check_keys(keys);
    auto req = DatabaseImpl::begin(mode, timeout_ms);
    detail::wire::RequestWriter w(req);
    w.list(keys);
    return req;
}

template <typename Keys>
void put_list(const DatabaseImpl& db, const Keys& keys, const Keys& values, int32_t mode, double timeout_ms) {
    if (keys.size() != values.size())
        throw Exception(Status::InvalidArgs, "Invalid argument: " + std::to_string(keys.size()) + " keys but " +
                                                 std::to_string(values.size()) + " values");
    auto req = keys_request(keys, mode, timeout_ms);
    detail::wire::RequestWriter w(req);
    w.list(values);
    db.call(rpc::put, req, timeout_ms);
}

}  // namespace

uint64_t Database::count(int32_t mode, double timeout_ms) const {
    auto req = DatabaseImpl::begin(mode, timeout_ms);
    auto reply = impl_->call(rpc::count, req, timeout_ms);
    return reply.reader.pod<uint64_t>();
}

void Database::put(std::string_view key, std::string_view value, int32_t mode, double timeout_ms) const {
    put_list(*impl_, One{key}, One{value}, mode, timeout_ms);
}

void Database::put_multi(const KeyList& keys, const KeyList& values, int32_t mode, double timeout_ms) const {
    put_list(*impl_, keys, values, mode, timeout_ms);
}

size_t Database::get(std::string_view key, Buffer value, int32_t mode, double timeout_ms) const {
    auto req = keys_request(One{key}, mode, timeout_ms);
    detail::wire::RequestWriter w(req);
    detail::write_per_item(w, value);
    auto reply = impl_->call(rpc::get, req, timeout_ms);
    uint64_t size = reply.reader.pod<uint64_t>();
    if (size == YOKAN_KEY_NOT_FOUND) throw Exception(Status::NotFound, "Key not found");
    if (size == YOKAN_SIZE_TOO_SMALL) throw Exception(Status::SizeError, "Buffer too small for the value");
    if (size <= YOKAN_LAST_VALID_SIZE) detail::copy_out(value.data, reply.reader.raw(size));
    return size;
}

void Database::get_multi(const KeyList& keys, const std::vector<Buffer>& values, std::vector<uint64_t>& sizes,
                         int32_t mode, double timeout_ms) const {
    if (keys.size() != values.size())
        throw Exception(Status::InvalidArgs, "Invalid argument: " + std::to_string(keys.size()) + " keys but " +
                                                 std::to_string(values.size()) + " buffers");
    check_keys(keys);
    auto req = DatabaseImpl::begin(mode, timeout_ms);
    detail::wire::RequestWriter w(req);
    w.list(keys);
    detail::write_per_item(w, values);
    auto reply = impl_->call(rpc::get, req, timeout_ms);
    read_values(reply.reader, keys.size(), sizes,
                [&](size_t i, std::string_view v) { detail::copy_out(values[i].data, v); });
}

void Database::get_packed(const KeyList& keys, Buffer values, std::vector<uint64_t>& sizes, int32_t mode,
                          double timeout_ms) const {
    check_keys(keys);
    auto req = DatabaseImpl::begin(mode, timeout_ms);
    detail::wire::RequestWriter w(req);
    w.list(keys);
    w.pod<uint8_t>(static_cast<uint8_t>(detail::wire::Space::Packed));
    w.pod<uint64_t>(values.size);
    auto reply = impl_->call(rpc::get, req, timeout_ms);
    size_t offset = 0;
    read_values(reply.reader, keys.size(), sizes, [&](size_t, std::string_view v) {
        detail::copy_out(values.data + offset, v);
        offset += v.size();
    });
}

void Database::fetch_multi(const KeyList& keys, const FetchCallback& cb, int32_t mode, double timeout_ms,
                           size_t batch_size) const {
    check_keys(keys);
    size_t step = batch_size ? batch_size : keys.size();
    for (size_t start = 0; start < keys.size(); start += step) {
        size_t n = std::min(step, keys.size() - start);
        KeyList part(keys.begin() + start, keys.begin() + start + n);
        auto req = DatabaseImpl::begin(mode, timeout_ms);
        detail::wire::RequestWriter w(req);
        w.list(part);
        w.pod<uint8_t>(static_cast<uint8_t>(detail::wire::Space::Unlimited));
        auto reply = impl_->call(rpc::fetch, req, timeout_ms);
        std::vector<uint64_t> sizes = reply.reader.u64s_n(n);
        for (size_t i = 0; i < n; ++i) {
            if (sizes[i] <= YOKAN_LAST_VALID_SIZE) {
                std::string_view v = reply.reader.raw(sizes[i]);
                cb(start + i, &v);
            } else {
                cb(start + i, nullptr);
            }
        }
    }
}

bool Database::exists(std::string_view key, int32_t mode, double timeout_ms) const {
    auto reply = impl_->call(rpc::exists, keys_request(One{key}, mode, timeout_ms), timeout_ms);
    return reply.reader.raw(1)[0] != 0;
}

std::vector<uint8_t> Database::exists_multi(const KeyList& keys, int32_t mode, double timeout_ms) const {
    auto req = keys_request(keys, mode, timeout_ms);
    auto reply = impl_->call(rpc::exists, req, timeout_ms);
    auto raw = reply.reader.raw(keys.size());
    return std::vector<uint8_t>(raw.begin(), raw.end());
}

uint64_t Database::length(std::string_view key, int32_t mode, double timeout_ms) const {
    auto reply = impl_->call(rpc::length, keys_request(One{key}, mode, timeout_ms), timeout_ms);
    uint64_t size = reply.reader.pod<uint64_t>();
    if (size == YOKAN_KEY_NOT_FOUND) throw Exception(Status::NotFound, "Key not found");
    return size;
}

std::vector<uint64_t> Database::length_multi(const KeyList& keys, int32_t mode, double timeout_ms) const {
    auto req = keys_request(keys, mode, timeout_ms);
    auto reply = impl_->call(rpc::length, req, timeout_ms);
    return reply.reader.u64s_n(keys.size());
}

void Database::erase(std::string_view key, int32_t mode, double timeout_ms) const {
    impl_->call(rpc::erase, keys_request(One{key}, mode, timeout_ms), timeout_ms);
}

void Database::erase_multi(const KeyList& keys, int32_t mode, double timeout_ms) const {
    auto req = keys_request(keys, mode, timeout_ms);
    impl_->call(rpc::erase, req, timeout_ms);
}

void Database::erase_range(std::string_view prefix, int32_t mode, double timeout_ms) const {
    auto req = DatabaseImpl::begin(mode, timeout_ms);
    detail::wire::RequestWriter w(req);
    w.bytes(prefix);
    impl_->call(rpc::erase_range, req, timeout_ms);
}

}  // namespace mochi::yokan
