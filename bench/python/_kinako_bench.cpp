// _kinako_bench: native hooks for bench/python_echo.py, built with the benchmarks only (never
// installed). They let one Python process hold a C++ echo and a Python echo side by side, on the
// same engine and connection, so that the two can be timed call by call instead of in separate
// runs (whose drift on a shared VM is larger than the difference being measured).
//
//   timed_forward(engine, address, rpc_name, payload, n) -> list[float]
//       n forwards of `payload` done and timed in C++ with the GIL released; microseconds each.
//   define_native_echo(engine, rpc_name)
//       registers a C++ handler that responds with its input, next to Python handlers.
//
// Engines and addresses are taken the way every kinako extension takes them (capsules.hpp),
// so any mochi.margo Engine / Address (or their capsules) works.
#include <mochi/margo/engine.hpp>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "capsules.hpp"
#include "gil_release.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace py = pybind11;
using mochi::margo::Address;
using mochi::margo::Engine;
using mochi::margo::Request;

namespace {

using Clock = std::chrono::steady_clock;

// The timed loop itself: nothing but the forward between the two clock reads, as in
// kinako-bench-engine's echo, so the figure is comparable to the engine's own.
std::vector<double> forward_loop(const Engine& engine, const Address& target, uint64_t rpc_id,
                                 std::string_view payload, int n) {
    std::vector<double> us;
    us.reserve(n > 0 ? n : 0);
    for (int i = 0; i < n; i++) {
        auto t0 = Clock::now();
        engine.forward(target, rpc_id, payload);
        us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    }
    return us;
}

std::vector<double> timed_forward(py::handle engine_obj, py::handle address_obj, const std::string& rpc_name,
                                  const py::bytes& payload, int n) {
    Engine engine = kinako::python::engine_from(engine_obj);
    Address target = kinako::python::address_from(engine, address_obj);
    // A view into the bytes object, which the caller keeps alive for the duration of the call.
    char* data = nullptr;
    Py_ssize_t size = 0;
    if (PyBytes_AsStringAndSize(payload.ptr(), &data, &size) != 0) throw py::error_already_set();
    std::string_view bytes(data, static_cast<size_t>(size));
    uint64_t rpc_id = mochi::margo::rpc_id_of(rpc_name);
    kinako::python::GilRelease release;  // a C++ caller holds no GIL; neither does this one
    return forward_loop(engine, target, rpc_id, bytes, n);
}

void define_native_echo(py::handle engine_obj, const std::string& rpc_name) {
    Engine engine = kinako::python::engine_from(engine_obj);
    // Captures nothing: the engine keeps its handlers, so capturing it would keep it alive.
    engine.define(rpc_name, [](const Request& r) { r.respond(r.input()); });
}

}  // namespace

PYBIND11_MODULE(_kinako_bench, m) {
    m.doc() = "Native echo hooks for bench/python_echo.py (benchmarks only).";
    m.def("timed_forward", &timed_forward, py::arg("engine"), py::arg("address"), py::arg("rpc_name"),
          py::arg("payload"), py::arg("n") = 1,
          "n forwards of payload timed in C++ with the GIL released; microseconds per call.");
    m.def("define_native_echo", &define_native_echo, py::arg("engine"), py::arg("rpc_name"),
          "Registers a C++ handler under rpc_name that responds with its input.");
}
