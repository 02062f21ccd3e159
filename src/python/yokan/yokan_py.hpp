// Helpers shared by the three Yokan extensions (pyyokan_common, pyyokan_client,
// pyyokan_server): the exception translation to pyyokan_common.Exception, views of the
// str / buffer-protocol objects users pass (no copies: the C++ calls read and write the
// Python objects' memory directly), and a holder that drops C++ handles without the GIL.
#pragma once

#include <mochi/margo/error.hpp>
#include <mochi/yokan/client.hpp>
#include <mochi/yokan/common.hpp>
#include <pybind11/pybind11.h>
#include "../common/gil_release.hpp"

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace kinako::python::yokan {

namespace py = pybind11;
namespace yk = mochi::yokan;

// ---------------------------------------------------------------------------------------
// Exceptions

// The pyyokan_common.Exception class (a new reference kept for the life of the process).
inline PyObject*& exception_type_slot() {
    static PyObject* type = nullptr;
    return type;
}

inline void set_yokan_error(int code, const char* message) {
    PyObject* type = exception_type_slot();
    if (!type) {  // should not happen: every module imports pyyokan_common first
        PyErr_SetString(PyExc_RuntimeError, message);
        return;
    }
    PyObject* exc = PyObject_CallFunction(type, "si", message, code);
    if (!exc) return;  // the error of the failed call is set instead
    PyErr_SetObject(type, exc);
    Py_DECREF(exc);
}

// Installs, for the calling extension module, the translation of the C++ exceptions:
//   mochi::yokan::Exception -> pyyokan_common.Exception(what(), int(code))
//   mochi::margo::Exception -> the same, with YOKAN_ERR_TIMEOUT or YOKAN_ERR_FROM_MERCURY
//   std::length_error       -> ValueError
inline void install_exception_translator() {
    if (!exception_type_slot()) {
        py::object common = py::module_::import("pyyokan_common");
        exception_type_slot() = py::object(common.attr("Exception")).release().ptr();
    }
    py::register_local_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const yk::Exception& e) {
            set_yokan_error(static_cast<int>(e.code()), e.what());
        } catch (const mochi::margo::Exception& e) {
            auto code = e.status() == mochi::margo::Status::Timeout ? yk::Status::Timeout : yk::Status::FromMercury;
            set_yokan_error(static_cast<int>(code), e.what());
        } catch (const std::length_error& e) {
            PyErr_SetString(PyExc_ValueError, e.what());
        }
    });
}

[[noreturn]] inline void fail(yk::Status code, const std::string& message) { throw yk::Exception(code, message); }

// ---------------------------------------------------------------------------------------
// Buffers

inline std::string type_name(py::handle obj) { return Py_TYPE(obj.ptr())->tp_name; }

// A read-only view of a str (its UTF-8 bytes, cached by the str object) or of a contiguous
// buffer-protocol object. Holds the buffer export until destroyed (destroy it with the GIL).
// A Py_buffer export, released with its owner. Kept out of line: a view of bytes or str needs
// none, and an 80-byte Py_buffer inside every view made the per-pair vectors of a batch of 1,000
// big enough that each call faulted in fresh heap pages (about 50 faults per put_multi).
struct BufferRelease {
    void operator()(Py_buffer* b) const {
        PyBuffer_Release(b);
        delete b;
    }
};
using BufferExport = std::unique_ptr<Py_buffer, BufferRelease>;

// PyBuffer_IsContiguous, answered inline for the usual one-dimensional case (a batch asks 1,000 times).
inline bool contiguous(const Py_buffer& b) {
    if (b.ndim <= 1 && (!b.strides || b.ndim == 0 || b.strides[0] == b.itemsize)) return true;
    return PyBuffer_IsContiguous(&b, 'A') != 0;
}

// Exports `o`'s buffer (read-only or writable as `flags` ask); throws on failure.
inline BufferExport export_buffer(PyObject* o, int flags) {
    auto* b = new Py_buffer{};
    if (PyObject_GetBuffer(o, b, flags) != 0) {
        delete b;
        throw py::error_already_set();
    }
    return BufferExport(b);
}

class InView {
  public:
    InView() = default;
    InView(py::handle obj, const char* what) { acquire(obj, what); }
    InView(const InView&) = delete;
    InView& operator=(const InView&) = delete;
    InView(InView&& o) noexcept
    : buf_(std::move(o.buf_)), ref_(o.ref_), data_(o.data_), size_(o.size_), is_str_(o.is_str_) {
        o.ref_ = nullptr;
    }
    ~InView() { Py_XDECREF(ref_); }

    std::string_view view() const { return {data_, size_}; }
    std::string_view get() const { return view(); }  // what a C++ call takes (see PairViews)
    bool is_str() const { return is_str_; }

  private:
    void acquire(py::handle obj, const char* what) {
        PyObject* o = obj.ptr();
        if (PyUnicode_Check(o)) {
            Py_ssize_t n = 0;
            const char* d = PyUnicode_AsUTF8AndSize(o, &n);
            if (!d) throw py::error_already_set();
            data_ = d;
            size_ = static_cast<size_t>(n);
            is_str_ = true;
            hold(o);
            return;
        }
        if (PyBytes_CheckExact(o)) {
            // Immutable: its bytes stay put while we hold a reference, no export needed.
            data_ = PyBytes_AS_STRING(o);
            size_ = static_cast<size_t>(PyBytes_GET_SIZE(o));
            hold(o);
            return;
        }
        if (!PyObject_CheckBuffer(o))
            throw py::type_error(std::string(what) + " must be a str or a buffer-protocol object, not " + type_name(obj));
        buf_ = export_buffer(o, PyBUF_RECORDS_RO);
        if (!contiguous(*buf_))
            fail(yk::Status::NonContig, std::string("Non-contiguous buffer: ") + what + " must be contiguous");
        data_ = static_cast<const char*>(buf_->buf);
        size_ = static_cast<size_t>(buf_->len);
    }

    // The GIL is released while the views are in use: the object must outlive them even if
    // another thread drops the caller's last reference (a pair given as a mutable list).
    void hold(PyObject* o) {
        Py_INCREF(o);
        ref_ = o;
    }

    BufferExport buf_;
    PyObject* ref_ = nullptr;
    const char* data_ = "";
    size_t size_ = 0;
    bool is_str_ = false;
};

// A writable view of a contiguous, writable buffer-protocol object that results go into.
class OutView {
  public:
    OutView() = default;
    OutView(py::handle obj, const char* what) { acquire(obj, what); }
    OutView(const OutView&) = delete;
    OutView& operator=(const OutView&) = delete;
    OutView(OutView&& o) noexcept : buf_(o.buf_), held_(o.held_) { o.held_ = false; }
    ~OutView() {
        if (held_) PyBuffer_Release(&buf_);
    }

    yk::Buffer buffer() const { return {static_cast<char*>(buf_.buf), static_cast<size_t>(buf_.len)}; }
    yk::Buffer get() const { return buffer(); }  // what a C++ call takes (see PairViews)
    size_t size() const { return static_cast<size_t>(buf_.len); }

  private:
    void acquire(py::handle obj, const char* what) {
        PyObject* o = obj.ptr();
        if (PyUnicode_Check(o))
            fail(yk::Status::ReadOnly, std::string("Read-only buffer: ") + what + " is a str, which is immutable");
        if (!PyObject_CheckBuffer(o))
            throw py::type_error(std::string(what) + " must be a writable buffer-protocol object, not " + type_name(obj));
        if (PyObject_GetBuffer(o, &buf_, PyBUF_RECORDS_RO) != 0) throw py::error_already_set();
        held_ = true;
        if (buf_.readonly)
            fail(yk::Status::ReadOnly, std::string("Read-only buffer: ") + what + " (" + type_name(obj) +
                                           ") is not writable");
        if (!contiguous(buf_))
            fail(yk::Status::NonContig, std::string("Non-contiguous buffer: ") + what + " must be contiguous");
    }

    Py_buffer buf_{};
    bool held_ = false;
};

// The items of any sequence or iterable, as a list we can index without the iterator protocol.
inline py::list items_of(py::handle obj, const char* what) {
    if (PyUnicode_Check(obj.ptr()) || PyBytes_Check(obj.ptr()))
        throw py::type_error(std::string(what) + " must be a list, not " + type_name(obj));
    PyObject* seq = PySequence_List(obj.ptr());
    if (!seq) throw py::error_already_set();
    return py::reinterpret_steal<py::list>(seq);
}

// Views of every item of a list of keys (or documents).
struct InViews {
    std::vector<InView> views;
    std::vector<std::string_view> list;
    bool all_str = true;

    InViews() = default;
    InViews(py::handle obj, const char* what) {
        py::list items = items_of(obj, what);
        size_t n = items.size();
        views.reserve(n);
        list.reserve(n);
        for (size_t i = 0; i < n; i++) {
            views.emplace_back(items[i], what);
            list.push_back(views.back().view());
            all_str = all_str && views.back().is_str();
        }
    }
};

// A list of ints (sizes or ids).
inline std::vector<uint64_t> u64_list(py::handle obj, const char* what) {
    py::list items = items_of(obj, what);
    std::vector<uint64_t> out;
    out.reserve(items.size());
    for (py::handle h : items) {
        unsigned long long v = PyLong_AsUnsignedLongLong(h.ptr());
        if (v == static_cast<unsigned long long>(-1) && PyErr_Occurred()) {
            PyErr_Clear();
            throw py::type_error(std::string(what) + " must hold non-negative ints, got " + type_name(h));
        }
        out.push_back(v);
    }
    return out;
}

// Cuts a packed buffer into consecutive pieces of the given sizes.
inline std::vector<std::string_view> split_packed(std::string_view packed, const std::vector<uint64_t>& sizes,
                                                  const char* what) {
    std::vector<std::string_view> out;
    out.reserve(sizes.size());
    uint64_t off = 0;
    for (uint64_t s : sizes) {
        if (s > packed.size() - off)
            throw std::length_error(std::string("the sizes in ") + what + " add up to more than the " +
                                    std::to_string(packed.size()) + " bytes of the packed buffer");
        out.emplace_back(packed.data() + off, s);
        off += s;
    }
    return out;
}

// A packed input (one buffer plus a list of sizes) cut into views, as the *_packed calls take
// keys and documents. Keeps the buffer alive as long as the views.
struct PackedInput {
    InView buffer;
    std::vector<std::string_view> list;
    PackedInput(py::handle data, py::handle sizes, const char* data_name, const char* sizes_name)
    : buffer(data, data_name), list(split_packed(buffer.view(), u64_list(sizes, sizes_name), sizes_name)) {}
};

// A size as Python sees it: None for a missing entry, -1 for a buffer too small.
inline py::object size_object(uint64_t s) {
    if (s == yk::YOKAN_KEY_NOT_FOUND) return py::none();
    if (s == yk::YOKAN_SIZE_TOO_SMALL) return py::int_(-1);
    return py::int_(s);
}

// A read-only memoryview over memory that stays valid only while a callback runs; after the
// callback it is released (when nobody exported it further) so that later use raises
// instead of reading freed memory.
class TransientView {
  public:
    TransientView(const char* data, size_t size)
    : obj_(PyMemoryView_FromMemory(const_cast<char*>(data), static_cast<Py_ssize_t>(size), PyBUF_READ)) {
        if (!obj_) throw py::error_already_set();
    }
    TransientView(const TransientView&) = delete;
    TransientView& operator=(const TransientView&) = delete;
    ~TransientView() {
        if (Py_REFCNT(obj_) > 1) {
            PyObject* r = PyObject_CallMethod(obj_, "release", nullptr);
            if (r)
                Py_DECREF(r);
            else
                PyErr_Clear();  // still exported (e.g. by a numpy array): leave it
        }
        Py_DECREF(obj_);
    }
    py::handle handle() const { return obj_; }

  private:
    PyObject* obj_;
};

// Releases the GIL while the C++ handle is destroyed: dropping the last engine reference
// finalizes the engine, which must never wait on the GIL.
template <class T>
struct GilFreeDeleter {
    void operator()(T* p) const {
        if (Py_IsInitialized() && PyGILState_Check()) {
            kinako::python::GilRelease release;
            delete p;
        } else {
            delete p;
        }
    }
};

template <class T>
using Holder = std::unique_ptr<T, GilFreeDeleter<T>>;

}  // namespace kinako::python::yokan
