// Error vocabulary of the engine: Mercury's hg_return_t codes, carried on the wire and raised
// as mochi::margo::Exception in C++ (MargoException / TimeoutError in Python).
#pragma once

#include <stdexcept>
#include <string>

namespace mochi::margo {

enum class Status : int {
    Success = 0,
    Permission = 1,
    NoEntry = 2,
    Interrupt = 3,
    Again = 4,
    NoMem = 5,
    Access = 6,
    Fault = 7,
    Busy = 8,
    Exist = 9,
    NoDev = 10,
    InvalidArg = 11,
    ProtocolError = 12,
    Overflow = 13,
    MsgSize = 14,
    ProtoNoSupport = 15,
    OpNotSupported = 16,
    AddrInUse = 17,
    AddrNotAvail = 18,
    HostUnreach = 19,
    Timeout = 20,
    Canceled = 21,
    IoError = 22,
    NaError = 23,
    OtherError = 24,
};

const char* status_name(Status s);

class Exception : public std::runtime_error {
  public:
    // `function` names the Margo call that failed, as in "margo_forward() returned 20".
    Exception(const std::string& function, Status status, const std::string& detail = "")
    : std::runtime_error(function + "() returned " + std::to_string(static_cast<int>(status)) +
                         (detail.empty() ? "" : " (" + detail + ")")),
      status_(status) {}
    Status status() const { return status_; }
    int code() const { return static_cast<int>(status_); }

  private:
    Status status_;
};

}  // namespace mochi::margo
