// Warabi vocabulary shared by clients, providers and targets: region ids and errors.
#pragma once

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace mochi::warabi {

// An opaque 16-byte region id. Its meaning belongs to the target that made it
// (memory: index + size, abtio: file offset + size, pmdk: pool id + object offset).
using RegionID = std::array<uint8_t, 16>;

// 32 lowercase hex digits, as the Python RegionID repr prints them.
std::string to_hex(const RegionID& id);

// Error codes carried on the wire from provider to client (0 is success).
enum class ErrorCode : uint8_t {
    Success = 0,
    InvalidArgument = 1,  // a bad value in a request (size, buffer, ...)
    InvalidRegion = 2,    // the region id names no live region of the target
    OutOfRange = 3,       // offset/size past the end of a region
    InvalidConfig = 4,    // provider / target / transfer manager configuration
    IoError = 5,          // the storage failed (file, pmem pool)
    NoProvider = 6,       // nothing answers at (address, provider id)
    RpcError = 7,         // the engine could not deliver a request or response
    MalformedRequest = 8, // undecodable request bytes
    OutOfSpace = 9,       // the target cannot hold a new region
    Internal = 10,
    NoTarget = 11,        // the provider has no target (started without one, or it migrated away)
};

const char* error_name(ErrorCode code);

class Exception : public std::runtime_error {
  public:
    Exception(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
    ErrorCode code() const { return code_; }

  private:
    ErrorCode code_;
};

}  // namespace mochi::warabi
