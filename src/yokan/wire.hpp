// The byte layout of Yokan requests and responses. Every request starts with a RequestHeader
// (mode, timeout); lists travel as a count, a size per item, then the items back to back, so
// the provider reads keys and values as views into the received message (no copies). Every
// response starts with a status; nothing follows unless it is Success.
//
// Reader checks every length against the message: a malformed request becomes InvalidArgs,
// never an out-of-bounds read.
#pragma once

#include <mochi/yokan/common.hpp>

#include <boost/container/small_vector.hpp>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace mochi::yokan::detail::wire {

// Decoded lists are views into the message; a list of one or two (a single put's key and
// value) lives inline, so decoding a single-key request allocates nothing.
using ViewList = boost::container::small_vector<std::string_view, 2>;

struct RequestHeader {
    int32_t mode = 0;
    double timeout_ms = 0;  // also bounds server-side waits (WAIT)
};

// How a request describes the caller's output space.
enum class Space : uint8_t {
    PerItem = 0,    // one capacity per item
    Packed = 1,     // one total capacity, items back to back
    Unlimited = 2,  // fetch/iter: every item in full
    PerItemSame = 3,  // one capacity that every item has (all the caller's buffers alike)
};

template <class Out>
class BasicWriter {
  public:
    explicit BasicWriter(Out& out) : out_(out) {}
    template <typename T>
    void pod(const T& v) {
        append(reinterpret_cast<const char*>(&v), sizeof(T));
    }
    void header(const RequestHeader& h) {
        char b[sizeof(h.mode) + sizeof(h.timeout_ms)];
        std::memcpy(b, &h.mode, sizeof(h.mode));
        std::memcpy(b + sizeof(h.mode), &h.timeout_ms, sizeof(h.timeout_ms));
        append(b, sizeof(b));
    }
    void bytes(std::string_view s) {
        pod<uint64_t>(s.size());
        append(s.data(), s.size());
    }
    template <typename List>
    void list(const List& items) {  // any container of string_view-like items
        size_t bytes = sizeof(uint64_t) * (items.size() + 1);
        for (const auto& it : items) bytes += std::string_view(it).size();
        out_.reserve(out_.size() + bytes);  // one allocation, not a doubling per power of two
        // The count and the size table in one resize and plain stores (an append per size was
        // a library call each, which showed in single-key requests); the items by append, so
        // large values are copied once and never zero-filled first.
        size_t at = out_.size();
        out_.resize(at + sizeof(uint64_t) * (items.size() + 1));
        char* p = out_.data() + at;
        uint64_t n = items.size();
        std::memcpy(p, &n, sizeof(n));
        for (const auto& it : items) {
            uint64_t size = std::string_view(it).size();
            p += sizeof(size);
            std::memcpy(p, &size, sizeof(size));
        }
        for (const auto& it : items) append(std::string_view(it).data(), std::string_view(it).size());
    }
    void u64s(const std::vector<uint64_t>& v) {
        pod<uint64_t>(v.size());
        append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(uint64_t));
    }
    // Reserves room for n u64 to be filled later (sizes known only after the data).
    size_t reserve_u64s(size_t n) {
        size_t at = out_.size();
        out_.resize(at + n * sizeof(uint64_t));  // zero-filled
        return at;
    }
    void set_u64(size_t at, size_t index, uint64_t v) {
        std::memcpy(&out_[at + index * sizeof(uint64_t)], &v, sizeof(v));
    }
    void raw(std::string_view s) { append(s.data(), s.size()); }
    Out& str() { return out_; }

  private:
    void append(const char* p, size_t n) {
        if constexpr (std::is_same_v<Out, std::string>) out_.append(p, n);
        else out_.insert(out_.end(), p, p + n);
    }
    Out& out_;
};

// Responses and stored records are strings; a request is encoded on the caller's stack when
// it fits (a single put or get), which spares the client an allocation per call.
using RequestBytes = boost::container::small_vector<char, 256>;
using Writer = BasicWriter<std::string>;
using RequestWriter = BasicWriter<RequestBytes>;
inline std::string_view view_of(const RequestBytes& b) { return {b.data(), b.size()}; }

class Reader {
  public:
    explicit Reader(std::string_view in) : in_(in) {}
    template <typename T>
    T pod() {
        need(sizeof(T));
        T v;
        std::memcpy(&v, in_.data() + pos_, sizeof(T));
        pos_ += sizeof(T);
        return v;
    }
    RequestHeader header() {
        RequestHeader h;
        h.mode = pod<int32_t>();
        h.timeout_ms = pod<double>();
        return h;
    }
    std::string_view bytes() {
        uint64_t n = pod<uint64_t>();
        need(n);
        std::string_view s = in_.substr(pos_, n);
        pos_ += n;
        return s;
    }
    std::string_view raw(size_t n) {
        need(n);
        std::string_view s = in_.substr(pos_, n);
        pos_ += n;
        return s;
    }
    ViewList list() {
        uint64_t n = count(sizeof(uint64_t));
        need(n * sizeof(uint64_t));
        const char* sizes = in_.data() + pos_;  // read in place: no copy of the size table
        pos_ += n * sizeof(uint64_t);
        ViewList items(n);
        for (size_t i = 0; i < n; ++i) {
            uint64_t size;
            std::memcpy(&size, sizes + i * sizeof(uint64_t), sizeof(size));
            need(size);
            items[i] = in_.substr(pos_, size);
            pos_ += size;
        }
        return items;
    }
    std::vector<uint64_t> u64s() {
        uint64_t n = count(sizeof(uint64_t));
        return u64s_n(n);
    }
    std::vector<uint64_t> u64s_n(uint64_t n) {
        need(n * sizeof(uint64_t));
        std::vector<uint64_t> v(n);
        std::memcpy(v.data(), in_.data() + pos_, n * sizeof(uint64_t));
        pos_ += n * sizeof(uint64_t);
        return v;
    }
    size_t remaining() const { return in_.size() - pos_; }

  private:
    // A count of items of at least min_size bytes each; rejects counts the message cannot hold.
    uint64_t count(size_t min_size) {
        uint64_t n = pod<uint64_t>();
        if (min_size && n > remaining() / min_size) throw Exception(Status::InvalidArgs, "malformed request: bad count");
        return n;
    }
    void need(uint64_t n) const {
        if (n > in_.size() - pos_) throw Exception(Status::InvalidArgs, "malformed request: truncated");
    }
    std::string_view in_;
    size_t pos_ = 0;
};

// The RPC names (Yokan's). The *_direct names map to the same handlers: payloads move by
// RMA automatically when large, so NO_RDMA is only a hint here.
namespace rpc {
constexpr const char* count = "yk_count";
constexpr const char* put = "yk_put";
constexpr const char* get = "yk_get";
constexpr const char* fetch = "yk_fetch";
constexpr const char* exists = "yk_exists";
constexpr const char* length = "yk_length";
constexpr const char* erase = "yk_erase";
constexpr const char* erase_range = "yk_erase_range";
constexpr const char* list_keys = "yk_list_keys";
constexpr const char* list_keyvals = "yk_list_keyvals";
constexpr const char* coll_create = "yk_coll_create";
constexpr const char* coll_drop = "yk_coll_drop";
constexpr const char* coll_exists = "yk_coll_exists";
constexpr const char* coll_last_id = "yk_coll_last_id";
constexpr const char* coll_size = "yk_coll_size";
constexpr const char* doc_store = "yk_doc_store";
constexpr const char* doc_update = "yk_doc_update";
constexpr const char* doc_load = "yk_doc_load";
constexpr const char* doc_fetch = "yk_doc_fetch";
constexpr const char* doc_length = "yk_doc_length";
constexpr const char* doc_erase = "yk_doc_erase";
constexpr const char* doc_list = "yk_doc_list";
// Not Yokan's: one chunk of a database moving to this provider (provider_migrate.cpp).
constexpr const char* migrate_chunk = "yokan_migrate_chunk";
}  // namespace rpc

constexpr const char* kIdentity = "yokan";

}  // namespace mochi::yokan::detail::wire
