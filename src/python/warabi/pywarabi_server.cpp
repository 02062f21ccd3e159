// _pywarabi_server: the extension behind mochi.warabi.server (Provider, Exception).
// Provider(engine, provider_id, config: dict) as in Mochi's Warabi binding.
#include <mochi/warabi/provider.hpp>

#include "../common/capsules.hpp"
#include "migration_options.hpp"

#include <pybind11/pybind11.h>
#include "../common/gil_release.hpp"

namespace py = pybind11;
using namespace pybind11::literals;
using mochi::warabi::ErrorCode;
using mochi::warabi::Exception;

namespace {

struct PyProvider {
    std::unique_ptr<mochi::warabi::Provider> provider;
    py::object engine;  // keeps the Python engine alive as long as the provider

    mochi::warabi::Provider& p() const {
        if (!provider) throw Exception(ErrorCode::InvalidArgument, "invalid Provider");
        return *provider;
    }
};

std::string config_text(py::handle config) {
    if (config.is_none()) return "{}";
    if (py::isinstance<py::str>(config)) return config.cast<std::string>();
    if (py::isinstance<py::dict>(config)) return py::module_::import("json").attr("dumps")(config).cast<std::string>();
    throw Exception(ErrorCode::InvalidConfig, "invalid provider configuration: config must be a dict, got " +
                                                  std::string(py::str(py::type::of(config).attr("__name__"))));
}

// {old RegionID: new RegionID}, with the client module's RegionID values.
py::dict region_map(const mochi::warabi::MigrationResult& res) {
    py::object region = py::module_::import("_pywarabi_client").attr("RegionID");
    py::dict out;
    for (auto& [from, to] : res)
        out[region(py::bytes(reinterpret_cast<const char*>(from.data()), 16))] =
            region(py::bytes(reinterpret_cast<const char*>(to.data()), 16));
    return out;
}

}  // namespace

PYBIND11_MODULE(_pywarabi_server, m) {
    m.doc() = "kinako Warabi provider (mochi.warabi.server)";
    py::register_local_exception<Exception>(m, "Exception");

    py::class_<PyProvider>(m, "Provider")
        .def(py::init([](py::object engine, uint16_t provider_id, py::object config) {
            auto e = kinako::python::engine_from(engine);
            std::string text = config_text(config);
            auto* p = new PyProvider();
            p->engine = engine;
            try {
                kinako::python::GilRelease nogil;  // opening a pmdk pool or a big file takes a while
                p->provider = std::make_unique<mochi::warabi::Provider>(e, provider_id, text);
            } catch (...) {
                delete p;
                throw;
            }
            return p;
        }), "engine"_a, "provider_id"_a, "config"_a = py::dict())
        .def("__bool__", [](const PyProvider& p) { return p.provider && static_cast<bool>(*p.provider); })
        .def_property_readonly("provider_id", [](const PyProvider& p) { return p.p().provider_id(); })
        .def("get_config", [](const PyProvider& p) {
            return py::module_::import("json").attr("loads")(p.p().get_config());
        })
        .def("migrate", [](const PyProvider& p, const std::string& address, uint16_t provider_id, bool remove_source,
                           size_t transfer_size, py::object new_root, py::object merge_config) {
            auto opt = kinako::python::warabi::migration_options(remove_source, transfer_size, new_root, merge_config);
            mochi::warabi::MigrationResult res;
            {
                kinako::python::GilRelease nogil;
                res = p.p().migrate(address, provider_id, opt);
            }
            return region_map(res);
        }, "address"_a, "provider_id"_a, "remove_source"_a = true, "transfer_size"_a = size_t(16) << 20,
           "new_root"_a = py::none(), "merge_config"_a = py::none())
        .def("snapshot", [](const PyProvider& p, py::object dest_dir, bool remove_source) {
            std::string dir = kinako::python::warabi::path_argument(dest_dir, "dest_dir");
            kinako::python::GilRelease nogil;
            p.p().snapshot(dir, remove_source);
        }, "dest_dir"_a, "remove_source"_a = false)
        // A provider without a target gets one like the snapshot's source, placed by new_root
        // and merge_config as migrate places it.
        .def("restore", [](const PyProvider& p, py::object src_dir, py::object new_root, py::object merge_config) {
            std::string dir = kinako::python::warabi::path_argument(src_dir, "src_dir");
            auto opt = kinako::python::warabi::restore_options(new_root, merge_config);
            mochi::warabi::MigrationResult res;
            {
                kinako::python::GilRelease nogil;
                res = p.p().restore(dir, opt);
            }
            return region_map(res);
        }, "src_dir"_a, "new_root"_a = py::none(), "merge_config"_a = py::none());
}
