// Python buffers lent to C++ for the duration of a (possibly asynchronous) operation.
// Warabi accepts 1-D contiguous buffers only, and read targets must be writable; violations
// raise mochi.warabi.client.Exception with Warabi's messages.
#pragma once

#include <mochi/warabi/common.hpp>
#include <pybind11/pybind11.h>

#include <memory>

namespace kinako::python::warabi {

namespace py = pybind11;

class LentBuffer {
  public:
    LentBuffer() = default;
    LentBuffer(const LentBuffer&) = delete;
    LentBuffer& operator=(const LentBuffer&) = delete;
    ~LentBuffer() {
        if (!held_) return;
        py::gil_scoped_acquire gil;  // may be dropped from a GIL-free section
        PyBuffer_Release(&view_);
    }
    char* data() const { return static_cast<char*>(view_.buf); }
    size_t size() const { return static_cast<size_t>(view_.len); }

    static std::shared_ptr<LentBuffer> get(py::handle obj, bool writable) {
        auto b = std::make_shared<LentBuffer>();
        if (PyObject_GetBuffer(obj.ptr(), &b->view_, PyBUF_RECORDS_RO) != 0) throw py::error_already_set();
        b->held_ = true;
        using mochi::warabi::ErrorCode;
        using mochi::warabi::Exception;
        if (b->view_.ndim != 1) throw Exception(ErrorCode::InvalidArgument, "Buffer must be 1-dimensional");
        if (writable && b->view_.readonly) throw Exception(ErrorCode::InvalidArgument, "Buffer must be writable");
        if (!PyBuffer_IsContiguous(&b->view_, 'C')) throw Exception(ErrorCode::InvalidArgument, "Buffer must be contiguous");
        return b;
    }

  private:
    Py_buffer view_{};
    bool held_ = false;
};

}  // namespace kinako::python::warabi
