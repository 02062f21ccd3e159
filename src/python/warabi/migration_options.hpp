// MigrationOptions from the Python keyword arguments that Provider.migrate and
// TargetHandle.migrate share: new_root (str, os.PathLike or None) and merge_config (dict, JSON
// str or None).
#pragma once

#include <mochi/warabi/migration.hpp>

#include <pybind11/pybind11.h>

#include <string>

namespace kinako::python::warabi {

inline mochi::warabi::MigrationOptions migration_options(bool remove_source, size_t transfer_size,
                                                         pybind11::handle new_root, pybind11::handle merge_config) {
    namespace py = pybind11;
    using mochi::warabi::ErrorCode;
    using mochi::warabi::Exception;
    mochi::warabi::MigrationOptions opt;
    opt.remove_source = remove_source;
    opt.transfer_size = transfer_size;
    if (!new_root.is_none()) {
        py::object path = py::module_::import("os").attr("fspath")(new_root);
        if (!py::isinstance<py::str>(path)) throw Exception(ErrorCode::InvalidArgument, "new_root must be a str path");
        opt.new_root = path.cast<std::string>();
    }
    if (merge_config.is_none()) return opt;
    std::string text;
    if (py::isinstance<py::str>(merge_config))
        text = merge_config.cast<std::string>();
    else if (py::isinstance<py::dict>(merge_config))
        text = py::module_::import("json").attr("dumps")(merge_config).cast<std::string>();
    else
        throw Exception(ErrorCode::InvalidArgument, "merge_config must be a dict, got " +
                                                        std::string(py::str(py::type::of(merge_config).attr("__name__"))));
    try {
        opt.merge_config = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        throw Exception(ErrorCode::InvalidArgument, std::string("merge_config is not valid JSON: ") + e.what());
    }
    return opt;
}

}  // namespace kinako::python::warabi
