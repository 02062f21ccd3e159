#include "gil.hpp"

#include "../common/gil_release.hpp"

#include "../../margo/scheduler.hpp"

namespace kinako::python {

namespace {

// Each xstream thread keeps one thread state for its handler fibers. Creating and deleting one
// per request costs an mmap/munmap of its frame stack (and a TLB shootdown on every core). The
// first state made on a thread is also the one PyGILState (and pybind11's gil_scoped_acquire)
// finds for it, so code that takes the GIL that way inside a handler sees the state that
// already holds it. Only a fiber that enters Python while another fiber of the same thread is
// inside (blocked in a GIL-free call) gets a state of its own, made and deleted as before.
// The kept state is never deleted: at thread exit the interpreter may be shutting down, and
// the interpreter frees it at its own end.
struct ThreadStateSlot {
    PyThreadState* state = nullptr;
    bool in_use = false;
};
thread_local ThreadStateSlot t_slot;

}  // namespace

GilAcquire::GilAcquire() {
    // The GIL holder's thread state is process-wide; ours only if it names this OS thread.
    PyThreadState* holder = _PyThreadState_UncheckedGet();
    if (holder != nullptr && holder->thread_id == PyThread_get_thread_ident()) {
        how_ = kAlreadyHeld;  // this thread (fiber) already holds the GIL
    } else if (kinako::margo::Xstream::current() != nullptr) {
        static PyInterpreterState* interp = PyInterpreterState_Main();
        if (!t_slot.in_use) {
            if (!t_slot.state) t_slot.state = PyThreadState_New(interp);
            t_slot.in_use = true;
            tstate_ = t_slot.state;
            how_ = kThreadTState;
        } else {
            tstate_ = PyThreadState_New(interp);
            how_ = kOwnTState;
        }
        PyEval_RestoreThread(tstate_);
        note_current_thread_state(tstate_);
    } else {
        gstate_ = PyGILState_Ensure();
        how_ = kGilState;
    }
}

GilAcquire::~GilAcquire() {
    if (how_ == kThreadTState) {
        note_current_thread_state(nullptr);
        PyEval_SaveThread();
        t_slot.in_use = false;
    } else if (how_ == kOwnTState) {
        PyThreadState_Clear(tstate_);  // may run Python code: pybind11 must still see tstate_
        note_current_thread_state(nullptr);
        PyThreadState_DeleteCurrent();
    } else if (how_ == kGilState) {
        PyGILState_Release(gstate_);
    }
}

PyRef::~PyRef() {
    if (!obj_ || !Py_IsInitialized() || _Py_IsFinalizing()) return;  // Python is gone or going: leak
    GilAcquire gil;
    Py_DECREF(obj_);
}

}  // namespace kinako::python
