// Compact binary encoding of Warabi requests and responses: little-endian integers and
// length-prefixed byte strings. The Reader checks every bound, so a malformed request ends
// in a clean MalformedRequest error instead of a crash.
#pragma once

#include <mochi/warabi/common.hpp>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace mochi::warabi::wire {

class Writer {
  public:
    explicit Writer(size_t reserve = 64) { buf_.reserve(reserve); }
    template <typename T>
    Writer& u(T v) {
        static_assert(std::is_integral<T>::value, "integers only");
        buf_.append(reinterpret_cast<const char*>(&v), sizeof(v));  // x86-64/aarch64: little endian
        return *this;
    }
    Writer& id(const RegionID& r) {
        buf_.append(reinterpret_cast<const char*>(r.data()), r.size());
        return *this;
    }
    Writer& bytes(std::string_view s) {
        u<uint64_t>(s.size());
        buf_.append(s.data(), s.size());
        return *this;
    }
    // Appends raw bytes (no length): only as the last field.
    Writer& tail(std::string_view s) {
        buf_.append(s.data(), s.size());
        return *this;
    }
    std::string& str() { return buf_; }

  private:
    std::string buf_;
};

class Reader {
  public:
    explicit Reader(std::string_view s) : s_(s) {}
    template <typename T>
    T u() {
        need(sizeof(T));
        T v;
        memcpy(&v, s_.data(), sizeof(T));
        s_.remove_prefix(sizeof(T));
        return v;
    }
    bool flag() { return u<uint8_t>() != 0; }
    RegionID id() {
        need(16);
        RegionID r;
        memcpy(r.data(), s_.data(), 16);
        s_.remove_prefix(16);
        return r;
    }
    std::string_view bytes() {
        uint64_t n = u<uint64_t>();
        need(n);
        auto v = s_.substr(0, n);
        s_.remove_prefix(n);
        return v;
    }
    std::string_view rest() {
        auto v = s_;
        s_ = {};
        return v;
    }
    size_t remaining() const { return s_.size(); }

  private:
    void need(uint64_t n) const {
        if (s_.size() < n)
            throw Exception(ErrorCode::MalformedRequest,
                            "malformed warabi message: needed " + std::to_string(n) + " more bytes, " +
                                std::to_string(s_.size()) + " left");
    }
    std::string_view s_;
};

}  // namespace mochi::warabi::wire
