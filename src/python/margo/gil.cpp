#include "gil.hpp"

#include "../../margo/scheduler.hpp"

namespace kinako::python {

GilAcquire::GilAcquire() {
    // The GIL holder's thread state is process-wide; ours only if it names this OS thread.
    PyThreadState* holder = _PyThreadState_UncheckedGet();
    if (holder != nullptr && holder->thread_id == PyThread_get_thread_ident()) {
        how_ = kAlreadyHeld;  // this thread (fiber) already holds the GIL
    } else if (kinako::margo::Xstream::current() != nullptr) {
        static PyInterpreterState* interp = PyInterpreterState_Main();
        tstate_ = PyThreadState_New(interp);
        PyEval_RestoreThread(tstate_);
        how_ = kOwnTState;
    } else {
        gstate_ = PyGILState_Ensure();
        how_ = kGilState;
    }
}

GilAcquire::~GilAcquire() {
    if (how_ == kOwnTState) {
        PyThreadState_Clear(tstate_);
        PyThreadState_DeleteCurrent();
    } else if (how_ == kGilState) {
        PyGILState_Release(gstate_);
    }
}

PyRef::~PyRef() {
    if (!obj_ || !Py_IsInitialized()) return;
    GilAcquire gil;
    Py_DECREF(obj_);
}

}  // namespace kinako::python
