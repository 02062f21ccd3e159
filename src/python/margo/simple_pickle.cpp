#include "simple_pickle.hpp"

#include <cstdint>
#include <cstring>
#include <vector>

namespace kinako::python::simple_pickle {

namespace {

// Pickle opcodes (Lib/pickletools.py documents each of them).
enum Op : unsigned char {
    MARK = '(',
    STOP = '.',
    BININT = 'J',
    BININT1 = 'K',
    BININT2 = 'M',
    NONE = 'N',
    BINUNICODE = 'X',
    SHORT_BINBYTES = 'C',
    BINBYTES = 'B',
    BINFLOAT = 'G',
    APPEND = 'a',
    APPENDS = 'e',
    BINGET = 'h',
    LONG_BINGET = 'j',
    EMPTY_LIST = ']',
    BINPUT = 'q',
    LONG_BINPUT = 'r',
    SETITEM = 's',
    TUPLE = 't',
    EMPTY_TUPLE = ')',
    SETITEMS = 'u',
    EMPTY_DICT = '}',
    PROTO = 0x80,
    TUPLE1 = 0x85,
    TUPLE2 = 0x86,
    TUPLE3 = 0x87,
    NEWTRUE = 0x88,
    NEWFALSE = 0x89,
    LONG1 = 0x8a,
    SHORT_BINUNICODE = 0x8c,
    BINUNICODE8 = 0x8d,
    BINBYTES8 = 0x8e,
    MEMOIZE = 0x94,
    FRAME = 0x95,
};

constexpr int kMaxDepth = 32;

// ---------------------------------------------------------------- encoding

// One walk serves both passes: Counter sizes the output, Writer fills it.
struct Counter {
    size_t n = 0;
    void op(unsigned char) { n++; }
    void raw(const void*, size_t len) { n += len; }
};

struct Writer {
    char* p;
    void op(unsigned char c) { *p++ = static_cast<char>(c); }
    void raw(const void* data, size_t len) {
        std::memcpy(p, data, len);
        p += len;
    }
};

template <typename Sink, typename T>
void little_endian(Sink& s, T v, size_t width) {
    unsigned char b[8];
    for (size_t i = 0; i < width; i++) b[i] = static_cast<unsigned char>(static_cast<uint64_t>(v) >> (8 * i));
    s.raw(b, width);
}

// Length-prefixed data with the shortest of the three opcodes pickle has for it.
template <typename Sink>
void sized(Sink& s, unsigned char op1, unsigned char op4, unsigned char op8, const char* data, size_t len) {
    if (len < 256) {
        s.op(op1);
        little_endian(s, len, 1);
    } else if (len <= 0xffffffffu) {
        s.op(op4);
        little_endian(s, len, 4);
    } else {
        s.op(op8);
        little_endian(s, len, 8);
    }
    s.raw(data, len);
}

// Mutable containers met so far: one met twice declines (pickle would keep the shared identity).
struct Seen {
    std::vector<PyObject*> objs;
    bool add(PyObject* o) {
        for (PyObject* x : objs)
            if (x == o) return false;
        objs.push_back(o);
        return true;
    }
};

template <typename Sink>
bool put(Sink& s, PyObject* o, int depth, Seen& seen);

template <typename Sink>
bool put_items(Sink& s, PyObject* const* items, Py_ssize_t n, int depth, Seen& seen) {
    for (Py_ssize_t i = 0; i < n; i++)
        if (!put(s, items[i], depth + 1, seen)) return false;
    return true;
}

template <typename Sink>
bool put(Sink& s, PyObject* o, int depth, Seen& seen) {
    if (depth > kMaxDepth) return false;
    if (o == Py_None) {
        s.op(NONE);
    } else if (o == Py_True || o == Py_False) {
        s.op(o == Py_True ? NEWTRUE : NEWFALSE);
    } else if (PyLong_CheckExact(o)) {
        int overflow = 0;
        long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
        if (overflow) return false;
        if (v >= 0 && v < 256) {
            s.op(BININT1);
            little_endian(s, v, 1);
        } else if (v >= 0 && v < 65536) {
            s.op(BININT2);
            little_endian(s, v, 2);
        } else if (v >= INT32_MIN && v <= INT32_MAX) {
            s.op(BININT);
            little_endian(s, v, 4);
        } else {
            s.op(LONG1);  // eight bytes of two's complement: valid, if not the shortest form
            little_endian(s, 8, 1);
            little_endian(s, v, 8);
        }
    } else if (PyFloat_CheckExact(o)) {
        double d = PyFloat_AS_DOUBLE(o);
        uint64_t bits;
        std::memcpy(&bits, &d, sizeof bits);
        unsigned char b[8];
        for (int i = 0; i < 8; i++) b[i] = static_cast<unsigned char>(bits >> (8 * (7 - i)));  // big-endian
        s.op(BINFLOAT);
        s.raw(b, 8);
    } else if (PyBytes_CheckExact(o)) {
        sized(s, SHORT_BINBYTES, BINBYTES, BINBYTES8, PyBytes_AS_STRING(o), static_cast<size_t>(PyBytes_GET_SIZE(o)));
    } else if (PyUnicode_CheckExact(o)) {
        Py_ssize_t len = 0;
        const char* utf8 = PyUnicode_AsUTF8AndSize(o, &len);
        if (!utf8) {  // lone surrogates: pickle encodes them with "surrogatepass"
            PyErr_Clear();
            return false;
        }
        sized(s, SHORT_BINUNICODE, BINUNICODE, BINUNICODE8, utf8, static_cast<size_t>(len));
    } else if (PyTuple_CheckExact(o)) {
        Py_ssize_t n = PyTuple_GET_SIZE(o);
        PyObject* const* items = &PyTuple_GET_ITEM(o, 0);
        if (n == 0) {
            s.op(EMPTY_TUPLE);
        } else if (n <= 3) {
            if (!put_items(s, items, n, depth, seen)) return false;
            s.op(static_cast<unsigned char>(TUPLE1 + (n - 1)));
        } else {
            s.op(MARK);
            if (!put_items(s, items, n, depth, seen)) return false;
            s.op(TUPLE);
        }
    } else if (PyList_CheckExact(o)) {
        if (!seen.add(o)) return false;
        s.op(EMPTY_LIST);
        Py_ssize_t n = PyList_GET_SIZE(o);
        if (n > 0) {
            s.op(MARK);
            // Items are read one at a time: nothing here runs Python code that could resize the list.
            for (Py_ssize_t i = 0; i < PyList_GET_SIZE(o); i++)
                if (!put(s, PyList_GET_ITEM(o, i), depth + 1, seen)) return false;
            s.op(APPENDS);
        }
    } else if (PyDict_CheckExact(o)) {
        if (!seen.add(o)) return false;
        s.op(EMPTY_DICT);
        if (PyDict_GET_SIZE(o) > 0) {
            s.op(MARK);
            Py_ssize_t pos = 0;
            PyObject *k, *v;
            while (PyDict_Next(o, &pos, &k, &v))
                if (!put(s, k, depth + 1, seen) || !put(s, v, depth + 1, seen)) return false;
            s.op(SETITEMS);
        }
    } else {
        return false;
    }
    return true;
}

// ---------------------------------------------------------------- decoding

class Decoder {
  public:
    explicit Decoder(std::string_view data)
        : p_(reinterpret_cast<const unsigned char*>(data.data())), end_(p_ + data.size()) {}

    ~Decoder() {
        for (PyObject* o : stack_) Py_DECREF(o);
        for (PyObject* o : memo_) Py_XDECREF(o);
    }

    // The decoded object (new reference), or null: declined, or a Python error on failure.
    PyObject* run() {
        while (p_ < end_) {
            unsigned char op = *p_++;
            if (op == STOP) {
                if (stack_.size() != 1 || !marks_.empty()) return nullptr;
                PyObject* out = stack_.back();
                stack_.clear();
                return out;
            }
            if (!step(op)) return nullptr;
        }
        return nullptr;  // no STOP: malformed
    }

  private:
    const unsigned char* p_;
    const unsigned char* end_;
    std::vector<PyObject*> stack_;
    std::vector<size_t> marks_;
    std::vector<PyObject*> memo_;

    bool take(size_t n, const unsigned char*& out) {
        if (static_cast<size_t>(end_ - p_) < n) return false;
        out = p_;
        p_ += n;
        return true;
    }

    bool uint_le(size_t width, uint64_t& v) {
        const unsigned char* b;
        if (!take(width, b)) return false;
        v = 0;
        for (size_t i = 0; i < width; i++) v |= static_cast<uint64_t>(b[i]) << (8 * i);
        return true;
    }

    bool push(PyObject* o) {
        if (!o) return false;
        stack_.push_back(o);
        return true;
    }

    // The items above the last mark, taken off the stack (references move to the caller).
    bool pop_mark(size_t& first) {
        if (marks_.empty()) return false;
        first = marks_.back();
        marks_.pop_back();
        return first <= stack_.size();
    }

    bool sized(size_t width, const unsigned char*& data, size_t& len) {
        uint64_t n;
        if (!uint_le(width, n)) return false;
        len = static_cast<size_t>(n);
        return take(len, data);
    }

    bool memo_put(uint64_t idx) {
        if (stack_.empty() || idx > (1u << 20)) return false;
        if (memo_.size() <= idx) memo_.resize(idx + 1, nullptr);
        Py_XDECREF(memo_[idx]);
        Py_INCREF(stack_.back());
        memo_[idx] = stack_.back();
        return true;
    }

    bool memo_get(uint64_t idx) {
        if (idx >= memo_.size() || !memo_[idx]) return false;
        Py_INCREF(memo_[idx]);
        stack_.push_back(memo_[idx]);
        return true;
    }

    bool make_tuple(size_t first) {
        size_t n = stack_.size() - first;
        PyObject* t = PyTuple_New(static_cast<Py_ssize_t>(n));
        if (!t) return false;
        for (size_t i = 0; i < n; i++) PyTuple_SET_ITEM(t, static_cast<Py_ssize_t>(i), stack_[first + i]);
        stack_.resize(first);
        stack_.push_back(t);
        return true;
    }

    bool append_from(size_t first) {  // APPEND / APPENDS onto the list below `first`
        if (first == 0 || !PyList_CheckExact(stack_[first - 1])) return false;
        PyObject* list = stack_[first - 1];
        for (size_t i = first; i < stack_.size(); i++)
            if (PyList_Append(list, stack_[i]) != 0) return false;
        for (size_t i = first; i < stack_.size(); i++) Py_DECREF(stack_[i]);
        stack_.resize(first);
        return true;
    }

    bool setitems_from(size_t first) {  // SETITEM / SETITEMS into the dict below `first`
        if (first == 0 || (stack_.size() - first) % 2 != 0 || !PyDict_CheckExact(stack_[first - 1])) return false;
        PyObject* dict = stack_[first - 1];
        for (size_t i = first; i < stack_.size(); i += 2) {
            if (PyDict_SetItem(dict, stack_[i], stack_[i + 1]) != 0) {
                PyErr_Clear();  // an unhashable key: pickle.loads reports it
                return false;
            }
        }
        for (size_t i = first; i < stack_.size(); i++) Py_DECREF(stack_[i]);
        stack_.resize(first);
        return true;
    }

    bool step(unsigned char op) {
        uint64_t v;
        const unsigned char* data;
        size_t len, first;
        switch (op) {
            case PROTO: return uint_le(1, v);
            case FRAME: return uint_le(8, v);  // frames only group the opcodes that follow
            case MARK: marks_.push_back(stack_.size()); return true;
            case NONE: Py_INCREF(Py_None); stack_.push_back(Py_None); return true;
            case NEWTRUE: Py_INCREF(Py_True); stack_.push_back(Py_True); return true;
            case NEWFALSE: Py_INCREF(Py_False); stack_.push_back(Py_False); return true;
            case BININT1: return uint_le(1, v) && push(PyLong_FromUnsignedLongLong(v));
            case BININT2: return uint_le(2, v) && push(PyLong_FromUnsignedLongLong(v));
            case BININT:
                return uint_le(4, v) && push(PyLong_FromLong(static_cast<int32_t>(static_cast<uint32_t>(v))));
            case LONG1: {
                uint64_t n;
                if (!uint_le(1, n) || n > 8) return false;
                if (!uint_le(static_cast<size_t>(n), v)) return false;
                if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~uint64_t(0) << (8 * n);  // sign-extend
                return push(PyLong_FromLongLong(static_cast<long long>(v)));
            }
            case BINFLOAT: {
                if (!take(8, data)) return false;
                uint64_t bits = 0;
                for (int i = 0; i < 8; i++) bits = (bits << 8) | data[i];
                double d;
                std::memcpy(&d, &bits, sizeof d);
                return push(PyFloat_FromDouble(d));
            }
            case SHORT_BINBYTES: return sized(1, data, len) && push(bytes(data, len));
            case BINBYTES: return sized(4, data, len) && push(bytes(data, len));
            case BINBYTES8: return sized(8, data, len) && push(bytes(data, len));
            case SHORT_BINUNICODE: return sized(1, data, len) && push(text(data, len));
            case BINUNICODE: return sized(4, data, len) && push(text(data, len));
            case BINUNICODE8: return sized(8, data, len) && push(text(data, len));
            case EMPTY_TUPLE: return push(PyTuple_New(0));
            case TUPLE1:
            case TUPLE2:
            case TUPLE3: {
                size_t n = op - TUPLE1 + 1;
                return stack_.size() >= n && make_tuple(stack_.size() - n);
            }
            case TUPLE: return pop_mark(first) && make_tuple(first);
            case EMPTY_LIST: return push(PyList_New(0));
            case APPEND: return stack_.size() >= 2 && append_from(stack_.size() - 1);
            case APPENDS: return pop_mark(first) && append_from(first);
            case EMPTY_DICT: return push(PyDict_New());
            case SETITEM: return stack_.size() >= 3 && setitems_from(stack_.size() - 2);
            case SETITEMS: return pop_mark(first) && setitems_from(first);
            case MEMOIZE: return memo_put(memo_.size());
            case BINPUT: return uint_le(1, v) && memo_put(v);
            case LONG_BINPUT: return uint_le(4, v) && memo_put(v);
            case BINGET: return uint_le(1, v) && memo_get(v);
            case LONG_BINGET: return uint_le(4, v) && memo_get(v);
            default: return false;  // anything else is pickle's business
        }
    }

    static PyObject* bytes(const unsigned char* data, size_t len) {
        return PyBytes_FromStringAndSize(reinterpret_cast<const char*>(data), static_cast<Py_ssize_t>(len));
    }

    static PyObject* text(const unsigned char* data, size_t len) {
        // As pickle does; invalid UTF-8 declines, and pickle.loads raises its own error for it.
        PyObject* s = PyUnicode_DecodeUTF8(reinterpret_cast<const char*>(data), static_cast<Py_ssize_t>(len), "surrogatepass");
        if (!s) PyErr_Clear();
        return s;
    }
};

}  // namespace

PyObject* encode(PyObject* obj) {
    Seen seen;
    Counter count;
    count.op(PROTO);
    count.op(5);
    if (!put(count, obj, 0, seen)) return nullptr;
    count.op(STOP);
    PyObject* out = PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(count.n));
    if (!out) return nullptr;
    Writer w{PyBytes_AS_STRING(out)};
    w.op(PROTO);
    w.op(5);
    seen.objs.clear();
    put(w, obj, 0, seen);  // the same walk over the same objects: it cannot decline now
    w.op(STOP);
    return out;
}

PyObject* decode(std::string_view data) {
    Decoder d(data);
    PyObject* out = d.run();
    if (!out && PyErr_Occurred()) {
        // Only an allocation failure is worth reporting; any other error means "not ours".
        if (!PyErr_ExceptionMatches(PyExc_MemoryError)) PyErr_Clear();
    }
    return out;
}

}  // namespace kinako::python::simple_pickle
