// Releasing the GIL around a blocking call, in a way that stays right on engine threads.
//
// Handler fibers of one OS thread interleave where they block, each with its own
// PyThreadState (src/python/margo/gil.cpp). pybind11's gil_scoped_acquire (used, among others,
// when an error_already_set is destroyed) looks for "this thread's" state in its own TLS and
// then in PyGILState; on a thread running several fibers that may be another fiber's state,
// and acquiring it while already holding the GIL deadlocks. So whenever a fiber (re)enters
// Python, pybind11's TLS is pointed at the state it really runs with, or cleared when that
// state is the one PyGILState already names. Use GilRelease instead of
// pybind11::gil_scoped_release in the bindings.
#pragma once

#include <pybind11/pybind11.h>

namespace kinako::python {

// Tells pybind11 which thread state the calling code runs with (see above).
inline void note_current_thread_state(PyThreadState* t) {
    auto& internals = pybind11::detail::get_internals();
    if (t == nullptr || t == PyGILState_GetThisThreadState())
        internals.tstate.reset();
    else
        internals.tstate = t;
}

class GilRelease {
  public:
    GilRelease() : tstate_(PyEval_SaveThread()) {}
    ~GilRelease() {
        PyEval_RestoreThread(tstate_);
        note_current_thread_state(tstate_);
    }
    GilRelease(const GilRelease&) = delete;
    GilRelease& operator=(const GilRelease&) = delete;

  private:
    PyThreadState* tstate_;
};

}  // namespace kinako::python
