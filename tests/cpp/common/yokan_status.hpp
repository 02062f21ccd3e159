// For yokan gtests: the Status a call fails with (Success when it does not throw).
#pragma once

#include <mochi/yokan/common.hpp>

#include <functional>
#include <string>

namespace kinako::test {

// Runs f; returns the code of the mochi::yokan::Exception it throws (and its message, when
// asked), or Success.
inline mochi::yokan::Status code_of(const std::function<void()>& f, std::string* message = nullptr) {
    try {
        f();
    } catch (const mochi::yokan::Exception& e) {
        if (message) *message = e.what();
        return e.code();
    }
    return mochi::yokan::Status::Success;
}

}  // namespace kinako::test
