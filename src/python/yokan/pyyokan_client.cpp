// pyyokan_client: Client, Database and Collection, with the names, arguments, defaults and
// result conventions of Yokan's Python module. Keys, values and documents are str or any
// contiguous buffer-protocol object, read in place; results are written straight into the
// caller's buffers. The GIL is released around every RPC and retaken inside callbacks.
#include "yokan_py.hpp"
#include "../common/gil_release.hpp"

#include "../common/capsules.hpp"
#include "../margo/gil.hpp"

#include <mochi/yokan/client.hpp>

#include <optional>

namespace py = pybind11;
namespace yk = mochi::yokan;
using namespace pybind11::literals;
using kinako::python::GilAcquire;
using namespace kinako::python::yokan;

namespace {

using KeyList = std::vector<std::string_view>;

// ---------------------------------------------------------------------------------------
// Pairs of objects: (key, value), (key, buffer), (key buffer, value buffer)

inline std::pair<py::handle, py::handle> unpack_pair(py::handle item, py::list& keep, const char* what) {
    PyObject* o = item.ptr();
    if (PyTuple_Check(o) && PyTuple_GET_SIZE(o) == 2) return {PyTuple_GET_ITEM(o, 0), PyTuple_GET_ITEM(o, 1)};
    if (PyList_Check(o) && PyList_GET_SIZE(o) == 2) return {PyList_GET_ITEM(o, 0), PyList_GET_ITEM(o, 1)};
    PyObject* seq = PySequence_Check(o) ? PySequence_Tuple(o) : nullptr;
    if (!seq || PyTuple_GET_SIZE(seq) != 2) {
        Py_XDECREF(seq);
        PyErr_Clear();
        throw py::type_error(std::string(what) + " must hold pairs of two items, got " + type_name(item));
    }
    keep.append(py::reinterpret_steal<py::object>(seq));  // keeps the items alive
    return {PyTuple_GET_ITEM(seq, 0), PyTuple_GET_ITEM(seq, 1)};
}

// The two sides of a list of pairs: the views that keep the Python objects (and their buffer
// exports) for the call, and what the C++ call takes (string_views or Buffers), filled in the
// same pass so that a batch walks its 1,000 pairs once.
template <class A, class B>
struct PairViews {
    py::list items;  // the caller's pair objects
    py::list keep;
    std::vector<A> first;
    std::vector<B> second;
    std::vector<decltype(std::declval<const A&>().get())> first_out;
    std::vector<decltype(std::declval<const B&>().get())> second_out;

    PairViews(py::handle obj, const char* what, const char* first_name, const char* second_name) {
        items = items_of(obj, what);
        size_t n = items.size();
        first.reserve(n);
        second.reserve(n);
        // Sized up front and filled by index: a push_back of the 16-byte view made gcc store
        // its two halves and reload them as one, a store-forwarding stall on every pair.
        first_out.resize(n);
        second_out.resize(n);
        PyObject* list = items.ptr();
        for (size_t i = 0; i < n; i++) {
            auto [a, b] = unpack_pair(PyList_GET_ITEM(list, static_cast<Py_ssize_t>(i)), keep, what);
            first_out[i] = first.emplace_back(a, first_name).get();
            second_out[i] = second.emplace_back(b, second_name).get();
        }
    }
};

std::vector<yk::Buffer> buffers_of(const std::vector<OutView>& v) {
    std::vector<yk::Buffer> out;
    out.reserve(v.size());
    for (auto& x : v) out.push_back(x.buffer());
    return out;
}

std::vector<OutView> out_views(py::handle obj, const char* what) {
    py::list items = items_of(obj, what);
    std::vector<OutView> out;
    out.reserve(items.size());
    for (py::handle h : items) out.emplace_back(h, what);
    return out;
}

py::list size_list(const std::vector<uint64_t>& sizes) {
    py::list out(sizes.size());
    for (size_t i = 0; i < sizes.size(); i++) out[i] = size_object(sizes[i]);
    return out;
}

py::list bool_list(const std::vector<uint8_t>& v) {
    py::list out(v.size());
    for (size_t i = 0; i < v.size(); i++) out[i] = py::bool_(v[i] != 0);
    return out;
}

py::list id_list(const std::vector<uint64_t>& v) {
    py::list out(v.size());
    for (size_t i = 0; i < v.size(); i++) out[i] = py::int_(v[i]);
    return out;
}

void check_same_count(size_t a, size_t b, const char* what_a, const char* what_b) {
    if (a != b)
        throw std::length_error(std::string(what_a) + " has " + std::to_string(a) + " entries but " + what_b +
                                " has " + std::to_string(b));
}

// ---------------------------------------------------------------------------------------
// Callbacks. The C++ client calls them with the GIL released; each call retakes it. A
// Python exception stops the operation (StopCallbacks unwinds the C++ loop) and is raised
// again, unchanged, once the C++ call has returned.

struct StopCallbacks {};

struct CallbackState {
    PyObject* callback;
    std::optional<py::error_already_set> error;
};

template <class F>
void run_with_callbacks(CallbackState& st, F&& call) {
    try {
        kinako::python::GilRelease release;
        call();
    } catch (const StopCallbacks&) {
    } catch (...) {
        if (!st.error) throw;
    }
    if (st.error) {
        py::error_already_set e = std::move(*st.error);
        st.error.reset();
        throw e;
    }
}

template <class F>
void invoke_callback(CallbackState& st, F&& body) {
    GilAcquire gil;
    if (st.error) throw StopCallbacks{};
    try {
        body();
    } catch (py::error_already_set& e) {
        st.error.emplace(std::move(e));
        throw StopCallbacks{};
    } catch (const std::exception& e) {  // a conversion error on our side: report it the same way
        PyErr_SetString(PyExc_RuntimeError, e.what());
        st.error.emplace();
        throw StopCallbacks{};
    }
}

void call3(PyObject* cb, py::handle a, py::handle b, py::handle c) {
    PyObject* r = PyObject_CallFunctionObjArgs(cb, a.ptr(), b.ptr(), c.ptr(), nullptr);
    if (!r) throw py::error_already_set();
    Py_DECREF(r);
}

void call_with_value(PyObject* cb, py::handle index, py::handle key, const std::string_view* value) {
    if (value) {
        TransientView mv(value->data(), value->size());
        call3(cb, index, key, mv.handle());
    } else {
        call3(cb, index, key, Py_None);
    }
}

// The key a fetch callback sees for key i: the caller's own str, or a memoryview of its buffer.
py::object key_object(py::handle key) {
    if (PyUnicode_Check(key.ptr())) return py::reinterpret_borrow<py::object>(key);
    PyObject* mv = PyMemoryView_FromObject(key.ptr());
    if (!mv) throw py::error_already_set();
    return py::reinterpret_steal<py::object>(mv);
}

void fetch_keys(const yk::Database& db, const KeyList& keys, py::handle callback, int32_t mode, size_t batch_size,
                double timeout_ms, const std::function<py::object(size_t)>& key_for) {
    CallbackState st{callback.ptr(), {}};
    auto cb = [&st, &key_for](size_t i, const std::string_view* value) {
        invoke_callback(st, [&] {
            py::object key = key_for(i);
            call_with_value(st.callback, py::int_(i), key, value);
        });
    };
    run_with_callbacks(st, [&] { db.fetch_multi(keys, cb, mode, timeout_ms, batch_size); });
}

void check_callable(py::handle cb) {
    if (!PyCallable_Check(cb.ptr())) throw py::type_error("callback must be callable, not " + type_name(cb));
}

// ---------------------------------------------------------------------------------------
// Database

void bind_database(py::module_& m) {
    py::class_<yk::Database, Holder<yk::Database>> db(m, "Database",
        "A handle on a Yokan database (a provider at an address). Made by Client.make_database_handle.");

    db.def_property_readonly("provider_id", &yk::Database::provider_id);

    db.def("count", [](const yk::Database& d, int32_t mode, double timeout_ms) {
        kinako::python::GilRelease r;
        return d.count(mode, timeout_ms);
    }, "mode"_a = 0, "timeout_ms"_a = 0.0, "Number of key/value pairs.");

    // ---- put
    db.def("put", [](const yk::Database& d, py::handle key, py::handle value, int32_t mode, double timeout_ms) {
        InView k(key, "key"), v(value, "value");
        kinako::python::GilRelease r;
        d.put(k.view(), v.view(), mode, timeout_ms);
    }, "key"_a, "value"_a, "mode"_a = 0, "timeout_ms"_a = 0.0);

    db.def("put_multi", [](const yk::Database& d, py::handle pairs, int32_t mode, double timeout_ms) {
        PairViews<InView, InView> p(pairs, "pairs", "key", "value");
        kinako::python::GilRelease r;
        d.put_multi(p.first_out, p.second_out, mode, timeout_ms);
    }, "pairs"_a, "mode"_a = 0, "timeout_ms"_a = 0.0);

    db.def("put_packed", [](const yk::Database& d, py::handle keys, py::handle key_sizes, py::handle values,
                            py::handle value_sizes, int32_t mode, double timeout_ms) {
        InView kb(keys, "keys"), vb(values, "values");
        auto ks = u64_list(key_sizes, "key_sizes"), vs = u64_list(value_sizes, "value_sizes");
        check_same_count(ks.size(), vs.size(), "key_sizes", "value_sizes");
        KeyList kl = split_packed(kb.view(), ks, "key_sizes"), vl = split_packed(vb.view(), vs, "value_sizes");
        kinako::python::GilRelease r;
        d.put_multi(kl, vl, mode, timeout_ms);
    }, "keys"_a, "key_sizes"_a, "values"_a, "value_sizes"_a, "mode"_a = 0, "timeout_ms"_a = 0.0);

    // ---- get
    db.def("get", [](const yk::Database& d, py::handle key, py::handle value, int32_t mode, double timeout_ms) {
        InView k(key, "key");
        OutView v(value, "value");
        kinako::python::GilRelease r;
        return d.get(k.view(), v.buffer(), mode, timeout_ms);
    }, "key"_a, "value"_a, "mode"_a = 0, "timeout_ms"_a = 0.0,
       "Writes the value of key into the writable buffer `value`; returns its size.");

    db.def("get_multi", [](const yk::Database& d, py::handle pairs, int32_t mode, double timeout_ms) {
        PairViews<InView, OutView> p(pairs, "pairs", "key", "value");
        const KeyList& keys = p.first_out;
        const std::vector<yk::Buffer>& bufs = p.second_out;
        std::vector<uint64_t> sizes(keys.size(), yk::YOKAN_KEY_NOT_FOUND);
        {
            kinako::python::GilRelease r;
            if (!keys.empty()) d.get_multi(keys, bufs, sizes, mode, timeout_ms);
        }
        return size_list(sizes);
    }, "pairs"_a, "mode"_a = 0, "timeout_ms"_a = 0.0);

    db.def("get_packed", [](const yk::Database& d, py::handle keys, py::handle key_sizes, py::handle values,
                            int32_t mode, double timeout_ms) {
        PackedInput packed(keys, key_sizes, "keys", "key_sizes");
        const KeyList& kl = packed.list;
        OutView vb(values, "values");
        std::vector<uint64_t> sizes(kl.size(), yk::YOKAN_KEY_NOT_FOUND);
        {
            kinako::python::GilRelease r;
            if (!kl.empty()) d.get_packed(kl, vb.buffer(), sizes, mode, timeout_ms);
        }
        return size_list(sizes);
    }, "keys"_a, "key_sizes"_a, "values"_a, "mode"_a = 0, "timeout_ms"_a = 0.0);

    // ---- fetch
    db.def("fetch", [](const yk::Database& d, py::handle key, py::handle callback, int32_t mode, double timeout_ms) {
        check_callable(callback);
        InView k(key, "key");
        py::object kobj = key_object(key);
        fetch_keys(d, KeyList{k.view()}, callback, mode, 0, timeout_ms, [&](size_t) { return kobj; });
    }, "key"_a, "callback"_a, "mode"_a = 0, "timeout_ms"_a = 0.0,
       "Calls callback(index, key, value) where value is a read-only memoryview valid during the call, "
       "or None when the key is missing.");

    db.def("fetch_multi", [](const yk::Database& d, py::handle keys, py::handle callback, int32_t mode,
                             size_t batch_size, double timeout_ms) {
        check_callable(callback);
        py::list items = items_of(keys, "keys");
        InViews kv(items, "keys");
        fetch_keys(d, kv.list, callback, mode, batch_size, timeout_ms,
                   [&](size_t i) { return key_object(items[i]); });
    }, "keys"_a, "callback"_a, "mode"_a = 0, "batch_size"_a = 0, "timeout_ms"_a = 0.0);

    db.def("fetch_packed", [](const yk::Database& d, py::handle keys, py::handle key_sizes, py::handle callback,
                              int32_t mode, size_t batch_size, double timeout_ms) {
        check_callable(callback);
        PackedInput packed(keys, key_sizes, "keys", "key_sizes");
        const KeyList& kl = packed.list;
        bool str_keys = packed.buffer.is_str();
        CallbackState st{callback.ptr(), {}};
        auto cb = [&](size_t i, const std::string_view* value) {
            invoke_callback(st, [&] {
                if (str_keys) {
                    py::str key(kl[i].data(), kl[i].size());
                    call_with_value(st.callback, py::int_(i), key, value);
                } else {
                    TransientView key(kl[i].data(), kl[i].size());
                    call_with_value(st.callback, py::int_(i), key.handle(), value);
                }
            });
        };
        run_with_callbacks(st, [&] { d.fetch_multi(kl, cb, mode, timeout_ms, batch_size); });
    }, "keys"_a, "key_sizes"_a, "callback"_a, "mode"_a = 0, "batch_size"_a = 0, "timeout_ms"_a = 0.0);

    // ---- exists
    db.def("exists", [](const yk::Database& d, py::handle key, int32_t mode, double timeout_ms) {
        InView k(key, "key");
        kinako::python::GilRelease r;
        return d.exists(k.view(), mode, timeout_ms);
    }, "key"_a, "mode"_a = 0, "timeout_ms"_a = 0.0);

    db.def("exists_multi", [](const yk::Database& d, py::handle keys, int32_t mode, double timeout_ms) {
        InViews kv(keys, "keys");
        std::vector<uint8_t> found;
        {
            kinako::python::GilRelease r;
            if (!kv.list.empty()) found = d.exists_multi(kv.list, mode, timeout_ms);
        }
        return bool_list(found);
    }, "keys"_a, "mode"_a = 0, "timeout_ms"_a = 0.0);

    db.def("exists_packed", [](const yk::Database& d, py::handle keys, py::handle key_sizes, int32_t mode,
                               double timeout_ms) {
        PackedInput packed(keys, key_sizes, "keys", "key_sizes");
        const KeyList& kl = packed.list;
        std::vector<uint8_t> found;
        {
            kinako::python::GilRelease r;
            if (!kl.empty()) found = d.exists_multi(kl, mode, timeout_ms);
        }
        return bool_list(found);
    }, "keys"_a, "key_sizes"_a, "mode"_a = 0, "timeout_ms"_a = 0.0);

    // ---- length
    db.def("length", [](const yk::Database& d, py::handle key, int32_t mode, double timeout_ms) -> py::object {
        InView k(key, "key");
        std::vector<uint64_t> sizes;
        {
            kinako::python::GilRelease r;
            sizes = d.length_multi(KeyList{k.view()}, mode, timeout_ms);
        }
        if (sizes.empty()) return py::none();
        return size_object(sizes[0]);
    }, "key"_a, "mode"_a = 0, "timeout_ms"_a = 0.0, "Size of the value of key, or None when the key is missing.");

    db.def("length_multi", [](const yk::Database& d, py::handle keys, int32_t mode, double timeout_ms) {
        InViews kv(keys, "keys");
        std::vector<uint64_t> sizes;
        {
            kinako::python::GilRelease r;
            if (!kv.list.empty()) sizes = d.length_multi(kv.list, mode, timeout_ms);
        }
        return size_list(sizes);
    }, "keys"_a, "mode"_a = 0, "timeout_ms"_a = 0.0);

    db.def("length_packed", [](const yk::Database& d, py::handle keys, py::handle key_sizes, int32_t mode,
                               double timeout_ms) {
        PackedInput packed(keys, key_sizes, "keys", "key_sizes");
        const KeyList& kl = packed.list;
        std::vector<uint64_t> sizes;
        {
            kinako::python::GilRelease r;
            if (!kl.empty()) sizes = d.length_multi(kl, mode, timeout_ms);
        }
        return size_list(sizes);
    }, "keys"_a, "key_sizes"_a, "mode"_a = 0, "timeout_ms"_a = 0.0);

    // ---- erase
    db.def("erase", [](const yk::Database& d, py::handle key, int32_t mode, double timeout_ms) {
        InView k(key, "key");
        kinako::python::GilRelease r;
        d.erase(k.view(), mode, timeout_ms);
    }, "key"_a, "mode"_a = 0, "timeout_ms"_a = 0.0);

    db.def("erase_multi", [](const yk::Database& d, py::handle keys, int32_t mode, double timeout_ms) {
        InViews kv(keys, "keys");
        kinako::python::GilRelease r;
        if (!kv.list.empty()) d.erase_multi(kv.list, mode, timeout_ms);
    }, "keys"_a, "mode"_a = 0, "timeout_ms"_a = 0.0);

    db.def("erase_packed", [](const yk::Database& d, py::handle keys, py::handle key_sizes, int32_t mode,
                              double timeout_ms) {
        PackedInput packed(keys, key_sizes, "keys", "key_sizes");
        const KeyList& kl = packed.list;
        kinako::python::GilRelease r;
        if (!kl.empty()) d.erase_multi(kl, mode, timeout_ms);
    }, "keys"_a, "key_sizes"_a, "mode"_a = 0, "timeout_ms"_a = 0.0);

    db.def("erase_range", [](const yk::Database& d, py::handle prefix, int32_t mode, double timeout_ms) {
        InView p(prefix, "prefix");
        kinako::python::GilRelease r;
        d.erase_range(p.view(), mode, timeout_ms);
    }, "prefix"_a, "mode"_a = 0, "timeout_ms"_a = 0.0, "Erases every key that starts with prefix.");

    // ---- listing
    db.def("list_keys", [](const yk::Database& d, py::handle keys, py::handle from_key, py::handle filter,
                           int32_t mode, double timeout_ms) {
        std::vector<OutView> outs = out_views(keys, "keys");
        InView from(from_key, "from_key"), filt(filter, "filter");
        std::vector<yk::Buffer> bufs = buffers_of(outs);
        std::vector<uint64_t> ksizes(bufs.size(), yk::YOKAN_NO_MORE_KEYS);
        {
            kinako::python::GilRelease r;
            if (!bufs.empty()) d.list_keys(from.view(), filt.view(), bufs, ksizes, mode, timeout_ms);
        }
        py::list out;
        for (uint64_t s : ksizes) {
            if (s == yk::YOKAN_NO_MORE_KEYS) break;
            out.append(size_object(s));
        }
        return out;
    }, "keys"_a, "from_key"_a = "", "filter"_a = "", "mode"_a = 0, "timeout_ms"_a = 0.0,
       "Fills the writable buffers in `keys` with the keys after from_key that match filter; returns "
       "their sizes (-1 where a buffer is too small). A list shorter than `keys` means the end was reached.");

    db.def("list_keys_packed", [](const yk::Database& d, py::handle keys, size_t count, py::handle from_key,
                                  py::handle filter, int32_t mode, double timeout_ms) {
        OutView kb(keys, "keys");
        InView from(from_key, "from_key"), filt(filter, "filter");
        std::vector<uint64_t> ksizes(count, yk::YOKAN_NO_MORE_KEYS);
        {
            kinako::python::GilRelease r;
            if (count) d.list_keys_packed(from.view(), filt.view(), count, kb.buffer(), ksizes, mode, timeout_ms);
        }
        py::list out;
        for (uint64_t s : ksizes) {
            if (s == yk::YOKAN_NO_MORE_KEYS) break;
            out.append(size_object(s));
        }
        return out;
    }, "keys"_a, "count"_a, "from_key"_a = "", "filter"_a = "", "mode"_a = 0, "timeout_ms"_a = 0.0);

    db.def("list_keyvals", [](const yk::Database& d, py::handle pairs, py::handle from_key, py::handle filter,
                              int32_t mode, double timeout_ms) {
        PairViews<OutView, OutView> p(pairs, "pairs", "key buffer", "value buffer");
        InView from(from_key, "from_key"), filt(filter, "filter");
        const std::vector<yk::Buffer>&kb = p.first_out, &vb = p.second_out;
        std::vector<uint64_t> ks(kb.size(), yk::YOKAN_NO_MORE_KEYS), vs(kb.size(), yk::YOKAN_NO_MORE_KEYS);
        {
            kinako::python::GilRelease r;
            if (!kb.empty()) d.list_keyvals(from.view(), filt.view(), kb, vb, ks, vs, mode, timeout_ms);
        }
        py::list out;
        for (size_t i = 0; i < ks.size(); i++) {
            if (ks[i] == yk::YOKAN_NO_MORE_KEYS || vs[i] == yk::YOKAN_NO_MORE_KEYS) break;
            out.append(py::make_tuple(size_object(ks[i]), size_object(vs[i])));
        }
        return out;
    }, "pairs"_a, "from_key"_a = "", "filter"_a = "", "mode"_a = 0, "timeout_ms"_a = 0.0);

    db.def("list_keyvals_packed", [](const yk::Database& d, py::handle keys, py::handle values, size_t count,
                                     py::handle from_key, py::handle filter, int32_t mode, double timeout_ms) {
        OutView kb(keys, "keys"), vb(values, "values");
        InView from(from_key, "from_key"), filt(filter, "filter");
        std::vector<uint64_t> ks(count, yk::YOKAN_NO_MORE_KEYS), vs(count, yk::YOKAN_NO_MORE_KEYS);
        {
            kinako::python::GilRelease r;
            if (count)
                d.list_keyvals_packed(from.view(), filt.view(), count, kb.buffer(), vb.buffer(), ks, vs, mode,
                                      timeout_ms);
        }
        py::list out;
        for (size_t i = 0; i < ks.size(); i++) {
            if (ks[i] == yk::YOKAN_NO_MORE_KEYS || vs[i] == yk::YOKAN_NO_MORE_KEYS) break;
            out.append(py::make_tuple(size_object(ks[i]), size_object(vs[i])));
        }
        return out;
    }, "keys"_a, "values"_a, "count"_a, "from_key"_a = "", "filter"_a = "", "mode"_a = 0, "timeout_ms"_a = 0.0);

    db.def("iter", [](const yk::Database& d, py::handle callback, py::handle from_key, py::handle filter,
                      uint64_t count, int32_t mode, size_t batch_size, bool ignore_values, double timeout_ms) {
        check_callable(callback);
        InView from(from_key, "from_key"), filt(filter, "filter");
        bool str_keys = from.is_str();
        CallbackState st{callback.ptr(), {}};
        auto cb = [&](size_t i, std::string_view key, const std::string_view* value) {
            invoke_callback(st, [&] {
                if (str_keys) {
                    PyObject* k = PyUnicode_DecodeUTF8(key.data(), static_cast<Py_ssize_t>(key.size()),
                                                       "surrogateescape");
                    if (!k) throw py::error_already_set();
                    call_with_value(st.callback, py::int_(i), py::reinterpret_steal<py::object>(k), value);
                } else {
                    TransientView kv(key.data(), key.size());
                    call_with_value(st.callback, py::int_(i), kv.handle(), value);
                }
            });
        };
        run_with_callbacks(st, [&] {
            d.iter(from.view(), filt.view(), count, cb, ignore_values, mode, timeout_ms, batch_size);
        });
    }, "callback"_a, "from_key"_a = py::bytes(""), "filter"_a = py::bytes(""), "count"_a = 0, "mode"_a = 0,
       "batch_size"_a = 0, "ignore_values"_a = false, "timeout_ms"_a = 0.0,
       "Calls callback(index, key, value) for up to count pairs (0 = all) after from_key matching filter.");

    // ---- collections
    db.def("create_collection", [](const yk::Database& d, py::handle name, int32_t mode, double timeout_ms) {
        InView n(name, "name");
        kinako::python::GilRelease r;
        return Holder<yk::Collection>(new yk::Collection(d.create_collection(n.view(), mode, timeout_ms)));
    }, "name"_a, "mode"_a = 0, "timeout_ms"_a = 0.0);

    db.def("open_collection", [](const yk::Database& d, py::handle name) {
        InView n(name, "name");
        return Holder<yk::Collection>(new yk::Collection(d.open_collection(n.view())));
    }, "name"_a);

    db.def("drop_collection", [](const yk::Database& d, py::handle name, int32_t mode, double timeout_ms) {
        InView n(name, "name");
        kinako::python::GilRelease r;
        d.drop_collection(n.view(), mode, timeout_ms);
    }, "name"_a, "mode"_a = 0, "timeout_ms"_a = 0.0);

    db.def("collection_exists", [](const yk::Database& d, py::handle name, int32_t mode, double timeout_ms) {
        InView n(name, "name");
        kinako::python::GilRelease r;
        return d.collection_exists(n.view(), mode, timeout_ms);
    }, "name"_a, "mode"_a = 0, "timeout_ms"_a = 0.0);
}

// ---------------------------------------------------------------------------------------
// Collection

void fetch_ids(const yk::Collection& c, const yk::IdList& ids, py::handle callback, int32_t mode, size_t batch_size,
               double timeout_ms) {
    CallbackState st{callback.ptr(), {}};
    auto cb = [&st](size_t i, uint64_t id, const std::string_view* doc) {
        invoke_callback(st, [&] { call_with_value(st.callback, py::int_(i), py::int_(id), doc); });
    };
    run_with_callbacks(st, [&] { c.fetch_multi(ids, cb, mode, timeout_ms, batch_size); });
}

py::list doc_list(const yk::IdList& ids, const std::vector<uint64_t>& sizes) {
    py::list out;
    for (size_t i = 0; i < ids.size(); i++) {
        if (ids[i] == yk::YOKAN_NO_MORE_DOCS) break;
        out.append(py::make_tuple(py::int_(ids[i]), size_object(sizes[i])));
    }
    return out;
}

void bind_collection(py::module_& m) {
    py::class_<yk::Collection, Holder<yk::Collection>> coll(m, "Collection",
        "A named document store inside a Database. Document ids start at 0 and grow by 1 per store.");

    coll.def(py::init([](py::handle name, const yk::Database& db) {
        InView n(name, "name");
        return Holder<yk::Collection>(new yk::Collection(n.view(), db));
    }), "name"_a, "db"_a);
    coll.def_property_readonly("name", [](const yk::Collection& c) { return c.name(); });

    coll.def("size", [](const yk::Collection& c, int32_t mode, double timeout_ms) {
        kinako::python::GilRelease r;
        return c.size(mode, timeout_ms);
    }, "mode"_a = 0, "timeout_ms"_a = 0.0);

    coll.def("store", [](const yk::Collection& c, py::handle document, int32_t mode, double timeout_ms) {
        InView d(document, "document");
        kinako::python::GilRelease r;
        return c.store(d.view(), mode, timeout_ms);
    }, "document"_a, "mode"_a = 0, "timeout_ms"_a = 0.0, "Stores a document; returns its id.");

    coll.def("store_multi", [](const yk::Collection& c, py::handle documents, int32_t mode, double timeout_ms) {
        InViews dv(documents, "documents");
        yk::IdList ids;
        {
            kinako::python::GilRelease r;
            if (!dv.list.empty()) ids = c.store_multi(dv.list, mode, timeout_ms);
        }
        return id_list(ids);
    }, "documents"_a, "mode"_a = 0, "timeout_ms"_a = 0.0);

    coll.def("store_packed", [](const yk::Collection& c, py::handle documents, py::handle doc_sizes, int32_t mode,
                                double timeout_ms) {
        PackedInput packed(documents, doc_sizes, "documents", "doc_sizes");
        const KeyList& dl = packed.list;
        yk::IdList ids;
        {
            kinako::python::GilRelease r;
            if (!dl.empty()) ids = c.store_multi(dl, mode, timeout_ms);
        }
        return id_list(ids);
    }, "documents"_a, "doc_sizes"_a, "mode"_a = 0, "timeout_ms"_a = 0.0);

    coll.def("update", [](const yk::Collection& c, uint64_t id, py::handle document, int32_t mode,
                          double timeout_ms) {
        InView d(document, "document");
        kinako::python::GilRelease r;
        c.update(id, d.view(), mode, timeout_ms);
    }, "id"_a, "document"_a, "mode"_a = 0, "timeout_ms"_a = 0.0);

    coll.def("update_multi", [](const yk::Collection& c, py::handle ids, py::handle documents, int32_t mode,
                                double timeout_ms) {
        auto il = u64_list(ids, "ids");
        InViews dv(documents, "documents");
        check_same_count(il.size(), dv.list.size(), "ids", "documents");
        kinako::python::GilRelease r;
        if (!il.empty()) c.update_multi(il, dv.list, mode, timeout_ms);
    }, "ids"_a, "documents"_a, "mode"_a = 0, "timeout_ms"_a = 0.0);

    coll.def("update_packed", [](const yk::Collection& c, py::handle ids, py::handle documents, py::handle doc_sizes,
                                 int32_t mode, double timeout_ms) {
        auto il = u64_list(ids, "ids");
        InView db(documents, "documents");
        auto ds = u64_list(doc_sizes, "doc_sizes");
        check_same_count(il.size(), ds.size(), "ids", "doc_sizes");
        KeyList dl = split_packed(db.view(), ds, "doc_sizes");
        {
            kinako::python::GilRelease r;
            if (!il.empty()) c.update_multi(il, dl, mode, timeout_ms);
        }
        return id_list(il);
    }, "ids"_a, "documents"_a, "doc_sizes"_a, "mode"_a = 0, "timeout_ms"_a = 0.0);

    coll.def("load", [](const yk::Collection& c, uint64_t id, py::handle buffer, int32_t mode, double timeout_ms) {
        OutView b(buffer, "buffer");
        kinako::python::GilRelease r;
        return c.load(id, b.buffer(), mode, timeout_ms);
    }, "id"_a, "buffer"_a, "mode"_a = 0, "timeout_ms"_a = 0.0);

    coll.def("load_multi", [](const yk::Collection& c, py::handle ids, py::handle buffers, int32_t mode,
                              double timeout_ms) {
        auto il = u64_list(ids, "ids");
        std::vector<OutView> outs = out_views(buffers, "buffers");
        check_same_count(il.size(), outs.size(), "ids", "buffers");
        std::vector<yk::Buffer> bufs = buffers_of(outs);
        std::vector<uint64_t> sizes(il.size(), yk::YOKAN_KEY_NOT_FOUND);
        {
            kinako::python::GilRelease r;
            if (!il.empty()) c.load_multi(il, bufs, sizes, mode, timeout_ms);
        }
        return size_list(sizes);
    }, "ids"_a, "buffers"_a, "mode"_a = 0, "timeout_ms"_a = 0.0);

    coll.def("load_packed", [](const yk::Collection& c, py::handle ids, py::handle buffer, int32_t mode,
                               double timeout_ms) {
        auto il = u64_list(ids, "ids");
        OutView b(buffer, "buffer");
        std::vector<uint64_t> sizes(il.size(), yk::YOKAN_KEY_NOT_FOUND);
        {
            kinako::python::GilRelease r;
            if (!il.empty()) c.load_packed(il, b.buffer(), sizes, mode, timeout_ms);
        }
        return size_list(sizes);
    }, "ids"_a, "buffer"_a, "mode"_a = 0, "timeout_ms"_a = 0.0);

    coll.def("fetch", [](const yk::Collection& c, uint64_t id, py::handle callback, int32_t mode, double timeout_ms) {
        check_callable(callback);
        fetch_ids(c, yk::IdList{id}, callback, mode, 0, timeout_ms);
    }, "id"_a, "callback"_a, "mode"_a = 0, "timeout_ms"_a = 0.0);

    coll.def("fetch_multi", [](const yk::Collection& c, py::handle ids, py::handle callback, int32_t mode,
                               size_t batch_size, double timeout_ms) {
        check_callable(callback);
        auto il = u64_list(ids, "ids");
        fetch_ids(c, il, callback, mode, batch_size, timeout_ms);
    }, "ids"_a, "callback"_a, "mode"_a = 0, "batch_size"_a = 0, "timeout_ms"_a = 0.0);

    coll.def("length", [](const yk::Collection& c, uint64_t id, int32_t mode, double timeout_ms) -> py::object {
        std::vector<uint64_t> sizes;
        {
            kinako::python::GilRelease r;
            sizes = c.length_multi(yk::IdList{id}, mode, timeout_ms);
        }
        if (sizes.empty()) return py::none();
        return size_object(sizes[0]);
    }, "id"_a, "mode"_a = 0, "timeout_ms"_a = 0.0, "Size of the document, or None when the id is unknown.");

    coll.def("length_multi", [](const yk::Collection& c, py::handle ids, int32_t mode, double timeout_ms) {
        auto il = u64_list(ids, "ids");
        std::vector<uint64_t> sizes;
        {
            kinako::python::GilRelease r;
            if (!il.empty()) sizes = c.length_multi(il, mode, timeout_ms);
        }
        return size_list(sizes);
    }, "ids"_a, "mode"_a = 0, "timeout_ms"_a = 0.0);

    coll.def("erase", [](const yk::Collection& c, uint64_t id, int32_t mode, double timeout_ms) {
        kinako::python::GilRelease r;
        c.erase_multi(yk::IdList{id}, mode, timeout_ms);
    }, "id"_a, "mode"_a = 0, "timeout_ms"_a = 0.0);

    coll.def("erase_multi", [](const yk::Collection& c, py::handle ids, int32_t mode, double timeout_ms) {
        auto il = u64_list(ids, "ids");
        kinako::python::GilRelease r;
        if (!il.empty()) c.erase_multi(il, mode, timeout_ms);
    }, "ids"_a, "mode"_a = 0, "timeout_ms"_a = 0.0);

    coll.def("list_docs", [](const yk::Collection& c, uint64_t start_id, py::handle buffers, py::handle filter,
                             int32_t mode, double timeout_ms) {
        std::vector<OutView> outs = out_views(buffers, "buffers");
        InView filt(filter, "filter");
        std::vector<yk::Buffer> bufs = buffers_of(outs);
        yk::IdList ids(bufs.size(), yk::YOKAN_NO_MORE_DOCS);
        std::vector<uint64_t> sizes(bufs.size(), yk::YOKAN_NO_MORE_DOCS);
        {
            kinako::python::GilRelease r;
            if (!bufs.empty()) c.list_docs(start_id, filt.view(), bufs, ids, sizes, mode, timeout_ms);
        }
        return doc_list(ids, sizes);
    }, "start_id"_a, "buffers"_a, "filter"_a = "", "mode"_a = 0, "timeout_ms"_a = 0.0,
       "Fills the buffers with the documents whose id is >= start_id; returns (id, size or -1) pairs.");

    coll.def("list_docs_packed", [](const yk::Collection& c, uint64_t start_id, py::handle buffer, size_t count,
                                    py::handle filter, int32_t mode, double timeout_ms) {
        OutView b(buffer, "buffer");
        InView filt(filter, "filter");
        yk::IdList ids(count, yk::YOKAN_NO_MORE_DOCS);
        std::vector<uint64_t> sizes(count, yk::YOKAN_NO_MORE_DOCS);
        {
            kinako::python::GilRelease r;
            if (count) c.list_docs_packed(start_id, filt.view(), count, b.buffer(), ids, sizes, mode, timeout_ms);
        }
        return doc_list(ids, sizes);
    }, "start_id"_a, "buffer"_a, "count"_a, "filter"_a = "", "mode"_a = 0, "timeout_ms"_a = 0.0);

    coll.def("iter", [](const yk::Collection& c, py::handle callback, uint64_t from_id, py::handle filter,
                        uint64_t count, int32_t mode, size_t batch_size, double timeout_ms) {
        check_callable(callback);
        InView filt(filter, "filter");
        CallbackState st{callback.ptr(), {}};
        auto cb = [&st](size_t i, uint64_t id, const std::string_view* doc) {
            invoke_callback(st, [&] { call_with_value(st.callback, py::int_(i), py::int_(id), doc); });
        };
        run_with_callbacks(st, [&] { c.iter(from_id, filt.view(), count, cb, mode, timeout_ms, batch_size); });
    }, "callback"_a, "from_id"_a = 0, "filter"_a = py::bytes(""), "count"_a = 0, "mode"_a = 0, "batch_size"_a = 0,
       "timeout_ms"_a = 0.0);
}

// ---------------------------------------------------------------------------------------
// Client

void bind_client(py::module_& m) {
    py::class_<yk::Client, Holder<yk::Client>> client(m, "Client", "Creates handles on Yokan databases.");
    client.def(py::init([](py::handle engine) {
        return Holder<yk::Client>(new yk::Client(kinako::python::engine_from(engine)));
    }), "engine"_a);
    client.def(py::init([](py::handle mid) {
        return Holder<yk::Client>(new yk::Client(kinako::python::engine_from(mid)));
    }), py::kw_only(), "mid"_a);

    client.def("make_database_handle", [](const yk::Client& c, py::handle address, uint16_t provider_id,
                                          bool check) {
        mochi::margo::Address a = kinako::python::address_from(c.engine(), address);
        kinako::python::GilRelease r;
        return Holder<yk::Database>(new yk::Database(c.make_database_handle(a, provider_id, check)));
    }, "address"_a, "provider_id"_a, "check"_a = true,
       "A Database handle on the provider at address (a mochi.margo Address). With check=True, "
       "verifies that provider_id is a Yokan provider (YOKAN_ERR_INVALID_PROVIDER otherwise).");
}

}  // namespace

PYBIND11_MODULE(pyyokan_client, m) {
    m.doc() = "kinako Yokan client: Client, Database, Collection";
    install_exception_translator();
    py::module_ common = py::module_::import("pyyokan_common");
    m.attr("Exception") = common.attr("Exception");
    bind_database(m);
    bind_collection(m);
    bind_client(m);
}
