// pyyokan_common: what the Yokan client and server modules share. The Exception class
// (a RuntimeError carrying a Yokan code), the YOKAN_* return codes, modes and size
// sentinels, and the names of the backends compiled in.
#include "yokan_py.hpp"

#include <mochi/yokan/backend.hpp>
#include <mochi/yokan/common.hpp>
#include <pybind11/eval.h>
#include <pybind11/stl.h>

namespace py = pybind11;
namespace yk = mochi::yokan;

namespace {

// The exception class is plain Python so that users can construct, subclass and pickle it
// like any exception: Exception("Key not found", YOKAN_ERR_KEY_NOT_FOUND).
const char* kExceptionSource = R"PY(
class Exception(RuntimeError):
    """A Yokan error: str(e) is the message, e.code the Yokan return code (YOKAN_ERR_*)."""

    def __init__(self, message, code):
        super().__init__(message)
        self._code = int(code)

    @property
    def code(self):
        return self._code

    def __str__(self):
        return str(self.args[0]) if self.args else ""

    def __repr__(self):
        return f"{type(self).__name__}({str(self)!r}, {self._code})"

    def __reduce__(self):
        return (type(self), (str(self), self._code))
)PY";

const char* kStatusNames[] = {
    "YOKAN_SUCCESS",
    "YOKAN_ERR_ALLOCATION",
    "YOKAN_ERR_INVALID_MID",
    "YOKAN_ERR_INVALID_ARGS",
    "YOKAN_ERR_INVALID_PROVIDER",
    "YOKAN_ERR_INVALID_DATABASE",
    "YOKAN_ERR_INVALID_BACKEND",
    "YOKAN_ERR_INVALID_CONFIG",
    "YOKAN_ERR_INVALID_ID",
    "YOKAN_ERR_INVALID_FILTER",
    "YOKAN_ERR_FROM_MERCURY",
    "YOKAN_ERR_FROM_ARGOBOTS",
    "YOKAN_ERR_FROM_REMI",
    "YOKAN_ERR_OP_UNSUPPORTED",
    "YOKAN_ERR_OP_FORBIDDEN",
    "YOKAN_ERR_KEY_NOT_FOUND",
    "YOKAN_ERR_BUFFER_SIZE",
    "YOKAN_ERR_KEY_EXISTS",
    "YOKAN_ERR_CORRUPTION",
    "YOKAN_ERR_IO",
    "YOKAN_ERR_INCOMPLETE",
    "YOKAN_ERR_TIMEOUT",
    "YOKAN_ERR_ABORTED",
    "YOKAN_ERR_BUSY",
    "YOKAN_ERR_EXPIRED",
    "YOKAN_ERR_TRY_AGAIN",
    "YOKAN_ERR_SYSTEM",
    "YOKAN_ERR_CANCELED",
    "YOKAN_ERR_PERMISSION",
    "YOKAN_ERR_MODE",
    "YOKAN_ERR_NONCONTIG",
    "YOKAN_ERR_READONLY",
    "YOKAN_ERR_MIGRATED",
    "YOKAN_ERR_MID_NOT_LISTENING",
    "YOKAN_STOP_ITERATION",
    "YOKAN_ERR_OTHER",
};
static_assert(sizeof(kStatusNames) / sizeof(kStatusNames[0]) == yk::kStatusCount, "one name per Yokan code");

}  // namespace

PYBIND11_MODULE(pyyokan_common, m) {
    m.doc() = "kinako Yokan: shared constants and the Exception class";

    py::dict ns;
    ns["__builtins__"] = py::module_::import("builtins");
    ns["__name__"] = "pyyokan_common";
    py::exec(kExceptionSource, ns);
    m.attr("Exception") = ns["Exception"];
    kinako::python::yokan::exception_type_slot() = ns["Exception"].ptr();
    Py_INCREF(kinako::python::yokan::exception_type_slot());
    kinako::python::yokan::install_exception_translator();

    for (int i = 0; i < yk::kStatusCount; i++) m.attr(kStatusNames[i]) = i;

    m.attr("YOKAN_MODE_DEFAULT") = yk::YOKAN_MODE_DEFAULT;
    m.attr("YOKAN_MODE_INCLUSIVE") = yk::YOKAN_MODE_INCLUSIVE;
    m.attr("YOKAN_MODE_APPEND") = yk::YOKAN_MODE_APPEND;
    m.attr("YOKAN_MODE_CONSUME") = yk::YOKAN_MODE_CONSUME;
    m.attr("YOKAN_MODE_WAIT") = yk::YOKAN_MODE_WAIT;
    m.attr("YOKAN_MODE_NOTIFY") = yk::YOKAN_MODE_NOTIFY;
    m.attr("YOKAN_MODE_NEW_ONLY") = yk::YOKAN_MODE_NEW_ONLY;
    m.attr("YOKAN_MODE_EXIST_ONLY") = yk::YOKAN_MODE_EXIST_ONLY;
    m.attr("YOKAN_MODE_NO_PREFIX") = yk::YOKAN_MODE_NO_PREFIX;
    m.attr("YOKAN_MODE_IGNORE_KEYS") = yk::YOKAN_MODE_IGNORE_KEYS;
    m.attr("YOKAN_MODE_KEEP_LAST") = yk::YOKAN_MODE_KEEP_LAST;
    m.attr("YOKAN_MODE_SUFFIX") = yk::YOKAN_MODE_SUFFIX;
    m.attr("YOKAN_MODE_LUA_FILTER") = yk::YOKAN_MODE_LUA_FILTER;
    m.attr("YOKAN_MODE_IGNORE_DOCS") = yk::YOKAN_MODE_IGNORE_DOCS;
    m.attr("YOKAN_MODE_FILTER_VALUE") = yk::YOKAN_MODE_FILTER_VALUE;
    m.attr("YOKAN_MODE_LIB_FILTER") = yk::YOKAN_MODE_LIB_FILTER;
    m.attr("YOKAN_MODE_NO_RDMA") = yk::YOKAN_MODE_NO_RDMA;
    // UPDATE_NEW and EXTRA are deliberately absent, as in Yokan's Python module.

    m.attr("YOKAN_KEY_NOT_FOUND") = py::int_(yk::YOKAN_KEY_NOT_FOUND);
    m.attr("YOKAN_SIZE_TOO_SMALL") = py::int_(yk::YOKAN_SIZE_TOO_SMALL);
    m.attr("YOKAN_NO_MORE_KEYS") = py::int_(yk::YOKAN_NO_MORE_KEYS);
    m.attr("YOKAN_NO_MORE_DOCS") = py::int_(yk::YOKAN_NO_MORE_DOCS);
    m.attr("YOKAN_LAST_VALID_SIZE") = py::int_(yk::YOKAN_LAST_VALID_SIZE);

    m.def("status_message", [](int code) {
        if (code < 0 || code >= yk::kStatusCount) throw py::value_error("unknown Yokan code " + std::to_string(code));
        return std::string(yk::status_message(static_cast<yk::Status>(code)));
    }, py::arg("code"), "Yokan's message for a return code.");
    m.def("_available_backends", [] { return py::cast(yk::available_backends()); },
          "Names of the backend types compiled into this build.");
}
