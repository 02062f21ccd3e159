// pybedrock_server: the in-process bedrock Server behind mochi.bedrock.server (the extension
// name is py-mochi-bedrock's). Client-side handles are in pybedrock_client.
#include "../common/capsules.hpp"
#include "../common/gil_release.hpp"

#include <mochi/bedrock/server.hpp>
#include <mochi/flock/view.hpp>

#include <pybind11/stl.h>

namespace py = pybind11;
using namespace mochi::bedrock;

namespace {

py::capsule engine_capsule(const mochi::margo::Engine& e) {
    return py::capsule(new mochi::margo::Engine(e), "margo_instance_id", [](PyObject* cap) {
        delete static_cast<mochi::margo::Engine*>(PyCapsule_GetPointer(cap, "margo_instance_id"));
    });
}

template <typename F>
auto server_call(F&& f) -> decltype(f()) {
    kinako::python::GilRelease nogil;
    return f();
}

}  // namespace

PYBIND11_MODULE(pybedrock_server, m) {
    m.doc() = "kinako bedrock: the in-process server";
    static py::exception<Exception> server_exc(m, "BedrockException", PyExc_RuntimeError);
    // Local: flock errors raised by other extensions keep their own exception type.
    py::register_local_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const Exception& e) {
            PyErr_SetString(server_exc.ptr(), e.what());
        } catch (const mochi::flock::Exception& e) {
            PyErr_SetString(server_exc.ptr(), e.what());
        }
    });

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
}
