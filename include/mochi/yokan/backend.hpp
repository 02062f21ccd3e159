// The storage interface every Yokan backend implements. Methods take views of memory the
// provider owns (the received message), so backends never copy arguments they only read;
// results go out through visitors that see the stored bytes in place.
//
// Adding a backend is one file in src/yokan/backends/ that ends with
//   YOKAN_REGISTER_BACKEND(my_type, MyBackend);
// where MyBackend has `static std::unique_ptr<Backend> create(const nlohmann::json& config)`.
//
// What the provider does for every backend, so backends need not: WAIT/NOTIFY (a waiter
// list per key, parked fibers), list filters (suffix, NO_PREFIX, IGNORE_KEYS, KEEP_LAST),
// CONSUME on lists, argument validation and mode checks. What backends do: storage, and
// the put/get modes APPEND, NEW_ONLY, EXIST_ONLY and CONSUME, atomically.
#pragma once

#include <mochi/yokan/common.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace mochi::yokan {

using KeyList = std::vector<std::string_view>;
using IdList = std::vector<uint64_t>;

// The keys, values or documents of one backend call: a read-only view of byte strings held
// by the caller. The provider passes what it decoded from a request (a single key lives on
// its stack, so a single put allocates no list); a std::vector, a std::array or one
// std::string_view convert to it. Like the bytes themselves, it is valid only during the call.
class KeySpan {
  public:
    KeySpan() = default;
    KeySpan(const std::string_view& one) : data_(&one), size_(1) {}
    // For call arguments only (`b.erase({"a", "b"})`): the list's array lives until the end
    // of the full expression, so a KeySpan variable initialized this way would dangle.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winit-list-lifetime"  // the caveat above, on purpose
#endif
    KeySpan(std::initializer_list<std::string_view> items) : data_(items.begin()), size_(items.size()) {}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
    // Any contiguous container of std::string_view (vector, array, small_vector, ...).
    template <typename C, typename = std::enable_if_t<std::is_convertible_v<
                              decltype(std::declval<const C&>().data()), const std::string_view*>>>
    KeySpan(const C& c) : data_(c.data()), size_(c.size()) {}

    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    const std::string_view& operator[](size_t i) const { return data_[i]; }
    const std::string_view* data() const { return data_; }
    const std::string_view* begin() const { return data_; }
    const std::string_view* end() const { return data_ + size_; }

  private:
    const std::string_view* data_ = nullptr;
    size_t size_ = 0;
};

// visit(i, value): key or document i was found; value is valid only during the call.
using GetVisitor = std::function<void(size_t index, std::string_view value)>;
// visit(key, value) in key order; return false to stop.
using ListVisitor = std::function<bool(std::string_view key, std::string_view value)>;
// visit(id, document) in id order; return false to stop.
using DocVisitor = std::function<bool(uint64_t id, std::string_view doc)>;

class Backend {
  public:
    virtual ~Backend() = default;

    // The registered type name ("map", "rocksdb", ...).
    virtual std::string type() const = 0;
    // The effective configuration: what was given, with every default filled in.
    virtual nlohmann::json config() const = 0;
    // Ordered keys: list/iter and document listing work only on sorted backends.
    virtual bool is_sorted() const = 0;
    // False for document-only backends (log, array): key/value calls get OpUnsupported.
    virtual bool supports_kv() const { return true; }
    // False for backends that cannot hold documents (sets store keys only).
    virtual bool supports_documents() const { return true; }
    // Removes persistent files (called when a database is destroyed on purpose); in-memory
    // backends drop their contents. Calls made afterwards find nothing or InvalidDatabase.
    virtual void destroy() {}

    // ---- key/value
    virtual Status count(uint64_t& n) = 0;
    // found[i] = 1 when keys[i] is present (found has keys.size() entries on entry).
    virtual Status exists(KeySpan keys, std::vector<uint8_t>& found) = 0;
    // sizes[i] = value size, or YOKAN_KEY_NOT_FOUND (sizes has keys.size() entries on entry).
    virtual Status length(KeySpan keys, std::vector<uint64_t>& sizes) = 0;
    // Honours APPEND, NEW_ONLY and EXIST_ONLY. With one key, a refused put returns KeyExists
    // (NEW_ONLY) or NotFound (EXIST_ONLY); with several, refused pairs are skipped silently.
    virtual Status put(int32_t mode, KeySpan keys, KeySpan values) = 0;
    // visit(i, value) for each present key, in order; missing keys are not visited.
    // With CONSUME the visited keys are erased, atomically with the read.
    virtual Status get(int32_t mode, KeySpan keys, const GetVisitor& visit) = 0;
    // Missing keys are not an error.
    virtual Status erase(KeySpan keys) = 0;
    // Sorted backends: visit, in order, the keys after from_key (at it too when inclusive)
    // that start with prefix, until visit returns false. value is empty unless with_values.
    virtual Status list(std::string_view from_key, bool inclusive, std::string_view prefix, bool with_values,
                        const ListVisitor& visit);
    // Every pair with its value, in any order, until visit returns false (snapshots and
    // migration use it). The default is one list() over everything on sorted backends and
    // OpUnsupported otherwise; hashed backends override it. visit must not call back into
    // this backend: implementations may hold their lock while visiting.
    virtual Status visit_all(const ListVisitor& visit);

    // ---- documents. The default implementation stores collections as key/value pairs in
    // this backend (src/yokan/doc_store.cpp); document-only backends override all of them.
    virtual Status coll_create(std::string_view name);
    virtual Status coll_drop(std::string_view name);
    virtual Status coll_exists(std::string_view name, bool& exists);
    virtual Status coll_last_id(std::string_view name, uint64_t& id);  // next id to be assigned
    virtual Status coll_size(std::string_view name, uint64_t& size);   // live documents
    // ids gets one id per document, consecutive, starting at the collection's next id.
    virtual Status doc_store(int32_t mode, std::string_view coll, KeySpan docs, IdList& ids);
    // An unknown id gives InvalidId unless mode has UPDATE_NEW.
    virtual Status doc_update(int32_t mode, std::string_view coll, const IdList& ids, KeySpan docs);
    // visit(i, doc) for each live id; CONSUME erases what it visits.
    virtual Status doc_load(int32_t mode, std::string_view coll, const IdList& ids, const GetVisitor& visit);
    virtual Status doc_length(std::string_view coll, const IdList& ids, std::vector<uint64_t>& sizes);
    virtual Status doc_erase(std::string_view coll, const IdList& ids);
    // Visits live documents with id >= start_id, in id order, until visit returns false.
    virtual Status doc_list(std::string_view coll, uint64_t start_id, const DocVisitor& visit);
    // The names of every collection. Document-only backends implement it (snapshots walk
    // collections through it); the default answers OpUnsupported, since backends using the
    // default document store hand out their collections as ordinary pairs.
    virtual Status coll_names(std::vector<std::string>& names);

    // What a pair of the default document store stands for. Snapshots and migrations carry
    // those pairs raw; a merge must replay them through the document calls instead, or the
    // copied metadata would overwrite the live count and next id of a collection both sides have.
    struct StoredDocKey {
        enum Kind { None, Collection, Document } kind = None;
        std::string_view collection;
        uint64_t id = 0;       // Document: its id
        uint64_t next_id = 0;  // Collection: the next id recorded in the value
    };
    static StoredDocKey decode_stored_doc_key(std::string_view key, std::string_view value);

  protected:
    // Serializes id allocation and size accounting in the default document store.
    std::mutex doc_mutex_;
};

using BackendFactory = std::function<std::unique_ptr<Backend>(const nlohmann::json& config)>;

// Registry of backend types. create_backend throws Exception(InvalidBackend) for an unknown
// type and lets factories throw Exception(InvalidConfig) naming the bad key. A type of the
// form "libfoo.so:name" dlopens libfoo.so (whose backends register themselves) first.
void register_backend(const std::string& type, BackendFactory factory);
std::unique_ptr<Backend> create_backend(const std::string& type, const nlohmann::json& config);
std::vector<std::string> available_backends();

}  // namespace mochi::yokan

#define YOKAN_REGISTER_BACKEND(type_name, Class)                                                    \
    static const bool kinako_yokan_registered_##type_name = [] {                                    \
        ::mochi::yokan::register_backend(#type_name,                                                \
                                         [](const nlohmann::json& c) { return Class::create(c); }); \
        return true;                                                                                \
    }()
