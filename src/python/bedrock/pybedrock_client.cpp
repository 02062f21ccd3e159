// pybedrock_client: ServiceHandle (one bedrock server seen from a client) behind
// mochi.bedrock.client (the extension name is py-mochi-bedrock's).
#include "../common/capsules.hpp"
#include "../common/gil_release.hpp"

#include <mochi/bedrock/client.hpp>
#include <mochi/flock/view.hpp>

namespace py = pybind11;
using namespace mochi::bedrock;

namespace {

py::object g_client_exception;

// Runs f without the GIL; bedrock errors become ClientException.
template <typename F>
auto client_call(F&& f) -> decltype(f()) {
    try {
        kinako::python::GilRelease nogil;
        return f();
    } catch (const Exception& e) {
        PyErr_SetString(g_client_exception.ptr(), e.what());
        throw py::error_already_set();
    } catch (const mochi::flock::Exception& e) {
        PyErr_SetString(g_client_exception.ptr(), e.what());
        throw py::error_already_set();
    }
}

}  // namespace

PYBIND11_MODULE(pybedrock_client, m) {
    m.doc() = "kinako bedrock: service handles";
    g_client_exception = py::reinterpret_borrow<py::object>(
        PyErr_NewException("pybedrock_client.ClientException", PyExc_RuntimeError, nullptr));
    m.attr("ClientException") = g_client_exception;

    py::class_<ServiceHandle>(m, "ServiceHandle")
        .def(py::init([](py::handle engine, const std::string& address, uint16_t provider_id, double timeout_ms) {
                 auto e = kinako::python::engine_from(engine);
                 return client_call([&] { return ServiceHandle(e, address, provider_id, timeout_ms); });
             }),
             py::arg("engine"), py::arg("address"), py::arg("provider_id") = 0, py::arg("timeout_ms") = 0.0)
        .def_property_readonly("address", &ServiceHandle::address)
        .def_property_readonly("provider_id", &ServiceHandle::provider_id)
        .def("get_config", [](const ServiceHandle& h) { return client_call([&] { return h.get_config(); }); })
        .def("query", [](const ServiceHandle& h, const std::string& q) { return client_call([&] { return h.query(q); }); })
        .def("load_module", [](const ServiceHandle& h, const std::string& p) { client_call([&] { h.load_module(p); }); })
        .def("add_provider", [](const ServiceHandle& h, const std::string& d) { return client_call([&] { return h.add_provider(d); }); })
        .def("lookup_provider", [](const ServiceHandle& h, const std::string& s) { return client_call([&] { return h.lookup_provider(s); }); })
        .def("add_pool", [](const ServiceHandle& h, const std::string& c) { client_call([&] { h.add_pool(c); }); })
        .def("remove_pool", [](const ServiceHandle& h, const std::string& n) { client_call([&] { h.remove_pool(n); }); })
        .def("add_xstream", [](const ServiceHandle& h, const std::string& c) { client_call([&] { h.add_xstream(c); }); })
        .def("remove_xstream", [](const ServiceHandle& h, const std::string& n) { client_call([&] { h.remove_xstream(n); }); })
        .def("call", [](const ServiceHandle& h, const std::string& rpc, const std::string& a) { return client_call([&] { return h.call(rpc, a); }); })
        .def("shutdown", [](const ServiceHandle& h) { client_call([&] { h.shutdown(); }); });

    m.def("load_group_file", [](const std::string& path) {
        return client_call([&] { return mochi::flock::GroupView::load(path).to_json(); });
    });
}
