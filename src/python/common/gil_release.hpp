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

// pybind11 also keeps, per OS thread, the stack of argument-loader frames of the bound calls in
// progress (loader_life_support), and checks on return that the returning call's frame is on
// top. Fibers that block inside bound calls (engine.sleep, a nested RPC) interleave their
// returns on one thread, so a frame pushed by another fiber meanwhile aborted the process
// ("loader_life_support: internal error"). A fiber that lets go of the GIL therefore takes its
// frames with it and puts them back when it returns. The slot is private to pybind11: reach it
// through an explicit instantiation (which is exempt from access checks), per translation unit.
namespace {
#if PYBIND11_VERSION_HEX >= 0x03010000
using LoaderFrameSlot = pybind11::detail::loader_life_support*& (*)();
template <LoaderFrameSlot Slot>
struct LoaderFrameAccess {
    friend LoaderFrameSlot loader_frame_slot() { return Slot; }
};
LoaderFrameSlot loader_frame_slot();
template struct LoaderFrameAccess<&pybind11::detail::loader_life_support::tls_current_frame>;
inline pybind11::detail::loader_life_support* take_loader_frames() {
    auto& top = loader_frame_slot()();
    auto* saved = top;
    top = nullptr;
    return saved;
}
inline void restore_loader_frames(pybind11::detail::loader_life_support* saved) { loader_frame_slot()() = saved; }
#else
// Older pybind11 keeps the stack elsewhere; fibers blocking in bound calls must not interleave.
inline pybind11::detail::loader_life_support* take_loader_frames() { return nullptr; }
inline void restore_loader_frames(pybind11::detail::loader_life_support*) {}
#endif
}  // namespace

class GilRelease {
  public:
    GilRelease() : frames_(take_loader_frames()), tstate_(PyEval_SaveThread()) {}
    ~GilRelease() {
        PyEval_RestoreThread(tstate_);
        note_current_thread_state(tstate_);
        restore_loader_frames(frames_);
    }
    GilRelease(const GilRelease&) = delete;
    GilRelease& operator=(const GilRelease&) = delete;

  private:
    pybind11::detail::loader_life_support* frames_;
    PyThreadState* tstate_;
};

}  // namespace kinako::python
