// Yokan client: a Database handle talks to one provider (address, provider_id); a Collection
// is a named document store inside it. Every call is one RPC (batches included) and takes a
// mode and a timeout in ms (0 = none). Failures throw mochi::yokan::Exception with Yokan's
// code: NotFound (15) for a missing key in get/load, KeyExists (17), Timeout (21), ...
//
//   mochi::yokan::Client client(engine);
//   auto db = client.make_database_handle(engine.lookup(addr), 42);
//   db.put("key", "value");
//   std::string v(db.length("key"), '\0');
//   db.get("key", {v.data(), v.size()});
#pragma once

#include <mochi/margo/engine.hpp>
#include <mochi/yokan/common.hpp>

#include <functional>
#include <memory>
#include <string_view>
#include <vector>

namespace mochi::yokan {

using KeyList = std::vector<std::string_view>;
using IdList = std::vector<uint64_t>;

// A writable view of caller memory that results are written into.
struct Buffer {
    char* data = nullptr;
    size_t size = 0;
};

namespace detail {
struct DatabaseImpl;
}

class Collection;

class Database {
  public:
    Database() = default;
    explicit operator bool() const { return static_cast<bool>(impl_); }
    const margo::Address& address() const;
    uint16_t provider_id() const;

    uint64_t count(int32_t mode = 0, double timeout_ms = 0) const;

    void put(std::string_view key, std::string_view value, int32_t mode = 0, double timeout_ms = 0) const;
    void put_multi(const KeyList& keys, const KeyList& values, int32_t mode = 0, double timeout_ms = 0) const;

    // Writes the value into `value`; returns its size. Throws NotFound, SizeError.
    size_t get(std::string_view key, Buffer value, int32_t mode = 0, double timeout_ms = 0) const;
    // sizes[i]: bytes written into values[i], YOKAN_KEY_NOT_FOUND or YOKAN_SIZE_TOO_SMALL.
    void get_multi(const KeyList& keys, const std::vector<Buffer>& values, std::vector<uint64_t>& sizes,
                   int32_t mode = 0, double timeout_ms = 0) const;
    // Values back to back in one buffer; once one does not fit, it and the rest are SIZE_TOO_SMALL.
    void get_packed(const KeyList& keys, Buffer values, std::vector<uint64_t>& sizes, int32_t mode = 0,
                    double timeout_ms = 0) const;
    // cb(i, value) for each key; value is nullptr when missing, else valid during the call.
    // batch_size > 0 splits the keys into several RPCs.
    using FetchCallback = std::function<void(size_t index, const std::string_view* value)>;
    void fetch_multi(const KeyList& keys, const FetchCallback& cb, int32_t mode = 0, double timeout_ms = 0,
                     size_t batch_size = 0) const;

    bool exists(std::string_view key, int32_t mode = 0, double timeout_ms = 0) const;
    std::vector<uint8_t> exists_multi(const KeyList& keys, int32_t mode = 0, double timeout_ms = 0) const;
    // Throws NotFound for a missing key.
    uint64_t length(std::string_view key, int32_t mode = 0, double timeout_ms = 0) const;
    // YOKAN_KEY_NOT_FOUND for missing keys.
    std::vector<uint64_t> length_multi(const KeyList& keys, int32_t mode = 0, double timeout_ms = 0) const;

    void erase(std::string_view key, int32_t mode = 0, double timeout_ms = 0) const;
    void erase_multi(const KeyList& keys, int32_t mode = 0, double timeout_ms = 0) const;
    // Erases every key starting with prefix ("" erases everything).
    void erase_range(std::string_view prefix, int32_t mode = 0, double timeout_ms = 0) const;

    // Listing after from_key (exclusive unless INCLUSIVE), keys matching filter (a prefix, or
    // a suffix with SUFFIX). ksizes/vsizes get one entry per slot: a size, YOKAN_SIZE_TOO_SMALL,
    // or YOKAN_NO_MORE_KEYS once the end is reached.
    void list_keys(std::string_view from_key, std::string_view filter, const std::vector<Buffer>& keys,
                   std::vector<uint64_t>& ksizes, int32_t mode = 0, double timeout_ms = 0) const;
    void list_keys_packed(std::string_view from_key, std::string_view filter, size_t count, Buffer keys,
                          std::vector<uint64_t>& ksizes, int32_t mode = 0, double timeout_ms = 0) const;
    void list_keyvals(std::string_view from_key, std::string_view filter, const std::vector<Buffer>& keys,
                      const std::vector<Buffer>& values, std::vector<uint64_t>& ksizes,
                      std::vector<uint64_t>& vsizes, int32_t mode = 0, double timeout_ms = 0) const;
    void list_keyvals_packed(std::string_view from_key, std::string_view filter, size_t count, Buffer keys,
                             Buffer values, std::vector<uint64_t>& ksizes, std::vector<uint64_t>& vsizes,
                             int32_t mode = 0, double timeout_ms = 0) const;
    // cb(i, key, value) for up to count pairs (0 = all) after from_key matching filter; value is
    // nullptr when ignore_values. Pages of batch_size pairs per RPC (0 = a default).
    using IterCallback = std::function<void(size_t index, std::string_view key, const std::string_view* value)>;
    void iter(std::string_view from_key, std::string_view filter, uint64_t count, const IterCallback& cb,
              bool ignore_values = false, int32_t mode = 0, double timeout_ms = 0, size_t batch_size = 0) const;

    // Collections. create throws KeyExists when the collection exists.
    Collection create_collection(std::string_view name, int32_t mode = 0, double timeout_ms = 0) const;
    void drop_collection(std::string_view name, int32_t mode = 0, double timeout_ms = 0) const;
    bool collection_exists(std::string_view name, int32_t mode = 0, double timeout_ms = 0) const;
    Collection open_collection(std::string_view name) const;  // no RPC

  private:
    friend class Client;
    friend class Collection;
    explicit Database(std::shared_ptr<detail::DatabaseImpl> impl) : impl_(std::move(impl)) {}
    std::shared_ptr<detail::DatabaseImpl> impl_;
};

class Collection {
  public:
    Collection() = default;
    Collection(std::string_view name, const Database& db) : db_(db), name_(name) {}
    const std::string& name() const { return name_; }
    const Database& database() const { return db_; }

    uint64_t size(int32_t mode = 0, double timeout_ms = 0) const;
    uint64_t last_id(int32_t mode = 0, double timeout_ms = 0) const;  // next id to be assigned

    uint64_t store(std::string_view doc, int32_t mode = 0, double timeout_ms = 0) const;
    IdList store_multi(const KeyList& docs, int32_t mode = 0, double timeout_ms = 0) const;
    // Unknown ids give InvalidId (unless UPDATE_NEW).
    void update(uint64_t id, std::string_view doc, int32_t mode = 0, double timeout_ms = 0) const;
    void update_multi(const IdList& ids, const KeyList& docs, int32_t mode = 0, double timeout_ms = 0) const;
    // Throws NotFound for a missing id, SizeError when the buffer is too small.
    size_t load(uint64_t id, Buffer doc, int32_t mode = 0, double timeout_ms = 0) const;
    void load_multi(const IdList& ids, const std::vector<Buffer>& docs, std::vector<uint64_t>& sizes,
                    int32_t mode = 0, double timeout_ms = 0) const;
    void load_packed(const IdList& ids, Buffer docs, std::vector<uint64_t>& sizes, int32_t mode = 0,
                     double timeout_ms = 0) const;
    using FetchCallback = std::function<void(size_t index, uint64_t id, const std::string_view* doc)>;
    void fetch_multi(const IdList& ids, const FetchCallback& cb, int32_t mode = 0, double timeout_ms = 0,
                     size_t batch_size = 0) const;
    std::vector<uint64_t> length_multi(const IdList& ids, int32_t mode = 0, double timeout_ms = 0) const;
    void erase_multi(const IdList& ids, int32_t mode = 0, double timeout_ms = 0) const;
    // Documents with id >= start_id whose content starts with filter ("" = all), one per
    // buffer; ids/sizes get one entry per slot (size YOKAN_SIZE_TOO_SMALL when the buffer is
    // too small, id YOKAN_NO_MORE_DOCS after the last one).
    void list_docs(uint64_t start_id, std::string_view filter, const std::vector<Buffer>& docs, IdList& ids,
                   std::vector<uint64_t>& sizes, int32_t mode = 0, double timeout_ms = 0) const;
    void list_docs_packed(uint64_t start_id, std::string_view filter, size_t count, Buffer docs, IdList& ids,
                          std::vector<uint64_t>& sizes, int32_t mode = 0, double timeout_ms = 0) const;
    void iter(uint64_t start_id, std::string_view filter, uint64_t count, const FetchCallback& cb,
              int32_t mode = 0, double timeout_ms = 0, size_t batch_size = 0) const;

  private:
    Database db_;
    std::string name_;
};

class Client {
  public:
    explicit Client(margo::Engine engine);
    const margo::Engine& engine() const { return engine_; }
    // check: asks the peer for the identity of provider_id and throws InvalidProvider unless
    // it is "yokan".
    Database make_database_handle(const margo::Address& address, uint16_t provider_id, bool check = true) const;

  private:
    margo::Engine engine_;
};

}  // namespace mochi::yokan
