// _pybedrock: the bedrock Server (in-process) and ServiceHandle (client) for mochi.bedrock.
#include "../common/capsules.hpp"
#include "../common/gil_release.hpp"

#include <mochi/bedrock/client.hpp>
#include <mochi/bedrock/server.hpp>
#include <mochi/flock/view.hpp>

#include <pybind11/stl.h>

namespace py = pybind11;
using namespace mochi::bedrock;

namespace {

py::object g_client_exception;

py::capsule engine_capsule(const mochi::margo::Engine& e) {
    return py::capsule(new mochi::margo::Engine(e), "margo_instance_id", [](PyObject* cap) {
        delete static_cast<mochi::margo::Engine*>(PyCapsule_GetPointer(cap, "margo_instance_id"));
    });
}

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

template <typename F>
auto server_call(F&& f) -> decltype(f()) {
    kinako::python::GilRelease nogil;
    return f();
}

}  // namespace

PYBIND11_MODULE(_pybedrock, m) {
    m.doc() = "kinako bedrock: in-process server and service handles";
    static py::exception<Exception> server_exc(m, "BedrockException", PyExc_RuntimeError);
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const Exception& e) {
            PyErr_SetString(server_exc.ptr(), e.what());
        } catch (const mochi::flock::Exception& e) {
            PyErr_SetString(server_exc.ptr(), e.what());
        }
    });
    g_client_exception = py::reinterpret_borrow<py::object>(
        PyErr_NewException("_pybedrock.ClientException", PyExc_RuntimeError, nullptr));
    m.attr("ClientException") = g_client_exception;

    m.def("preprocess_config", [](const std::string& cfg, int rank, int size) {
        ServerOptions o;
        o.rank = rank;
        o.size = size;
        return preprocess_config(cfg, o);
    }, py::arg("config"), py::arg("rank") = 0, py::arg("size") = 1);
    m.def("evaluate_query", &evaluate_query, py::arg("script"), py::arg("variables") = "{}");

    py::class_<Server, std::shared_ptr<Server>>(m, "Server")
        .def(py::init([](const std::string& address, const std::string& config, int rank, int size) {
                 ServerOptions o;
                 o.rank = rank;
                 o.size = size;
                 kinako::python::GilRelease nogil;
                 return std::make_shared<Server>(address, config, o);
             }),
             py::arg("address"), py::arg("config") = "{}", py::arg("rank") = 0, py::arg("size") = 1)
        .def("get_margo_instance", [](const Server& s, int i) { return engine_capsule(s.engine(i)); },
             py::arg("index") = 0)
        .def("num_engines", &Server::num_engines)
        .def("get_config", [](const Server& s) { return server_call([&] { return s.config(); }); })
        .def("query", [](const Server& s, const std::string& q) { return server_call([&] { return s.query(q); }); })
        .def("load_module", [](Server& s, const std::string& p) { server_call([&] { s.load_module(p); }); })
        .def("add_provider", [](Server& s, const std::string& d) { return server_call([&] { return s.add_provider(d); }); })
        .def("remove_provider", [](Server& s, const std::string& n) { server_call([&] { s.remove_provider(n); }); })
        .def("providers", [](const Server& s) {
            std::vector<py::tuple> out;
            for (auto& p : s.providers()) out.push_back(py::make_tuple(p.name, p.type, p.provider_id, p.engine));
            return out;
        })
        .def("lookup_provider", [](const Server& s, const std::string& spec, double timeout) {
            auto p = server_call([&] { return s.lookup_provider(spec, timeout); });
            return py::make_tuple(p.name, p.type, p.provider_id, p.engine);
        }, py::arg("spec"), py::arg("timeout") = 0.0)
        .def("change_provider_pool", [](Server& s, const std::string& n, const std::string& p) {
            server_call([&] { s.change_provider_pool(n, p); });
        })
        .def("migrate_provider", [](Server& s, const std::string& n, const std::string& a, uint16_t id,
                                    const std::string& cfg, bool rm) {
            server_call([&] { s.migrate_provider(n, a, id, cfg, rm); });
        })
        .def("snapshot_provider", [](Server& s, const std::string& n, const std::string& path, const std::string& cfg,
                                     bool rm) { server_call([&] { s.snapshot_provider(n, path, cfg, rm); }); })
        .def("restore_provider", [](Server& s, const std::string& n, const std::string& path, const std::string& cfg) {
            server_call([&] { s.restore_provider(n, path, cfg); });
        })
        .def("add_pool", [](Server& s, const std::string& c) { server_call([&] { s.add_pool(c); }); })
        .def("remove_pool", [](Server& s, const std::string& n) { server_call([&] { s.remove_pool(n); }); })
        .def("add_xstream", [](Server& s, const std::string& c) { server_call([&] { s.add_xstream(c); }); })
        .def("remove_xstream", [](Server& s, const std::string& n) { server_call([&] { s.remove_xstream(n); }); })
        .def("finalize", [](Server& s) { server_call([&] { s.finalize(); }); })
        .def("wait_for_finalize", [](Server& s) { server_call([&] { s.wait_for_finalize(); }); });

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
