// MigrationOptions and RestoreOptions from the Python keyword arguments that Provider.migrate,
// TargetHandle.migrate and Provider.restore share: new_root (str, os.PathLike or None) and
// merge_config (dict, JSON str or None).
#pragma once

#include <mochi/warabi/migration.hpp>

#include <pybind11/pybind11.h>

#include <string>

namespace kinako::python::warabi {

// A path argument (str or os.PathLike) as a string; what names it in errors.
inline std::string path_argument(pybind11::handle value, const char* what) {
    namespace py = pybind11;
    py::object path = py::module_::import("os").attr("fspath")(value);
    if (!py::isinstance<py::str>(path))
        throw mochi::warabi::Exception(mochi::warabi::ErrorCode::InvalidArgument, std::string(what) + " must be a str path");
    return path.cast<std::string>();
}

// new_root and merge_config, the keywords of every call that may install a target (migrate,
// restore): None leaves new_root empty and merge_config an empty object.
inline void install_options(pybind11::handle new_root, pybind11::handle merge_config, std::string& root_out,
                            nlohmann::json& merge_out) {
    namespace py = pybind11;
    using mochi::warabi::ErrorCode;
    using mochi::warabi::Exception;
    if (!new_root.is_none()) root_out = path_argument(new_root, "new_root");
    if (merge_config.is_none()) return;
    std::string text;
    if (py::isinstance<py::str>(merge_config))
        text = merge_config.cast<std::string>();
    else if (py::isinstance<py::dict>(merge_config))
        text = py::module_::import("json").attr("dumps")(merge_config).cast<std::string>();
    else
        throw Exception(ErrorCode::InvalidArgument, "merge_config must be a dict, got " +
                                                        std::string(py::str(py::type::of(merge_config).attr("__name__"))));
    try {
        merge_out = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        throw Exception(ErrorCode::InvalidArgument, std::string("merge_config is not valid JSON: ") + e.what());
    }
}

inline mochi::warabi::MigrationOptions migration_options(bool remove_source, size_t transfer_size,
                                                         pybind11::handle new_root, pybind11::handle merge_config) {
    mochi::warabi::MigrationOptions opt;
    opt.remove_source = remove_source;
    opt.transfer_size = transfer_size;
    install_options(new_root, merge_config, opt.new_root, opt.merge_config);
    return opt;
}

inline mochi::warabi::RestoreOptions restore_options(pybind11::handle new_root, pybind11::handle merge_config) {
    mochi::warabi::RestoreOptions opt;
    install_options(new_root, merge_config, opt.new_root, opt.merge_config);
    return opt;
}

}  // namespace kinako::python::warabi
