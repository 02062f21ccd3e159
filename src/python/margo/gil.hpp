// Taking the GIL from engine threads. Python handlers run as fibers, several of which may
// share one OS thread and interleave while blocked (GIL released). A fiber in Python has a
// PyThreadState no other fiber uses at the same time, so their Python frame stacks never mix
// (see gil.cpp for how they are kept).
#pragma once

#include <pybind11/pybind11.h>

namespace kinako::python {

extern "C" PyThreadState* _PyThreadState_UncheckedGet(void);

class GilAcquire {
  public:
    GilAcquire();
    ~GilAcquire();
    GilAcquire(const GilAcquire&) = delete;
    GilAcquire& operator=(const GilAcquire&) = delete;

  private:
    enum { kAlreadyHeld, kGilState, kThreadTState, kOwnTState } how_;
    PyGILState_STATE gstate_{};
    PyThreadState* tstate_ = nullptr;
};

// A Python object reference that may be dropped from any thread.
class PyRef {
  public:
    explicit PyRef(pybind11::object o) : obj_(o.release().ptr()) {}
    ~PyRef();
    PyObject* get() const { return obj_; }
    pybind11::object object() const { return pybind11::reinterpret_borrow<pybind11::object>(obj_); }

  private:
    PyObject* obj_;
};

}  // namespace kinako::python
