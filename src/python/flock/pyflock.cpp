// _pyflock: flock provider and group handle for mochi.flock. Views cross as JSON text.
#include "../common/capsules.hpp"
#include "../common/gil_release.hpp"

#include <mochi/flock/client.hpp>
#include <mochi/flock/provider.hpp>

namespace py = pybind11;
using namespace mochi::flock;

PYBIND11_MODULE(_pyflock, m) {
    m.doc() = "kinako flock: group membership provider and client";
    static py::exception<Exception> exc(m, "FlockException", PyExc_RuntimeError);
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const Exception& e) {
            PyErr_SetString(exc.ptr(), e.what());
        }
    });

    py::class_<Provider, std::shared_ptr<Provider>>(m, "Provider")
        .def(py::init([](py::handle engine, uint16_t provider_id, const std::string& config, const std::string& view,
                         const std::string& pool) {
                 auto e = kinako::python::engine_from(engine);
                 GroupView v = GroupView::from_json(view);
                 kinako::python::GilRelease nogil;
                 return std::make_shared<Provider>(e, provider_id, config, v, pool);
             }),
             py::arg("engine"), py::arg("provider_id"), py::arg("config"), py::arg("view"), py::arg("pool") = "")
        .def_static("bootstrap", [](py::handle engine, uint16_t provider_id, const std::string& config,
                                    const std::string& pool) {
            auto e = kinako::python::engine_from(engine);
            kinako::python::GilRelease nogil;
            return std::shared_ptr<Provider>(Provider::bootstrap(e, provider_id, config, {}, pool));
        }, py::arg("engine"), py::arg("provider_id"), py::arg("config"), py::arg("pool") = "")
        .def("config", &Provider::config)
        .def("view", [](const Provider& p) { return p.view().to_json(); });

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
