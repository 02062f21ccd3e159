// RPC names (those of Mochi's Warabi) and the response envelope shared by provider and client:
//   response := u8 code (ErrorCode) ; code == 0 ? payload : bytes(message)
#pragma once

#include "wire.hpp"

#include <nlohmann/json.hpp>

namespace mochi::warabi::rpc {

inline constexpr const char* kCreate = "warabi_create";
inline constexpr const char* kWrite = "warabi_write";
inline constexpr const char* kWriteEager = "warabi_write_eager";
inline constexpr const char* kPersist = "warabi_persist";
inline constexpr const char* kCreateWrite = "warabi_create_write";
inline constexpr const char* kCreateWriteEager = "warabi_create_write_eager";
inline constexpr const char* kRead = "warabi_read";
inline constexpr const char* kReadEager = "warabi_read_eager";
inline constexpr const char* kErase = "warabi_erase";
inline constexpr const char* kGetRemiProviderId = "warabi_get_remi_provider_id";
inline constexpr const char* kMigrate = "warabi_migrate";  // kinako: migration over RPC
// kinako: a migration's source asks the destination for its target type, and installs one
// there when it has none.
inline constexpr const char* kTargetInfo = "warabi_target_info";
inline constexpr const char* kInstallTarget = "warabi_install_target";

// The engine-level identity of warabi providers (handle checks).
inline constexpr const char* kIdentity = "warabi";

inline std::string error_response(ErrorCode code, const std::string& message) {
    wire::Writer w(message.size() + 16);
    w.u<uint8_t>(static_cast<uint8_t>(code)).bytes(message);
    return std::move(w.str());
}

// JSON text carried in a request ("" means null); bad text is a MalformedRequest.
inline nlohmann::json parse_json(std::string_view text, const char* what) {
    if (text.empty()) return nullptr;
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        throw Exception(ErrorCode::MalformedRequest, std::string("malformed ") + what + ": " + e.what());
    }
}

// Reads the envelope; throws the carried error, otherwise leaves the reader on the payload.
inline void check_response(wire::Reader& r) {
    auto code = static_cast<ErrorCode>(r.u<uint8_t>());
    if (code == ErrorCode::Success) return;
    throw Exception(code, std::string(r.bytes()));
}

}  // namespace mochi::warabi::rpc
