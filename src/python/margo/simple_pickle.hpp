// A fast path for the pickles that small RPCs carry: None, bool, int, float, str, bytes, and
// tuples, lists and dicts of them. The wire format stays pickle (protocol 5 opcodes, read by
// pickle.loads on the other side); only the work changes. Measured on an 8-byte echo, the
// generic pickle machinery cost 2-3.5 us per dumps and 1.6-3.5 us per loads inside a call
// (cold caches after the wait), several times what these loops cost.
//
// Both functions decline (return null, no Python error set) for anything outside that subset,
// and the caller falls back to the pickle module: objects of other types, subclasses, ints that
// do not fit 64 bits, containers seen twice (pickle keeps their identity), strings with lone
// surrogates, and every opcode the decoder does not know. Malformed input is declined too, so
// that pickle.loads raises its usual error for it.
#pragma once

#include <Python.h>

#include <string_view>

namespace kinako::python::simple_pickle {

// A new bytes object holding the pickle of `obj`, or null when `obj` is outside the subset.
PyObject* encode(PyObject* obj);

// The object `data` holds, or null when the pickle uses anything outside the subset (or is
// malformed). A Python error is set only for a real failure (out of memory).
PyObject* decode(std::string_view data);

}  // namespace kinako::python::simple_pickle
