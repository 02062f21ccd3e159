// Shared by every kinako extension: turns the Python objects users pass (an Engine, an
// Address, or the raw capsules py-mochi-margo hands out) into the C++ engine objects.
// Capsule names and contents are those of _pymargo: "margo_instance_id" holds an Engine*,
// "hg_addr_t" an Address*.
#pragma once

#include <mochi/margo/engine.hpp>
#include <pybind11/pybind11.h>

#include <stdexcept>
#include <string>

namespace kinako::python {

namespace py = pybind11;

// Accepts a "margo_instance_id" capsule, or an object with `mid` (attribute, property or
// method, as mochi.margo.Engine) or `get_internal_mid()`.
inline mochi::margo::Engine engine_from(py::handle obj) {
    if (PyCapsule_CheckExact(obj.ptr())) {
        auto* e = static_cast<mochi::margo::Engine*>(PyCapsule_GetPointer(obj.ptr(), "margo_instance_id"));
        if (!e) throw py::error_already_set();
        if (!*e) throw std::invalid_argument("the margo instance has been finalized");
        return *e;
    }
    if (py::hasattr(obj, "mid")) {
        py::object mid = obj.attr("mid");
        if (PyCallable_Check(mid.ptr())) mid = mid();
        return engine_from(mid);
    }
    if (py::hasattr(obj, "get_internal_mid")) return engine_from(obj.attr("get_internal_mid")());
    throw py::type_error("expected a mochi.margo Engine or a margo_instance_id capsule, got " +
                         std::string(py::str(py::type::of(obj).attr("__name__"))));
}

// Accepts an "hg_addr_t" capsule or an object with `hg_addr` / `get_internal_hg_addr()`
// (mochi.margo.Address). Strings are resolved with engine.lookup().
inline mochi::margo::Address address_from(const mochi::margo::Engine& engine, py::handle obj) {
    if (PyCapsule_CheckExact(obj.ptr())) {
        auto* a = static_cast<mochi::margo::Address*>(PyCapsule_GetPointer(obj.ptr(), "hg_addr_t"));
        if (!a) throw py::error_already_set();
        return *a;
    }
    if (py::isinstance<py::str>(obj)) return engine.lookup(obj.cast<std::string>());
    if (py::hasattr(obj, "hg_addr")) {
        py::object a = obj.attr("hg_addr");
        if (PyCallable_Check(a.ptr())) a = a();
        return address_from(engine, a);
    }
    if (py::hasattr(obj, "get_internal_hg_addr")) return address_from(engine, obj.attr("get_internal_hg_addr")());
    throw py::type_error("expected a mochi.margo Address, an address string or an hg_addr_t capsule, got " +
                         std::string(py::str(py::type::of(obj).attr("__name__"))));
}

}  // namespace kinako::python
