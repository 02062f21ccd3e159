#include "payload.hpp"

#include "simple_pickle.hpp"

namespace py = pybind11;

namespace kinako::python {

namespace {

thread_local PyObject* t_mid_capsule = nullptr;  // borrowed for the scope
thread_local const mochi::margo::Engine* t_mid_engine = nullptr;
EngineCapsuleMaker g_make_capsule = nullptr;

struct Pickle {
    PyObject* dumps;
    PyObject* loads;
    PyObject* protocol;
};

// Looked up once; kept for the life of the process (module objects outlive every call).
const Pickle& pickle_functions() {
    static Pickle p = [] {
        py::module_ m = py::module_::import("pickle");
        auto keep = [&](const char* name) { return py::object(m.attr(name)).release().ptr(); };
        return Pickle{keep("dumps"), keep("loads"), keep("HIGHEST_PROTOCOL")};
    }();
    return p;
}

}  // namespace

void set_engine_capsule_maker(EngineCapsuleMaker maker) { g_make_capsule = maker; }

MidScope::MidScope(py::handle capsule) : prev_capsule_(t_mid_capsule), prev_engine_(t_mid_engine) {
    t_mid_capsule = capsule.ptr();
    t_mid_engine = nullptr;
}

MidScope::MidScope(const mochi::margo::Engine& engine) : prev_capsule_(t_mid_capsule), prev_engine_(t_mid_engine) {
    t_mid_capsule = nullptr;
    t_mid_engine = &engine;
}

MidScope::~MidScope() {
    t_mid_capsule = prev_capsule_;
    t_mid_engine = prev_engine_;
}

py::object current_mid() {
    if (t_mid_capsule) return py::reinterpret_borrow<py::object>(t_mid_capsule);
    if (t_mid_engine && g_make_capsule) return g_make_capsule(*t_mid_engine);
    return py::none();
}

py::bytes pickle_dumps(py::handle obj) {
    if (PyObject* fast = simple_pickle::encode(obj.ptr())) return py::reinterpret_steal<py::bytes>(fast);
    if (PyErr_Occurred()) throw py::error_already_set();
    const Pickle& p = pickle_functions();
    PyObject* out = PyObject_CallFunctionObjArgs(p.dumps, obj.ptr(), p.protocol, nullptr);
    if (!out) throw py::error_already_set();
    return py::reinterpret_steal<py::bytes>(out);
}

py::object pickle_loads(std::string_view data) {
    if (PyObject* fast = simple_pickle::decode(data)) return py::reinterpret_steal<py::object>(fast);
    if (PyErr_Occurred()) throw py::error_already_set();
    const Pickle& p = pickle_functions();
    // A read-only view of the engine's buffer: pickle copies what it keeps.
    PyObject* view = PyMemoryView_FromMemory(const_cast<char*>(data.data()), static_cast<Py_ssize_t>(data.size()), PyBUF_READ);
    if (!view) throw py::error_already_set();
    PyObject* out = PyObject_CallOneArg(p.loads, view);
    Py_DECREF(view);
    if (!out) throw py::error_already_set();
    return py::reinterpret_steal<py::object>(out);
}

}  // namespace kinako::python
