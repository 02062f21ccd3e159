// Region id formatting and error names.
#include <mochi/warabi/common.hpp>

namespace mochi::warabi {

std::string to_hex(const RegionID& id) {
    static const char digits[] = "0123456789abcdef";
    std::string s(32, '0');
    for (size_t i = 0; i < id.size(); i++) {
        s[2 * i] = digits[id[i] >> 4];
        s[2 * i + 1] = digits[id[i] & 15];
    }
    return s;
}

const char* error_name(ErrorCode code) {
    switch (code) {
        case ErrorCode::Success: return "success";
        case ErrorCode::InvalidArgument: return "invalid argument";
        case ErrorCode::InvalidRegion: return "invalid region";
        case ErrorCode::OutOfRange: return "out of range";
        case ErrorCode::InvalidConfig: return "invalid config";
        case ErrorCode::IoError: return "I/O error";
        case ErrorCode::NoProvider: return "no provider";
        case ErrorCode::RpcError: return "RPC error";
        case ErrorCode::MalformedRequest: return "malformed request";
        case ErrorCode::OutOfSpace: return "out of space";
        case ErrorCode::Internal: return "internal error";
        case ErrorCode::NoTarget: return "no target";
    }
    return "unknown error";
}

}  // namespace mochi::warabi
