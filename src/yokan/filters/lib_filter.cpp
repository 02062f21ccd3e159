// LIB_FILTER: the filter string is "<library>:<filter name>:<args>". The library (a path, a
// file name the dynamic loader finds, or a short name "foo" for libfoo.so) is loaded once with
// RTLD_NOW | RTLD_LOCAL and kept; its static initializers register filter types through
// register_kv_filter / register_doc_filter (KINAKO_YOKAN_REGISTER_FILTER). An empty library
// part uses the filters already registered in the process. args is everything after the
// second ':' (it may be empty and may contain ':').
//
// The user's filter is wrapped so that whatever it throws becomes Exception(InvalidFilter)
// naming the filter.
#include "filter.hpp"

#include <dlfcn.h>

#include <map>
#include <mutex>
#include <string>

namespace mochi::yokan {

namespace {

struct FilterRegistry {
    std::mutex mutex;
    std::map<std::string, KeyValueFilterFactory, std::less<>> kv;
    std::map<std::string, DocFilterFactory, std::less<>> doc;
    std::map<std::string, void*, std::less<>> libraries;  // loaded, never unloaded
    std::mutex load_mutex;                                 // one dlopen at a time
};

FilterRegistry& registry() {
    static FilterRegistry* r = new FilterRegistry;  // never destroyed: libraries may outlive statics
    return *r;
}

}  // namespace

void register_kv_filter(const std::string& name, KeyValueFilterFactory factory) {
    auto& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    r.kv[name] = std::move(factory);
}

void register_doc_filter(const std::string& name, DocFilterFactory factory) {
    auto& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    r.doc[name] = std::move(factory);
}

namespace detail {

namespace {

struct LibSpec {
    std::string_view library, name, args;
};

LibSpec parse_spec(std::string_view spec) {
    size_t first = spec.find(':');
    if (first == std::string_view::npos)
        throw Exception(Status::InvalidFilter, "Invalid filter: library filter \"" + std::string(spec) +
                                                   "\" is not of the form <library>:<filter name>:<args>");
    LibSpec s;
    s.library = spec.substr(0, first);
    std::string_view rest = spec.substr(first + 1);
    size_t second = rest.find(':');
    s.name = rest.substr(0, second);
    if (second != std::string_view::npos) s.args = rest.substr(second + 1);
    if (s.name.empty())
        throw Exception(Status::InvalidFilter,
                        "Invalid filter: library filter \"" + std::string(spec) + "\" names no filter");
    return s;
}

// Loads the library once; later calls find it in the cache.
void load_library(std::string_view library) {
    if (library.empty()) return;
    auto& r = registry();
    std::lock_guard<std::mutex> lock(r.load_mutex);
    {
        std::lock_guard<std::mutex> l(r.mutex);
        if (r.libraries.count(library)) return;
    }
    std::string name(library);
    void* handle = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    std::string error = handle ? "" : dlerror();
    if (!handle && name.find('/') == std::string::npos) {
        // a short name: "foo" -> libfoo.so, "libfoo" -> libfoo.so
        std::string alt = (name.rfind("lib", 0) == 0 ? name : "lib" + name) + ".so";
        if (alt != name) handle = dlopen(alt.c_str(), RTLD_NOW | RTLD_LOCAL);
    }
    if (!handle)
        throw Exception(Status::InvalidFilter,
                        "Invalid filter: cannot load filter library \"" + name + "\": " + error);
    std::lock_guard<std::mutex> l(r.mutex);
    r.libraries.emplace(std::move(name), handle);
}

template <typename Factory>
Factory find_factory(const std::map<std::string, Factory, std::less<>>& table, const LibSpec& s, const char* kind) {
    auto& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    auto it = table.find(s.name);
    if (it == table.end()) {
        std::string where = s.library.empty() ? std::string(" in this process")
                                              : " by library \"" + std::string(s.library) + "\"";
        throw Exception(Status::InvalidFilter, "Invalid filter: no " + std::string(kind) + " filter named \"" +
                                                   std::string(s.name) + "\" is registered" + where);
    }
    return it->second;
}

// Runs f, turning what a user filter throws into Exception(InvalidFilter).
template <typename F>
auto guarded(const std::string& name, F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const Exception& e) {
        if (e.code() == Status::InvalidFilter) throw;
        throw Exception(Status::InvalidFilter, "Invalid filter: filter \"" + name + "\" failed: " + e.what());
    } catch (const std::exception& e) {
        throw Exception(Status::InvalidFilter, "Invalid filter: filter \"" + name + "\" failed: " + e.what());
    } catch (...) {
        throw Exception(Status::InvalidFilter, "Invalid filter: filter \"" + name + "\" failed");
    }
}

class GuardedKvFilter final : public KeyValueFilter {
  public:
    GuardedKvFilter(std::string name, std::unique_ptr<KeyValueFilter> inner)
    : KeyValueFilter(inner->mode(), inner->args()), name_(std::move(name)), inner_(std::move(inner)) {}
    bool requires_value() const override {
        return (mode() & YOKAN_MODE_FILTER_VALUE) || guarded(name_, [&] { return inner_->requires_value(); });
    }
    bool check(std::string_view k, std::string_view v) override {
        return guarded(name_, [&] { return inner_->check(k, v); });
    }
    std::string_view key_prefix() const override {
        return guarded(name_, [&] { return inner_->key_prefix(); });
    }
    size_t key_size_from(std::string_view k) const override {
        return guarded(name_, [&] { return inner_->key_size_from(k); });
    }
    size_t key_copy(char* dst, size_t max, std::string_view k) const override {
        return std::min(max, guarded(name_, [&] { return inner_->key_copy(dst, max, k); }));
    }
    size_t value_size_from(std::string_view v) const override {
        return guarded(name_, [&] { return inner_->value_size_from(v); });
    }
    size_t value_copy(char* dst, size_t max, std::string_view v) const override {
        return std::min(max, guarded(name_, [&] { return inner_->value_copy(dst, max, v); }));
    }

  private:
    std::string name_;
    std::unique_ptr<KeyValueFilter> inner_;
};

class GuardedDocFilter final : public DocFilter {
  public:
    GuardedDocFilter(std::string name, std::unique_ptr<DocFilter> inner)
    : DocFilter(inner->mode(), inner->args()), name_(std::move(name)), inner_(std::move(inner)) {}
    bool check(std::string_view c, uint64_t id, std::string_view d) override {
        return guarded(name_, [&] { return inner_->check(c, id, d); });
    }
    size_t doc_size_from(std::string_view c, std::string_view d) const override {
        return guarded(name_, [&] { return inner_->doc_size_from(c, d); });
    }
    size_t doc_copy(std::string_view c, char* dst, size_t max, std::string_view d) const override {
        return std::min(max, guarded(name_, [&] { return inner_->doc_copy(c, dst, max, d); }));
    }

  private:
    std::string name_;
    std::unique_ptr<DocFilter> inner_;
};

}  // namespace

std::unique_ptr<KeyValueFilter> make_lib_kv_filter(int32_t mode, std::string_view spec) {
    auto s = parse_spec(spec);
    load_library(s.library);
    auto factory = find_factory(registry().kv, s, "key/value");
    std::string name(s.name);
    auto inner = guarded(name, [&] { return factory(mode, s.args); });
    if (!inner) throw Exception(Status::InvalidFilter, "Invalid filter: filter \"" + name + "\" made no filter");
    return std::make_unique<GuardedKvFilter>(std::move(name), std::move(inner));
}

std::unique_ptr<DocFilter> make_lib_doc_filter(int32_t mode, std::string_view spec) {
    auto s = parse_spec(spec);
    load_library(s.library);
    auto factory = find_factory(registry().doc, s, "document");
    std::string name(s.name);
    auto inner = guarded(name, [&] { return factory(mode, s.args); });
    if (!inner) throw Exception(Status::InvalidFilter, "Invalid filter: filter \"" + name + "\" made no filter");
    return std::make_unique<GuardedDocFilter>(std::move(name), std::move(inner));
}

}  // namespace detail

}  // namespace mochi::yokan
