// pyflock_client: group handles behind mochi.flock.client. Views cross as JSON text.
#include "../common/capsules.hpp"
#include "../common/gil_release.hpp"
#include "common.hpp"

#include <mochi/flock/client.hpp>

namespace py = pybind11;
using namespace mochi::flock;

PYBIND11_MODULE(pyflock_client, m) {
    m.doc() = "kinako flock: group handles";
    kinako::python::use_flock_exception(m);

    py::class_<GroupHandle>(m, "GroupHandle")
        .def(py::init([](py::handle engine, const std::string& address, uint16_t provider_id, double timeout_ms) {
                 auto e = kinako::python::engine_from(engine);
                 kinako::python::GilRelease nogil;
                 return GroupHandle(e, address, provider_id, timeout_ms);
             }),
             py::arg("engine"), py::arg("address"), py::arg("provider_id") = 0, py::arg("timeout_ms") = 10000.0)
        .def_static("from_file", [](py::handle engine, const std::string& path, double timeout_ms) {
            return GroupHandle::from_file(kinako::python::engine_from(engine), path, timeout_ms);
        }, py::arg("engine"), py::arg("path"), py::arg("timeout_ms") = 10000.0)
        .def_static("from_serialized", [](py::handle engine, const std::string& text, double timeout_ms) {
            return GroupHandle::from_serialized(kinako::python::engine_from(engine), text, timeout_ms);
        }, py::arg("engine"), py::arg("view"), py::arg("timeout_ms") = 10000.0)
        .def("update", [](GroupHandle& h) {
            kinako::python::GilRelease nogil;
            h.update();
        })
        .def("view", [](const GroupHandle& h) { return h.view().to_json(); });
}
