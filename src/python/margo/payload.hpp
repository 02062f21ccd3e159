// RPC payloads from Python: pickles, as in py-mochi-margo.
// Bulk objects inside a payload unpickle against the engine that received it; that engine is
// "the current mid" of the thread for the duration of one dumps/loads (pickling never releases
// the GIL, so fibers sharing the thread cannot interleave inside one).
#pragma once

#include <mochi/margo/engine.hpp>
#include <pybind11/pybind11.h>

#include <string_view>

namespace kinako::python {

// Makes a margo_instance_id capsule for an engine (set by the module at init).
using EngineCapsuleMaker = pybind11::object (*)(const mochi::margo::Engine&);
void set_engine_capsule_maker(EngineCapsuleMaker maker);

// Names the current mid for the scope: a capsule Python already has, or an engine (a capsule
// is then made only if a Bulk asks for it).
class MidScope {
  public:
    explicit MidScope(pybind11::handle capsule);
    explicit MidScope(const mochi::margo::Engine& engine);
    ~MidScope();
    MidScope(const MidScope&) = delete;
    MidScope& operator=(const MidScope&) = delete;

  private:
    PyObject* prev_capsule_;
    const mochi::margo::Engine* prev_engine_;
};

// The current mid as a capsule, or None outside of dumps/loads.
pybind11::object current_mid();

// pickle.dumps(obj, HIGHEST_PROTOCOL) / pickle.loads(data), with the current mid set by the
// caller's MidScope. loads reads `data` in place (no copy into a bytes object first). Plain
// values take simple_pickle's fast path; everything else goes through the pickle module.
pybind11::bytes pickle_dumps(pybind11::handle obj);
pybind11::object pickle_loads(std::string_view data);

}  // namespace kinako::python
