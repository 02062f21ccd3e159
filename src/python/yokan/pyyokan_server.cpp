// pyyokan_server: the Yokan Provider, created on an engine (any object with `mid`, or the
// margo_instance_id capsule itself) under a provider id, with Yokan's JSON config string.
#include "yokan_py.hpp"
#include "../common/gil_release.hpp"

#include "../common/capsules.hpp"

#include <mochi/yokan/provider.hpp>

namespace py = pybind11;
namespace yk = mochi::yokan;
using namespace pybind11::literals;
using namespace kinako::python::yokan;

namespace {

Holder<yk::Provider> make_provider(py::handle engine, uint16_t provider_id, py::handle config) {
    if (!PyUnicode_Check(config.ptr()))
        throw py::type_error("config must be a JSON string (use json.dumps for a dict), not " + type_name(config));
    std::string cfg = config.cast<std::string>();
    mochi::margo::Engine e = kinako::python::engine_from(engine);
    kinako::python::GilRelease r;
    return Holder<yk::Provider>(new yk::Provider(e, provider_id, cfg));
}

}  // namespace

PYBIND11_MODULE(pyyokan_server, m) {
    m.doc() = "kinako Yokan server: Provider";
    install_exception_translator();
    py::module_ common = py::module_::import("pyyokan_common");
    m.attr("Exception") = common.attr("Exception");

    py::class_<yk::Provider, Holder<yk::Provider>> provider(m, "Provider",
        "A Yokan provider: one database served under provider_id on the engine.");
    provider.def(py::init([](py::handle engine, uint16_t provider_id, py::handle config) {
        return make_provider(engine, provider_id, config);
    }), "engine"_a, "provider_id"_a, "config"_a);
    provider.def(py::init([](py::handle mid, uint16_t provider_id, py::handle config) {
        return make_provider(mid, provider_id, config);
    }), py::kw_only(), "mid"_a, "provider_id"_a, "config"_a);
}
