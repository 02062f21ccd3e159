// Filters for Yokan's listing calls (list_keys, list_keyvals, iter, list_docs, collection iter).
//
// A listing's `filter` argument is read according to the mode:
//   default          a key prefix (documents: a document prefix)
//   SUFFIX           a key suffix
//   LUA_FILTER       Lua source run for each candidate (see docs/yokan.md)
//   LIB_FILTER       "<library>:<filter name>:<args>": a filter type registered by a library
//
// This header is the API for the last kind. A shared library defines classes deriving from
// KeyValueFilter (databases) and/or DocFilter (collections), and registers each under a name:
//
//   #include <mochi/yokan/filter.hpp>
//   class LongValues : public mochi::yokan::KeyValueFilter {
//     public:
//       LongValues(int32_t mode, std::string_view args)
//       : KeyValueFilter(mode, args), min_(std::stoul(std::string(args))) {}
//       bool requires_value() const override { return true; }
//       bool check(std::string_view, std::string_view value) override { return value.size() >= min_; }
//     private:
//       size_t min_;
//   };
//   KINAKO_YOKAN_REGISTER_FILTER(long_values, LongValues);
//
// and a client lists with mode=YOKAN_MODE_LIB_FILTER, filter="libmyfilters.so:long_values:100".
// The provider loads the library once (dlopen, then kept), builds one filter object per
// request (so a filter may keep state across the items of that request; requests never share
// one), and turns exceptions thrown by the constructor or by any method into
// YOKAN_ERR_INVALID_FILTER carrying the exception's message.
#pragma once

#include <mochi/yokan/common.hpp>

#include <algorithm>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

namespace mochi::yokan {

// Decides which key/value pairs a listing returns, and how each returned key and value reads.
class KeyValueFilter {
  public:
    // mode: the request's mode bits (NO_PREFIX, IGNORE_KEYS, FILTER_VALUE...);
    // args: what follows "<library>:<name>:" in the filter string (may be empty).
    KeyValueFilter(int32_t mode, std::string_view args) : mode_(mode), args_(args) {}
    virtual ~KeyValueFilter() = default;

    // Whether check() needs the value. When false (and the mode has no FILTER_VALUE), check()
    // may be given an empty value, which spares list_keys reading values.
    virtual bool requires_value() const { return false; }

    // Whether the pair is part of the result.
    virtual bool check(std::string_view key, std::string_view value) = 0;

    // A prefix every passing key has, or empty. Backends use it to start at the first key
    // with that prefix and stop after the last, instead of walking the whole database.
    virtual std::string_view key_prefix() const { return {}; }

    // What is returned for a passing key: its size, then the bytes (copied into dst, which
    // has room for max bytes, at least key_size_from(key)); key_copy returns the size written.
    virtual size_t key_size_from(std::string_view key) const { return key.size(); }
    virtual size_t key_copy(char* dst, size_t max, std::string_view key) const {
        size_t n = std::min(max, key.size());
        if (n) std::memcpy(dst, key.data(), n);
        return n;
    }
    // The same for values (list_keyvals and iter with values).
    virtual size_t value_size_from(std::string_view value) const { return value.size(); }
    virtual size_t value_copy(char* dst, size_t max, std::string_view value) const {
        size_t n = std::min(max, value.size());
        if (n) std::memcpy(dst, value.data(), n);
        return n;
    }

    int32_t mode() const { return mode_; }
    const std::string& args() const { return args_; }

  private:
    int32_t mode_;
    std::string args_;
};

// Decides which documents of a collection a listing returns, and how each returned one reads.
class DocFilter {
  public:
    DocFilter(int32_t mode, std::string_view args) : mode_(mode), args_(args) {}
    virtual ~DocFilter() = default;

    // Whether document `id` of `collection` is part of the result.
    virtual bool check(std::string_view collection, uint64_t id, std::string_view doc) = 0;

    // What is returned for a passing document (same contract as KeyValueFilter::key_copy).
    virtual size_t doc_size_from(std::string_view collection, std::string_view doc) const { return doc.size(); }
    virtual size_t doc_copy(std::string_view collection, char* dst, size_t max, std::string_view doc) const {
        size_t n = std::min(max, doc.size());
        if (n) std::memcpy(dst, doc.data(), n);
        return n;
    }

    int32_t mode() const { return mode_; }
    const std::string& args() const { return args_; }

  private:
    int32_t mode_;
    std::string args_;
};

using KeyValueFilterFactory = std::function<std::unique_ptr<KeyValueFilter>(int32_t mode, std::string_view args)>;
using DocFilterFactory = std::function<std::unique_ptr<DocFilter>(int32_t mode, std::string_view args)>;

// Registers (or replaces) a filter type under `name`. Key/value and document filters have
// separate name spaces, so one name may have both.
void register_kv_filter(const std::string& name, KeyValueFilterFactory factory);
void register_doc_filter(const std::string& name, DocFilterFactory factory);

namespace detail {
template <typename T>
bool register_filter_class(const char* name) {
    static_assert(std::is_base_of_v<KeyValueFilter, T> || std::is_base_of_v<DocFilter, T>,
                  "a registered filter derives from mochi::yokan::KeyValueFilter or mochi::yokan::DocFilter");
    if constexpr (std::is_base_of_v<KeyValueFilter, T>)
        register_kv_filter(name, [](int32_t mode, std::string_view args) -> std::unique_ptr<KeyValueFilter> {
            return std::make_unique<T>(mode, args);
        });
    if constexpr (std::is_base_of_v<DocFilter, T>)
        register_doc_filter(name, [](int32_t mode, std::string_view args) -> std::unique_ptr<DocFilter> {
            return std::make_unique<T>(mode, args);
        });
    return true;
}
}  // namespace detail

}  // namespace mochi::yokan

// Registers Class (constructible from (int32_t mode, std::string_view args)) under the name
// `name` (an identifier) when the library is loaded. A class deriving from both
// KeyValueFilter and DocFilter is registered as both.
#define KINAKO_YOKAN_REGISTER_FILTER(name, Class)                 \
    static const bool kinako_yokan_filter_registered_##name =     \
        ::mochi::yokan::detail::register_filter_class<Class>(#name)
