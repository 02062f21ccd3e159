// pyflock_server: the flock provider behind mochi.flock.server. Views cross as JSON text.
#include "../common/capsules.hpp"
#include "../common/gil_release.hpp"
#include "common.hpp"

#include <mochi/flock/provider.hpp>

namespace py = pybind11;
using namespace mochi::flock;

PYBIND11_MODULE(pyflock_server, m) {
    m.doc() = "kinako flock: group membership provider";
    kinako::python::use_flock_exception(m);

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
}
