// Yokan's shared vocabulary: modes, return codes, size sentinels and the exception type.
// Values are Yokan's own (include/yokan/common.h), so codes mean the same on the wire,
// in C++ and in Python.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace mochi::yokan {

// ---- modes (bit flags, combined by OR)
constexpr int32_t YOKAN_MODE_DEFAULT = 0;
constexpr int32_t YOKAN_MODE_INCLUSIVE = 1;
constexpr int32_t YOKAN_MODE_APPEND = 2;
constexpr int32_t YOKAN_MODE_CONSUME = 4;
constexpr int32_t YOKAN_MODE_WAIT = 8;
constexpr int32_t YOKAN_MODE_NOTIFY = 8;  // the same bit as WAIT, on writes
constexpr int32_t YOKAN_MODE_NEW_ONLY = 16;
constexpr int32_t YOKAN_MODE_EXIST_ONLY = 32;
constexpr int32_t YOKAN_MODE_NO_PREFIX = 64;
constexpr int32_t YOKAN_MODE_IGNORE_KEYS = 128;
constexpr int32_t YOKAN_MODE_KEEP_LAST = 384;  // IGNORE_KEYS | 256
constexpr int32_t YOKAN_MODE_SUFFIX = 512;
constexpr int32_t YOKAN_MODE_LUA_FILTER = 1024;
constexpr int32_t YOKAN_MODE_IGNORE_DOCS = 2048;
constexpr int32_t YOKAN_MODE_FILTER_VALUE = 4096;
constexpr int32_t YOKAN_MODE_LIB_FILTER = 8192;
constexpr int32_t YOKAN_MODE_NO_RDMA = 16384;
constexpr int32_t YOKAN_MODE_UPDATE_NEW = 32768;
constexpr int32_t YOKAN_MODE_EXTRA = 65536;

// ---- size sentinels
constexpr uint64_t YOKAN_KEY_NOT_FOUND = UINT64_MAX;
constexpr uint64_t YOKAN_SIZE_TOO_SMALL = UINT64_MAX - 1;
constexpr uint64_t YOKAN_NO_MORE_KEYS = UINT64_MAX - 2;
constexpr uint64_t YOKAN_NO_MORE_DOCS = UINT64_MAX - 2;
constexpr uint64_t YOKAN_LAST_VALID_SIZE = UINT64_MAX - 3;

// ---- return codes (enum yk_return_t, in order)
enum class Status : int32_t {
    Success = 0, Allocation, InvalidMid, InvalidArgs, InvalidProvider, InvalidDatabase,
    InvalidBackend, InvalidConfig, InvalidId, InvalidFilter, FromMercury, FromArgobots,
    FromRemi, OpUnsupported, OpForbidden, NotFound, SizeError, KeyExists, Corruption, IO,
    Incomplete, Timeout, Aborted, Busy, Expired, TryAgain, System, Canceled, Permission,
    InvalidMode, NonContig, ReadOnly, Migrated, MidNotListening, StopIteration, Other
};
constexpr int32_t kStatusCount = 36;

// Yokan's message for a code ("Key not found", ...).
const char* status_message(Status s);

// Thrown by the C++ client and provider; carries the Yokan code. what() is the message.
class Exception : public std::runtime_error {
  public:
    explicit Exception(Status code) : std::runtime_error(status_message(code)), code_(code) {}
    Exception(Status code, const std::string& message) : std::runtime_error(message), code_(code) {}
    Status code() const { return code_; }

  private:
    Status code_;
};

// Client-side check of Yokan's incompatible mode pairs (APPEND+NEW_ONLY, NEW_ONLY+EXIST_ONLY,
// SUFFIX+LUA_FILTER, LIB_FILTER+SUFFIX, LUA_FILTER+LIB_FILTER). Throws Exception(InvalidMode).
void check_mode(int32_t mode);

}  // namespace mochi::yokan
