// Shared by pyflock_client and pyflock_server: both raise pyflock_common.FlockException, so a
// Python `except FlockException` catches errors from either extension.
#pragma once

#include <mochi/flock/view.hpp>
#include <pybind11/pybind11.h>

namespace kinako::python {

// Imports pyflock_common and maps mochi::flock::Exception to its FlockException for the
// functions of the calling module only (a local translator: bedrock's extensions map the same
// C++ type to their own exception).
inline void use_flock_exception(pybind11::module_& m) {
    static pybind11::object exc = pybind11::module_::import("pyflock_common").attr("FlockException");
    m.attr("FlockException") = exc;
    pybind11::register_local_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const mochi::flock::Exception& e) {
            PyErr_SetString(exc.ptr(), e.what());
        }
    });
}

}  // namespace kinako::python
