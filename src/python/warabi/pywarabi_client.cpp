// _pywarabi_client: the extension behind mochi.warabi.client (Client, TargetHandle, RegionID,
// AsyncRequest, AsyncCreateRequest, Exception), API-compatible with Mochi's Warabi binding.
// Every wait on the network releases the GIL.
#include <mochi/warabi/client.hpp>

#include "../common/capsules.hpp"
#include "buffer.hpp"
#include "migration_options.hpp"

#include <pybind11/pybind11.h>
#include "../common/gil_release.hpp"

namespace py = pybind11;
using namespace pybind11::literals;
using kinako::python::warabi::LentBuffer;
using mochi::warabi::ErrorCode;
using mochi::warabi::Exception;
using mochi::warabi::RegionID;

namespace {

// RegionID as a Python value type (a struct: std::array would be converted to a list).
struct PyRegionID {
    RegionID id{};
};

PyRegionID region_from_buffer(py::handle obj) {
    auto b = LentBuffer::get(obj, false);
    if (b->size() != 16) throw Exception(ErrorCode::InvalidArgument, "RegionID must be exactly 16 bytes");
    PyRegionID r;
    memcpy(r.id.data(), b->data(), 16);
    return r;
}

py::bytes region_bytes(const PyRegionID& r) { return py::bytes(reinterpret_cast<const char*>(r.id.data()), 16); }

struct PyAsyncRequest {
    mochi::warabi::AsyncRequest req;
    std::shared_ptr<LentBuffer> buffer;  // lent until the operation is over
    ~PyAsyncRequest() {
        // Never let the buffer go while the server may still write into it.
        if (!buffer) return;
        try {
            kinako::python::GilRelease nogil;
            req.wait();
        } catch (...) {
        }
    }
    void wait() {
        try {
            {
                kinako::python::GilRelease nogil;
                req.wait();
            }
            buffer.reset();
        } catch (...) {
            buffer.reset();
            throw;
        }
    }
    bool completed() const { return req.completed(); }
};

struct PyAsyncCreateRequest {
    mochi::warabi::AsyncCreateRequest req;
    std::shared_ptr<LentBuffer> buffer;
    ~PyAsyncCreateRequest() {
        if (!buffer) return;
        try {
            kinako::python::GilRelease nogil;
            static_cast<const mochi::warabi::AsyncRequest&>(req).wait();
        } catch (...) {
        }
    }
    PyRegionID wait() {
        PyRegionID r;
        try {
            {
                kinako::python::GilRelease nogil;
                r.id = req.wait();
            }
            buffer.reset();
        } catch (...) {
            buffer.reset();
            throw;
        }
        return r;
    }
    bool completed() const { return req.completed(); }
};

struct PyTargetHandle {
    mochi::warabi::TargetHandle handle;
    py::object engine;  // keeps the Python engine alive

    const mochi::warabi::TargetHandle& h() const {
        if (!handle) throw Exception(ErrorCode::InvalidArgument, "invalid TargetHandle");
        return handle;
    }
};

struct PyClient {
    mochi::warabi::Client client;
    py::object engine;
};

}  // namespace

PYBIND11_MODULE(_pywarabi_client, m) {
    m.doc() = "kinako Warabi client (mochi.warabi.client)";
    py::register_local_exception<Exception>(m, "Exception");

    py::class_<PyRegionID>(m, "RegionID")
        .def(py::init<>())
        .def(py::init([](py::object b) { return region_from_buffer(b); }), "data"_a)
        .def("to_bytes", &region_bytes)
        .def("__eq__", [](const PyRegionID& a, py::object b) -> py::object {
            if (!py::isinstance<PyRegionID>(b)) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
            return py::bool_(a.id == b.cast<const PyRegionID&>().id);
        })
        .def("__ne__", [](const PyRegionID& a, py::object b) -> py::object {
            if (!py::isinstance<PyRegionID>(b)) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
            return py::bool_(a.id != b.cast<const PyRegionID&>().id);
        })
        .def("__hash__", [](const PyRegionID& r) { return py::hash(region_bytes(r)); })
        .def("__repr__", [](const PyRegionID& r) { return "RegionID(" + mochi::warabi::to_hex(r.id) + ")"; })
        .def(py::pickle([](const PyRegionID& r) { return py::make_tuple(region_bytes(r)); },
                        [](py::tuple t) { return region_from_buffer(t[0]); }));

    py::class_<PyAsyncRequest>(m, "AsyncRequest")
        .def(py::init<>())
        .def("wait", &PyAsyncRequest::wait)
        .def("completed", &PyAsyncRequest::completed);

    py::class_<PyAsyncCreateRequest>(m, "AsyncCreateRequest")
        .def(py::init<>())
        .def("wait", &PyAsyncCreateRequest::wait)
        .def("completed", &PyAsyncCreateRequest::completed);

    py::class_<PyTargetHandle>(m, "TargetHandle")
        .def(py::init<>())
        .def("__bool__", [](const PyTargetHandle& t) { return static_cast<bool>(t.handle); })
        .def_property_readonly("address", [](const PyTargetHandle& t) { return t.handle.address(); })
        .def_property_readonly("provider_id", [](const PyTargetHandle& t) { return t.handle.provider_id(); })
        .def("create", [](const PyTargetHandle& t, size_t size) {
            PyRegionID r;
            kinako::python::GilRelease nogil;
            r.id = t.h().create(size);
            return r;
        }, "size"_a)
        .def("create_async", [](const PyTargetHandle& t, size_t size) {
            auto* a = new PyAsyncCreateRequest();
            a->req = t.h().create_async(size);
            return a;
        }, "size"_a)
        .def("write", [](const PyTargetHandle& t, const PyRegionID& region, size_t offset, py::object data, bool persist) {
            auto b = LentBuffer::get(data, false);
            kinako::python::GilRelease nogil;
            t.h().write(region.id, offset, b->data(), b->size(), persist);
        }, "region"_a, "offset"_a, "data"_a, "persist"_a = false)
        .def("write_async", [](const PyTargetHandle& t, const PyRegionID& region, size_t offset, py::object data, bool persist) {
            auto a = std::make_unique<PyAsyncRequest>();
            a->buffer = LentBuffer::get(data, false);
            a->req = t.h().write_async(region.id, offset, a->buffer->data(), a->buffer->size(), persist);
            return a.release();
        }, "region"_a, "offset"_a, "data"_a, "persist"_a = false)
        .def("read", [](const PyTargetHandle& t, const PyRegionID& region, size_t offset, size_t size) {
            auto out = py::reinterpret_steal<py::bytes>(PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(size)));
            if (!out) throw py::error_already_set();
            char* p = PyBytes_AS_STRING(out.ptr());
            {
                kinako::python::GilRelease nogil;
                t.h().read(region.id, offset, p, size);
            }
            return out;
        }, "region"_a, "offset"_a, "size"_a)
        .def("read_into", [](const PyTargetHandle& t, const PyRegionID& region, size_t offset, py::object buffer) {
            auto b = LentBuffer::get(buffer, true);
            kinako::python::GilRelease nogil;
            t.h().read(region.id, offset, b->data(), b->size());
        }, "region"_a, "offset"_a, "buffer"_a)
        .def("read_async", [](const PyTargetHandle& t, const PyRegionID& region, size_t offset, py::object buffer) {
            auto a = std::make_unique<PyAsyncRequest>();
            a->buffer = LentBuffer::get(buffer, true);
            a->req = t.h().read_async(region.id, offset, a->buffer->data(), a->buffer->size());
            return a.release();
        }, "region"_a, "offset"_a, "buffer"_a)
        .def("persist", [](const PyTargetHandle& t, const PyRegionID& region, size_t offset, size_t size) {
            kinako::python::GilRelease nogil;
            t.h().persist(region.id, offset, size);
        }, "region"_a, "offset"_a, "size"_a)
        .def("persist_async", [](const PyTargetHandle& t, const PyRegionID& region, size_t offset, size_t size) {
            auto* a = new PyAsyncRequest();
            a->req = t.h().persist_async(region.id, offset, size);
            return a;
        }, "region"_a, "offset"_a, "size"_a)
        .def("erase", [](const PyTargetHandle& t, const PyRegionID& region) {
            kinako::python::GilRelease nogil;
            t.h().erase(region.id);
        }, "region"_a)
        .def("erase_async", [](const PyTargetHandle& t, const PyRegionID& region) {
            auto* a = new PyAsyncRequest();
            a->req = t.h().erase_async(region.id);
            return a;
        }, "region"_a)
        .def("create_and_write", [](const PyTargetHandle& t, py::object data, bool persist) {
            auto b = LentBuffer::get(data, false);
            PyRegionID r;
            kinako::python::GilRelease nogil;
            r.id = t.h().create_and_write(b->data(), b->size(), persist);
            return r;
        }, "data"_a, "persist"_a = false)
        .def("set_eager_write_threshold", [](PyTargetHandle& t, size_t size) { t.handle.set_eager_write_threshold(size); }, "size"_a)
        .def("set_eager_read_threshold", [](PyTargetHandle& t, size_t size) { t.handle.set_eager_read_threshold(size); }, "size"_a)
        .def("migrate", [](const PyTargetHandle& t, const std::string& address, uint16_t provider_id, bool remove_source,
                           size_t transfer_size, py::object new_root, py::object merge_config) {
            auto opt = kinako::python::warabi::migration_options(remove_source, transfer_size, new_root, merge_config);
            mochi::warabi::MigrationResult res;
            {
                kinako::python::GilRelease nogil;
                res = t.h().migrate(address, provider_id, opt);
            }
            py::dict out;
            for (auto& [from, to] : res) out[py::cast(PyRegionID{from})] = py::cast(PyRegionID{to});
            return out;
        }, "address"_a, "provider_id"_a, "remove_source"_a = true, "transfer_size"_a = size_t(16) << 20,
           "new_root"_a = py::none(), "merge_config"_a = py::none());

    py::class_<PyClient>(m, "Client")
        .def(py::init([](py::object engine) {
            auto* c = new PyClient();
            c->client = mochi::warabi::Client(kinako::python::engine_from(engine));
            c->engine = engine;
            return c;
        }), "engine"_a)
        .def("make_target_handle", [](const PyClient& c, py::object address, uint16_t provider_id, bool check) {
            mochi::margo::Address addr;
            try {
                addr = kinako::python::address_from(c.client.engine(), address);
            } catch (const mochi::margo::Exception& e) {
                throw Exception(ErrorCode::InvalidArgument,
                                "cannot resolve address " + std::string(py::str(address)) + ": " + e.what());
            }
            auto* t = new PyTargetHandle();
            t->engine = c.engine;
            kinako::python::GilRelease nogil;
            t->handle = c.client.make_target_handle(addr, provider_id, check);
            return t;
        }, "address"_a, "provider_id"_a, "check"_a = true)
        .def("get_config", [](const PyClient& c) { return c.client.get_config(); });
}
