// Which filter a listing request gets. The client already refuses the combinations Yokan
// refuses (SUFFIX with LUA_FILTER or LIB_FILTER, LUA_FILTER with LIB_FILTER); a request that
// carries one anyway is refused here too, since it did not come through our client.
#include "filter.hpp"

namespace mochi::yokan::detail {

namespace {
void check_filter_mode(int32_t mode) {
    const bool lua = mode & YOKAN_MODE_LUA_FILTER, lib = mode & YOKAN_MODE_LIB_FILTER;
    const bool suffix = mode & YOKAN_MODE_SUFFIX;
    if ((lua && lib) || ((lua || lib) && suffix))
        throw Exception(Status::InvalidMode, "Invalid mode: LUA_FILTER, LIB_FILTER and SUFFIX exclude one another (mode=" +
                                                 std::to_string(mode) + ")");
}
}  // namespace

std::unique_ptr<KeyValueFilter> make_kv_filter(int32_t mode, std::string_view filter) {
    check_filter_mode(mode);
    if (!filter.empty()) {
        if (mode & YOKAN_MODE_LUA_FILTER) return make_lua_kv_filter(mode, filter);
        if (mode & YOKAN_MODE_LIB_FILTER) return make_lib_kv_filter(mode, filter);
    }
    // An empty Lua or library filter passes everything: an empty prefix does just that.
    return make_affix_filter(mode, (mode & (YOKAN_MODE_LUA_FILTER | YOKAN_MODE_LIB_FILTER)) ? std::string_view() : filter);
}

std::unique_ptr<DocFilter> make_doc_filter(int32_t mode, std::string_view filter) {
    check_filter_mode(mode);
    if (!filter.empty()) {
        if (mode & YOKAN_MODE_LUA_FILTER) return make_lua_doc_filter(mode, filter);
        if (mode & YOKAN_MODE_LIB_FILTER) return make_lib_doc_filter(mode, filter);
    }
    return make_doc_prefix_filter(mode, (mode & (YOKAN_MODE_LUA_FILTER | YOKAN_MODE_LIB_FILTER)) ? std::string_view() : filter);
}

}  // namespace mochi::yokan::detail
