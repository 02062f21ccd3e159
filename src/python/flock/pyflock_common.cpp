// pyflock_common: what flock clients and servers share (the extension names are py-mochi-flock's):
// FlockException and the C++ reading of group files and serialized views, so Python sees the
// same validation the provider and the bedrock tools apply.
#include <mochi/flock/view.hpp>
#include <pybind11/pybind11.h>

namespace py = pybind11;
using namespace mochi::flock;

PYBIND11_MODULE(pyflock_common, m) {
    m.doc() = "kinako flock: shared exception and view parsing";
    static py::exception<Exception> exc(m, "FlockException", PyExc_RuntimeError);
    py::register_local_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const Exception& e) {
            PyErr_SetString(exc.ptr(), e.what());
        }
    });
    m.def("load_view", [](const std::string& path) { return GroupView::load(path).to_json(); }, py::arg("path"),
          "Reads a group file and returns the view as normalized JSON text.");
    m.def("normalize_view", [](const std::string& text) { return GroupView::from_json(text).to_json(); },
          py::arg("view"), "Parses a serialized view (raising FlockException if malformed) and re-serializes it.");
}
