// Yokan's status messages and the client-side mode compatibility check.
#include <mochi/yokan/common.hpp>

#include <string>

namespace mochi::yokan {

const char* status_message(Status s) {
    static const char* const messages[kStatusCount] = {
        "Success", "Allocation error", "Invalid margo instance", "Invalid argument", "Invalid provider",
        "Invalid database", "Invalid backend type", "Invalid configuration", "Invalid document id",
        "Invalid filter", "Mercury error", "Argobots error", "REMI error", "Unsupported operation or mode",
        "Forbidden operation", "Key not found", "Buffer too small", "Key exists", "Data corruption",
        "IO error", "Incomplete operation", "Timeout", "Operation aborted", "Busy", "Operation expired",
        "Try again", "System error", "Canceled", "Permission error", "Invalid mode", "Non-contiguous buffer",
        "Read-only buffer", "Database has migrated", "Margo instance not listening", "Stop iteration",
        "Other error"};
    int i = static_cast<int>(s);
    return (i >= 0 && i < kStatusCount) ? messages[i] : "Other error";
}

void check_mode(int32_t mode) {
    struct Pair {
        int32_t a, b;
        const char* names;
    };
    // Most calls carry no mode, or a single one: answer them without walking the table.
    constexpr int32_t kPaired = YOKAN_MODE_APPEND | YOKAN_MODE_NEW_ONLY | YOKAN_MODE_EXIST_ONLY | YOKAN_MODE_SUFFIX |
                                YOKAN_MODE_LUA_FILTER | YOKAN_MODE_LIB_FILTER;
    const int32_t paired = mode & kPaired;
    if (mode >= 0 && mode < (YOKAN_MODE_EXTRA << 1) && (paired & (paired - 1)) == 0) return;
    static const Pair forbidden[] = {
        {YOKAN_MODE_APPEND, YOKAN_MODE_NEW_ONLY, "APPEND and NEW_ONLY"},
        {YOKAN_MODE_NEW_ONLY, YOKAN_MODE_EXIST_ONLY, "NEW_ONLY and EXIST_ONLY"},
        {YOKAN_MODE_SUFFIX, YOKAN_MODE_LUA_FILTER, "SUFFIX and LUA_FILTER"},
        {YOKAN_MODE_LIB_FILTER, YOKAN_MODE_SUFFIX, "LIB_FILTER and SUFFIX"},
        {YOKAN_MODE_LUA_FILTER, YOKAN_MODE_LIB_FILTER, "LUA_FILTER and LIB_FILTER"},
    };
    for (const auto& p : forbidden)
        if ((mode & p.a) && (mode & p.b))
            throw Exception(Status::InvalidMode,
                            std::string("Invalid mode: ") + p.names + " cannot be combined (mode=" +
                                std::to_string(mode) + ")");
    if (mode < 0 || mode >= (YOKAN_MODE_EXTRA << 1))
        throw Exception(Status::InvalidMode, "Invalid mode: unknown bits in mode=" + std::to_string(mode));
}

}  // namespace mochi::yokan
