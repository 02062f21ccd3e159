// _pymargo: the extension behind mochi.margo (see docs/internal/pymargo-binding.md).
// Engines, addresses and bulks travel as PyCapsules named like Margo's C types so that other
// extensions (yokan, warabi, bedrock) can take the same engine.
#include <mochi/margo/engine.hpp>
#include "../../margo/engine_impl.hpp"
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include "../common/gil_release.hpp"
#include <pybind11/stl.h>

#include "../../margo/scheduler.hpp"
#include "gil.hpp"
#include "payload.hpp"

#include <iostream>
#include <memory>

namespace py = pybind11;
using namespace mochi::margo;
using kinako::python::GilAcquire;
using kinako::python::MidScope;
using kinako::python::PyRef;

namespace {

PyObject* g_timeout_error = nullptr;
PyObject* g_margo_exception = nullptr;
// Set by mochi.margo.core at import (_set_hooks): the Python Request wrapper returned by
// respond(blocking=False), and the reporter of exceptions escaping a handler.
PyObject* g_request_type = nullptr;
PyObject* g_handler_error = nullptr;

[[noreturn]] void raise_margo(const Exception& e) {
    if (e.status() == Status::Timeout)
        PyErr_SetString(g_timeout_error, e.what());
    else
        PyErr_SetString(g_margo_exception, e.what());
    throw py::error_already_set();
}

// ---- capsules

Engine& engine_of(py::handle cap) {
    auto* e = static_cast<Engine*>(PyCapsule_GetPointer(cap.ptr(), "margo_instance_id"));
    if (!e) throw py::error_already_set();
    return *e;
}

void drop_engine(Engine* e) {
    // Not the last reference (the common case: handles and capsules made per request): a plain
    // refcount drop. Without the GIL, in case another holder let go at the same moment and this
    // one turns out to finalize after all.
    if (e->impl().use_count() > 1) {
        kinako::python::GilRelease release;
        delete e;
        return;
    }
    // Dropping the last reference finalizes: never on an engine thread, never with the GIL.
    if (kinako::margo::Xstream::current()) {
        std::thread([e] { delete e; }).detach();
        return;
    }
    kinako::python::GilRelease release;
    delete e;
}

py::capsule make_engine_capsule(Engine e) {
    return py::capsule(new Engine(std::move(e)), "margo_instance_id", [](PyObject* cap) {
        auto* e = static_cast<Engine*>(PyCapsule_GetPointer(cap, "margo_instance_id"));
        if (e) drop_engine(e);
    });
}

py::object engine_capsule_of(const Engine& e) { return make_engine_capsule(e); }

Address& addr_of(py::handle cap) {
    auto* a = static_cast<Address*>(PyCapsule_GetPointer(cap.ptr(), "hg_addr_t"));
    if (!a) throw py::error_already_set();
    return *a;
}

py::capsule make_addr_capsule(Address a) {
    return py::capsule(new Address(std::move(a)), "hg_addr_t", [](PyObject* cap) {
        delete static_cast<Address*>(PyCapsule_GetPointer(cap, "hg_addr_t"));
    });
}

struct PyBulk {
    Bulk bulk;
    Py_buffer view{};
    bool has_view = false;
    ~PyBulk() {
        if (has_view) PyBuffer_Release(&view);
    }
};

PyBulk& bulk_of(py::handle cap) {
    auto* b = static_cast<PyBulk*>(PyCapsule_GetPointer(cap.ptr(), "hg_bulk_t"));
    if (!b) throw py::error_already_set();
    return *b;
}

py::capsule make_bulk_capsule(PyBulk* b) {
    return py::capsule(b, "hg_bulk_t", [](PyObject* cap) {
        delete static_cast<PyBulk*>(PyCapsule_GetPointer(cap, "hg_bulk_t"));
    });
}

// ---- handles and requests

struct PyHandle {
    Engine engine;
    Address target;  // client side: where forward goes; server side: the sender
    uint64_t rpc_id = 0;
    uint16_t provider_id = 0;
    Request request;  // server side only
    Response response;
};

struct PyRequest {
    AsyncResponse call;
    AsyncTransfer transfer;
    std::shared_ptr<PyHandle> handle;  // forward: where the output goes
    py::object keep_alive;             // the input bytes, until the call completes
    bool is_transfer = false;
    bool waited = false;
    void wait() {
        if (waited) {
            PyErr_SetString(g_margo_exception, "Request already waited on");
            throw py::error_already_set();
        }
        waited = true;
        try {
            kinako::python::GilRelease release;
            if (is_transfer)
                transfer.wait();
            else {
                Response r = call.wait();
                if (handle) handle->response = r;
            }
        } catch (const Exception& e) {
            raise_margo(e);
        }
    }
    bool test() const { return is_transfer ? transfer.test() : call.test(); }
};

std::string_view view_of(const py::bytes& b) {
    char* data;
    Py_ssize_t len;
    if (PyBytes_AsStringAndSize(b.ptr(), &data, &len) != 0) throw py::error_already_set();
    return std::string_view(data, static_cast<size_t>(len));
}

void call_logger(const PyRef& logger, LogLevel level, const std::string& msg) {
    static const char* methods[] = {"critical", "trace", "debug", "info", "warning", "error", "critical"};
    GilAcquire gil;
    try {
        logger.object().attr(methods[static_cast<int>(level)])(msg);
    } catch (py::error_already_set& e) {
        e.discard_as_unraisable("kinako logger");
    }
}

LogSink make_sink(py::object logger) {
    if (logger.is_none()) return nullptr;
    auto ref = std::make_shared<PyRef>(logger);
    return [ref](LogLevel level, const std::string& msg) { call_logger(*ref, level, msg); };
}

void call_handler(PyObject* func, const std::shared_ptr<PyHandle>& h) {
    py::object handle = py::cast(h);
    py::object payload;
    {
        MidScope scope(h->engine);
        std::string_view in = h->request.input();
        payload = in.empty() ? py::none() : kinako::python::pickle_loads(in);
    }
    py::object args = py::tuple(), kwargs = py::dict();
    if (PyDict_Check(payload.ptr())) {
        if (PyObject* a = PyDict_GetItemString(payload.ptr(), "args")) args = py::reinterpret_borrow<py::object>(a);
        if (PyObject* k = PyDict_GetItemString(payload.ptr(), "kwargs")) kwargs = py::reinterpret_borrow<py::object>(k);
    }
    if (!PyTuple_Check(args.ptr())) args = py::tuple(args);
    Py_ssize_t n = PyTuple_GET_SIZE(args.ptr());
    py::tuple call_args(n + 1);
    call_args[0] = handle;
    for (Py_ssize_t i = 0; i < n; i++) call_args[i + 1] = py::reinterpret_borrow<py::object>(PyTuple_GET_ITEM(args.ptr(), i));
    PyObject* r = PyObject_Call(func, call_args.ptr(), PyDict_Check(kwargs.ptr()) && PyDict_GET_SIZE(kwargs.ptr()) ? kwargs.ptr() : nullptr);
    if (!r) throw py::error_already_set();
    Py_DECREF(r);
}

void report_handler_error(const std::string& name, py::error_already_set& err) {
    if (g_handler_error) {
        try {
            py::object tb = err.trace() ? py::object(err.trace()) : py::object(py::none());
            py::reinterpret_borrow<py::object>(g_handler_error)(name, err.value(), tb);
            return;
        } catch (py::error_already_set& again) {
            again.discard_as_unraisable("kinako handler error reporter");
        }
    }
    std::cerr << "[Py-Margo] ERROR: exception in handler of RPC \"" << name << "\": " << err.what() << std::endl;
}

}  // namespace

PYBIND11_MODULE(_pymargo, m) {
    m.doc() = "kinako engine bindings (the py-mochi-margo extension)";
    kinako::python::set_engine_capsule_maker(&engine_capsule_of);

    g_margo_exception = PyErr_NewException("_pymargo.MargoException", PyExc_Exception, nullptr);
    m.attr("MargoException") = py::handle(g_margo_exception);
    py::tuple bases = py::make_tuple(py::handle(g_margo_exception), py::handle(PyExc_TimeoutError));
    g_timeout_error = PyErr_NewException("_pymargo.MargoTimeoutError", bases.ptr(), nullptr);
    m.attr("MargoTimeoutError") = py::handle(g_timeout_error);
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const Exception& e) {
            PyErr_SetString(e.status() == Status::Timeout ? g_timeout_error : g_margo_exception, e.what());
        }
    });

    py::enum_<Mode>(m, "mode").value("client", Mode::Client).value("server", Mode::Server).export_values();
    py::enum_<BulkAccess>(m, "access")
        .value("read_only", BulkAccess::ReadOnly)
        .value("write_only", BulkAccess::WriteOnly)
        .value("read_write", BulkAccess::ReadWrite);
    py::enum_<BulkOp>(m, "xfer").value("push", BulkOp::Push).value("pull", BulkOp::Pull);
    py::enum_<LogLevel>(m, "log_level")
        .value("external", LogLevel::External)
        .value("trace", LogLevel::Trace)
        .value("debug", LogLevel::Debug)
        .value("info", LogLevel::Info)
        .value("warning", LogLevel::Warning)
        .value("error", LogLevel::Error)
        .value("critical", LogLevel::Critical);
    for (int s = 0; s <= 24; s++) m.attr(status_name(static_cast<Status>(s))) = s;

    // ---- engine
    m.def("init", [](const std::string& addr, int mode, bool use_progress_thread, int num_rpc_threads,
                     const std::string& config) {
        std::string cfg = config;
        if (cfg.empty() && (use_progress_thread || num_rpc_threads != 0)) {
            cfg = "{\"use_progress_thread\":" + std::string(use_progress_thread ? "true" : "false") +
                  ",\"rpc_thread_count\":" + std::to_string(mode == 0 ? 0 : num_rpc_threads) + "}";
        }
        try {
            kinako::python::GilRelease release;
            return make_engine_capsule(Engine(addr, static_cast<Mode>(mode), cfg));
        } catch (const std::invalid_argument& e) {
            throw std::runtime_error(std::string("margo_init() returned MARGO_INSTANCE_NULL: ") + e.what());
        } catch (const std::exception& e) {
            throw std::runtime_error(std::string("margo_init() returned MARGO_INSTANCE_NULL: ") + e.what());
        }
    }, py::arg("addr"), py::arg("mode"), py::arg("use_progress_thread") = false, py::arg("num_rpc_threads") = 0,
       py::arg("config") = "");
    m.def("finalize", [](py::handle mid) {
        Engine e = engine_of(mid);
        kinako::python::GilRelease release;
        e.finalize();
    });
    m.def("is_finalized", [](py::handle mid) { return engine_of(mid).finalized(); });
    m.def("wait_for_finalize", [](py::handle mid) {
        Engine e = engine_of(mid);
        kinako::python::GilRelease release;
        e.wait_for_finalize();
    });
    m.def("is_listening", [](py::handle mid) { return engine_of(mid).listening(); });
    m.def("enable_remote_shutdown", [](py::handle mid) { engine_of(mid).enable_remote_shutdown(); });
    auto wrap_cb = [](py::object fn) {
        auto ref = std::make_shared<PyRef>(fn);
        return [ref] {
            GilAcquire gil;
            try {
                ref->object()();
            } catch (py::error_already_set& e) {
                e.discard_as_unraisable("finalize callback");
            }
        };
    };
    m.def("push_prefinalize_callback", [wrap_cb](py::handle mid, py::object fn) {
        engine_of(mid).push_prefinalize_callback(wrap_cb(fn));
    });
    m.def("push_finalize_callback", [wrap_cb](py::handle mid, py::object fn) {
        engine_of(mid).push_finalize_callback(wrap_cb(fn));
    });
    m.def("get_config", [](py::handle mid) { return engine_of(mid).config(); });
    m.def("sleep", [](py::handle mid, double ms) {
        Engine e = engine_of(mid);
        kinako::python::GilRelease release;
        e.sleep(ms);
    });

    // ---- RPC registry
    // A Python handler: func(handle, *args, **kwargs), with args and kwargs unpickled from the
    // request as py-mochi-margo sends them ({"args": ..., "kwargs": ...}).
    m.def("register", [](py::handle mid, const std::string& name, uint16_t provider_id, py::object func) {
        Engine& e = engine_of(mid);
        if (func.is_none()) return e.declare(name, provider_id);
        auto ref = std::make_shared<PyRef>(func);
        // The engine is captured weakly through the handle so a handler does not keep it alive.
        std::weak_ptr<mochi::margo::detail::EngineImpl> weak = e.impl();
        return e.define(name, [ref, weak, name](const Request& req) {
            auto h = std::make_shared<PyHandle>();
            {
                auto impl = weak.lock();
                if (!impl) return;
                h->engine = Engine::from_impl(std::move(impl));
            }
            h->target = req.source();
            h->rpc_id = req.rpc_id();
            h->provider_id = req.provider_id();
            h->request = req;
            GilAcquire gil;
            try {
                call_handler(ref->get(), h);
            } catch (py::error_already_set& err) {
                report_handler_error(name, err);
            }
            h.reset();  // with the GIL: the Python handle may go with it
        }, provider_id);
    }, py::arg("mid"), py::arg("name"), py::arg("provider_id") = 0, py::arg("handler") = py::none());
    m.def("registered", [](py::handle mid, const std::string& name, uint16_t provider_id) -> py::object {
        uint64_t id = rpc_id_of(name);
        if (engine_of(mid).is_registered(id, provider_id)) return py::int_(id);
        return py::none();
    });
    m.def("disable_response", [](py::handle mid, uint64_t id, uint16_t pid, bool d) { engine_of(mid).disable_response(id, pid, d); });
    m.def("disabled_response", [](py::handle mid, uint64_t id, uint16_t pid) { return engine_of(mid).response_disabled(id, pid); });
    m.def("deregister", [](py::handle mid, uint64_t id, uint16_t pid) { engine_of(mid).deregister(id, pid); });

    // ---- addresses
    m.def("addr_self", [](py::handle mid) { return make_addr_capsule(engine_of(mid).self()); });
    m.def("lookup", [](py::handle mid, const std::string& s) {
        Engine e = engine_of(mid);
        Address a;
        {
            kinako::python::GilRelease release;
            a = e.lookup(s);
        }
        return make_addr_capsule(a);
    });
    m.def("addr_to_string", [](py::handle, py::handle a) { return addr_of(a).to_string(); });
    m.def("addr_cmp", [](py::handle, py::handle a, py::handle b) { return addr_of(a) == addr_of(b); });
    m.def("addr_dup", [](py::handle, py::handle a) { return make_addr_capsule(addr_of(a)); });
    m.def("addr_set_remove", [](py::handle, py::handle) {});
    m.def("shutdown_remote_instance", [](py::handle, py::handle a) {
        Address addr = addr_of(a);
        kinako::python::GilRelease release;
        addr.shutdown();
    });

    // ---- handles
    py::class_<PyHandle, std::shared_ptr<PyHandle>>(m, "Handle")
        .def("_forward", [](PyHandle& h, uint16_t provider_id, py::bytes data, double timeout_ms) {
            std::string_view in = view_of(data);
            kinako::python::GilRelease release;
            h.response = h.engine.forward(h.target, h.rpc_id, in, provider_id, timeout_ms);
        }, py::arg("provider_id"), py::arg("data"), py::arg("timeout") = 0.0)
        .def("_iforward", [](std::shared_ptr<PyHandle> h, uint16_t provider_id, py::bytes data, double timeout_ms) {
            auto r = std::make_shared<PyRequest>();
            r->keep_alive = data;
            r->handle = h;
            std::string_view in = view_of(data);
            {
                kinako::python::GilRelease release;
                r->call = h->engine.iforward(h->target, h->rpc_id, in, provider_id, timeout_ms);
            }
            return r;
        }, py::arg("provider_id"), py::arg("data"), py::arg("timeout") = 0.0)
        .def("_get_output", [](PyHandle& h) {
            auto out = h.response.output();
            return py::bytes(out.data(), out.size());
        })
        .def("_get_input", [](PyHandle& h) {
            auto in = h.request.input();
            return py::bytes(in.data(), in.size());
        })
        .def("_respond", [](PyHandle& h, py::bytes data) {
            std::string_view out = view_of(data);
            kinako::python::GilRelease release;
            h.request.respond(out);
        })
        .def("_irespond", [](PyHandle& h, py::bytes data) {
            // Responses are sent eagerly; the request is complete when this returns.
            std::string_view out = view_of(data);
            {
                kinako::python::GilRelease release;
                h.request.respond(out);
            }
            auto r = std::make_shared<PyRequest>();
            r->is_transfer = true;  // an empty transfer: test() is true, wait() returns
            return r;
        })
        // respond(data=None, blocking=True): the handler's answer, pickled as py-mochi-margo does.
        .def("respond", [](std::shared_ptr<PyHandle> h, py::handle data, bool blocking) -> py::object {
            py::bytes payload;
            {
                MidScope scope(h->engine);
                payload = kinako::python::pickle_dumps(data);
            }
            std::string_view out = view_of(payload);
            {
                kinako::python::GilRelease release;
                h->request.respond(out);
            }
            if (blocking) return py::none();
            // Responses are sent eagerly: the returned request is already complete.
            auto r = std::make_shared<PyRequest>();
            r->is_transfer = true;
            return py::reinterpret_borrow<py::object>(g_request_type)(py::cast(r));
        }, py::arg("data") = py::none(), py::arg("blocking") = true)
        .def("get_id", [](PyHandle& h) { return h.rpc_id; })
        .def("get_provider_id", [](PyHandle& h) { return h.provider_id; })
        .def("_get_mid", [](PyHandle& h) { return make_engine_capsule(h.engine); })
        .def("_get_hg_addr", [](PyHandle& h) { return make_addr_capsule(h.target); });

    py::class_<PyRequest, std::shared_ptr<PyRequest>>(m, "Request")
        .def("wait", &PyRequest::wait)
        .def("test", &PyRequest::test);

    // The blocking call of CallableRemoteFunction in one step: pickle {"args", "kwargs"},
    // forward without the GIL, unpickle the output (None when there is none).
    m.def("call", [](py::handle mid, py::handle hg_addr, uint64_t rpc_id, uint16_t provider_id, py::handle args,
                     py::handle kwargs, double timeout_ms) -> py::object {
        Engine& e = engine_of(mid);
        Address& target = addr_of(hg_addr);
        py::bytes payload;
        {
            py::dict d;
            d["args"] = args;
            d["kwargs"] = kwargs;
            MidScope scope(mid);
            payload = kinako::python::pickle_dumps(d);
        }
        std::string_view in = view_of(payload);
        Response r;
        try {
            kinako::python::GilRelease release;
            r = e.forward(target, rpc_id, in, provider_id, timeout_ms);
        } catch (const Exception& ex) {
            raise_margo(ex);
        }
        std::string_view out = r.output();
        if (out.empty()) return py::none();
        MidScope scope(mid);
        return kinako::python::pickle_loads(out);
    });
    m.def("dumps", [](py::handle mid, py::handle obj) {
        MidScope scope(mid);
        return kinako::python::pickle_dumps(obj);
    });
    m.def("loads", [](py::handle mid, py::buffer data) {
        py::buffer_info info = data.request();
        MidScope scope(mid);
        return kinako::python::pickle_loads(std::string_view(static_cast<const char*>(info.ptr), static_cast<size_t>(info.size * info.itemsize)));
    });
    m.def("current_mid", &kinako::python::current_mid);
    m.def("_set_hooks", [](py::object request_type, py::object handler_error) {
        // Kept for the life of the process, like the module that sets them.
        g_request_type = request_type.release().ptr();
        g_handler_error = handler_error.release().ptr();
    });

    m.def("create_handle", [](py::handle mid, py::handle addr, uint64_t rpc_id) {
        auto h = std::make_shared<PyHandle>();
        h->engine = engine_of(mid);
        h->target = addr_of(addr);
        h->rpc_id = rpc_id;
        return h;
    });

    // ---- bulk
    m.def("bulk_create", [](py::handle mid, py::object buffer, int mode) {
        auto* b = new PyBulk();
        if (PyObject_GetBuffer(buffer.ptr(), &b->view, PyBUF_ANY_CONTIGUOUS) != 0) {
            PyErr_Clear();
            delete b;
            throw std::invalid_argument("Non-contiguous arrays not yet supported by PyMargo");
        }
        b->has_view = true;
        try {
            b->bulk = engine_of(mid).expose(b->view.buf, static_cast<size_t>(b->view.len), static_cast<BulkAccess>(mode));
        } catch (...) {
            delete b;
            throw;
        }
        return make_bulk_capsule(b);
    });
    m.def("bulk_to_bytes", [](py::handle bulk) { return py::bytes(bulk_of(bulk).bulk.serialize()); });
    m.def("bulk_from_bytes", [](py::handle mid, py::bytes data) {
        auto* b = new PyBulk();
        try {
            b->bulk = engine_of(mid).deserialize_bulk(std::string(data));
        } catch (...) {
            delete b;
            throw;
        }
        return make_bulk_capsule(b);
    });
    m.def("bulk_size", [](py::handle bulk) { return bulk_of(bulk).bulk.size(); });
    m.def("bulk_transfer", [](py::handle mid, int op, py::handle origin_addr, py::handle origin_bulk, size_t origin_offset,
                              py::handle local_bulk, size_t local_offset, size_t size, bool blocking) -> py::object {
        Engine e = engine_of(mid);
        Address origin = addr_of(origin_addr);
        Bulk remote = bulk_of(origin_bulk).bulk, local = bulk_of(local_bulk).bulk;
        auto r = std::make_shared<PyRequest>();
        r->is_transfer = true;
        {
            kinako::python::GilRelease release;
            r->transfer = e.itransfer(static_cast<BulkOp>(op), origin, remote, origin_offset, local, local_offset, size);
        }
        r->keep_alive = py::make_tuple(origin_bulk, local_bulk);
        if (!blocking) return py::cast(r);
        r->wait();
        return py::none();
    }, py::arg("mid"), py::arg("op"), py::arg("origin_addr"), py::arg("origin_bulk"), py::arg("origin_offset"),
       py::arg("local_bulk"), py::arg("local_offset"), py::arg("size"), py::arg("blocking") = true);

    // ---- logging
    m.def("set_global_logger", [](py::object logger) { set_global_log_sink(make_sink(logger)); });
    m.def("set_global_log_level", [](int level) { set_global_log_level(static_cast<LogLevel>(level)); });
    m.def("log_global", [](int level, const std::string& msg) { log_global(static_cast<LogLevel>(level), msg); });
    m.def("set_logger", [](py::handle mid, py::object logger) { engine_of(mid).set_log_sink(make_sink(logger)); });
    m.def("set_log_level", [](py::handle mid, int level) { engine_of(mid).set_log_level(static_cast<LogLevel>(level)); });
    m.def("log", [](py::handle mid, int level, const std::string& msg) {
        engine_of(mid).log(static_cast<LogLevel>(level), msg);
    });

    // Drop the global logger before the interpreter goes away.
    auto atexit = py::module_::import("atexit");
    atexit.attr("register")(py::cpp_function([] { set_global_log_sink(nullptr); }));
}
