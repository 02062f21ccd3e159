// The provider's side of listing filters: one KeyValueFilter (databases) or DocFilter
// (collections) per listing request, chosen from the mode and the filter bytes. The listing
// handlers (provider_list.cpp, provider_doc.cpp) only ever talk to these interfaces; prefix
// and suffix filters are filters like the Lua and library ones.
//
//   filter.cpp      make_kv_filter / make_doc_filter: which kind a request gets
//   prefix.cpp      prefix, suffix (NO_PREFIX strips them) and document prefix filters
//   lua_filter.cpp  LUA_FILTER: a sandboxed Lua 5.4 state per request
//   lib_filter.cpp  LIB_FILTER: the registry of named filters, and the libraries that add some
#pragma once

#include <mochi/yokan/filter.hpp>

#include <cstdint>
#include <memory>
#include <string_view>

namespace mochi::yokan::detail {

// The filter of one listing request. Throws Exception(InvalidFilter) for a filter that cannot
// be built (Lua syntax error, unknown library or filter name, constructor failure), and
// Exception(InvalidMode) for LUA_FILTER when kinako was built without Lua. An empty filter
// string passes everything, whatever the mode.
std::unique_ptr<KeyValueFilter> make_kv_filter(int32_t mode, std::string_view filter);
std::unique_ptr<DocFilter> make_doc_filter(int32_t mode, std::string_view filter);

// The kinds (each in its own file).
std::unique_ptr<KeyValueFilter> make_affix_filter(int32_t mode, std::string_view affix);
std::unique_ptr<DocFilter> make_doc_prefix_filter(int32_t mode, std::string_view prefix);
std::unique_ptr<KeyValueFilter> make_lua_kv_filter(int32_t mode, std::string_view code);
std::unique_ptr<DocFilter> make_lua_doc_filter(int32_t mode, std::string_view code);
std::unique_ptr<KeyValueFilter> make_lib_kv_filter(int32_t mode, std::string_view spec);
std::unique_ptr<DocFilter> make_lib_doc_filter(int32_t mode, std::string_view spec);

// Whether LUA_FILTER is available (kinako was built with Lua).
bool lua_filters_available();

// The sandbox of a Lua filter, per request.
struct LuaLimits {
    // VM instructions one evaluation (one item) may run before it is aborted.
    static constexpr uint64_t kInstructions = 10'000'000;
    // Bytes the Lua state may hold, on top of the current item's key and value.
    static constexpr size_t kMemory = 32u << 20;
};

}  // namespace mochi::yokan::detail
