// The "lmdb" backend: a persistent, sorted key/value store on LMDB.
//
// Every operation is one LMDB transaction, so the put/get modes (APPEND, NEW_ONLY,
// EXIST_ONLY, CONSUME) are atomic, and a commit is durable when it returns (LMDB syncs on
// commit unless "no_sync" is set). The map grows by doubling when it is full.
// Writers of this process are serialized by a mutex of ours before they reach LMDB's own
// writer lock, so two fibers on one thread never wait on that lock against each other.
#include <mochi/yokan/backend.hpp>
#include <mochi/yokan/config_check.hpp>

#include <lmdb.h>

#include <cerrno>
#include <filesystem>
#include <mutex>
#include <shared_mutex>
#include <string>

namespace mochi::yokan::backends {

namespace {

const char* const kType = "lmdb";

Status from_lmdb(int rc) {
    switch (rc) {
        case MDB_SUCCESS: return Status::Success;
        case MDB_NOTFOUND: return Status::NotFound;
        case MDB_KEYEXIST: return Status::KeyExists;
        case MDB_BAD_VALSIZE: return Status::InvalidArgs;  // empty key, or longer than 511 bytes
        case MDB_CORRUPTED:
        case MDB_PAGE_NOTFOUND:
        case MDB_INVALID:
        case MDB_VERSION_MISMATCH: return Status::Corruption;
        case MDB_READERS_FULL:
        case MDB_TXN_FULL: return Status::Busy;
        case MDB_MAP_FULL: return Status::SizeError;
        case ENOMEM: return Status::Allocation;
        case EACCES:
        case EPERM: return Status::Permission;
        case EIO:
        case ENOSPC: return Status::IO;
        default: return Status::Other;
    }
}

MDB_val val(std::string_view v) { return MDB_val{v.size(), const_cast<char*>(v.data())}; }
std::string_view view(const MDB_val& v) { return std::string_view(static_cast<const char*>(v.mv_data), v.mv_size); }

// Aborts a transaction that was not committed.
struct Txn {
    MDB_txn* txn = nullptr;
    ~Txn() {
        if (txn) mdb_txn_abort(txn);
    }
    int commit() {
        int rc = mdb_txn_commit(txn);
        txn = nullptr;
        return rc;
    }
};

class LMDBBackend : public Backend {
  public:
    static std::unique_ptr<Backend> create(const nlohmann::json& given) {
        auto cfg = config::object_or_empty(kType, given);
        std::string path = config::require_string(kType, cfg, "path");
        bool create = config::get_bool(kType, cfg, "create_if_missing", true);
        bool error_if_exists = config::get_bool(kType, cfg, "error_if_exists", false);
        bool no_lock = config::get_bool(kType, cfg, "no_lock", false);
        bool no_sync = config::get_bool(kType, cfg, "no_sync", false);
        int64_t map_size = config::get_int(kType, cfg, "map_size", int64_t(1) << 30);
        if (map_size <= 0) config::fail(kType, "map_size", "a positive integer", cfg["map_size"]);

        namespace fs = std::filesystem;
        std::error_code ec;
        bool present = fs::exists(fs::path(path) / "data.mdb", ec);
        if (present && error_if_exists)
            throw Exception(Status::InvalidConfig, std::string(kType) + ": \"" + path + "\" already exists");
        if (!present) {
            if (!create)
                throw Exception(Status::InvalidConfig,
                                std::string(kType) + ": \"" + path + "\" does not exist (create_if_missing is false)");
            fs::create_directories(path, ec);
            if (ec)
                throw Exception(Status::IO, std::string(kType) + ": cannot create \"" + path + "\": " + ec.message());
        }

        std::unique_ptr<LMDBBackend> b(new LMDBBackend(std::move(cfg), path, no_lock));
        int rc = mdb_env_create(&b->env_);
        if (rc == 0) rc = mdb_env_set_mapsize(b->env_, static_cast<size_t>(map_size));
        unsigned flags = MDB_NOTLS | (no_lock ? MDB_NOLOCK : 0) | (no_sync ? MDB_NOSYNC : 0);
        if (rc == 0) rc = mdb_env_open(b->env_, path.c_str(), flags, 0664);
        if (rc == 0) {
            Txn t;
            rc = mdb_txn_begin(b->env_, nullptr, 0, &t.txn);
            if (rc == 0) rc = mdb_dbi_open(t.txn, nullptr, 0, &b->dbi_);
            if (rc == 0) rc = t.commit();
        }
        if (rc != 0)
            throw Exception(from_lmdb(rc), std::string(kType) + ": cannot open \"" + path + "\": " + mdb_strerror(rc));
        return b;
    }

    ~LMDBBackend() override { close(); }

    std::string type() const override { return kType; }
    nlohmann::json config() const override { return cfg_; }
    bool is_sorted() const override { return true; }

    void destroy() override {
        std::unique_lock<std::shared_mutex> lock(rw_);
        close();
        namespace fs = std::filesystem;
        std::error_code ec;
        fs::remove(fs::path(path_) / "data.mdb", ec);
        fs::remove(fs::path(path_) / "lock.mdb", ec);
        fs::remove(path_, ec);  // the directory, when nothing else is in it
    }

    Status count(uint64_t& n) override {
        return read([&](MDB_txn* txn) {
            MDB_stat st;
            int rc = mdb_stat(txn, dbi_, &st);
            if (rc == 0) n = st.ms_entries;
            return rc;
        });
    }

    Status exists(KeySpan keys, std::vector<uint8_t>& found) override {
        return read([&](MDB_txn* txn) {
            for (size_t i = 0; i < keys.size(); ++i) {
                MDB_val k = val(keys[i]), v;
                int rc = mdb_get(txn, dbi_, &k, &v);
                if (rc != 0 && rc != MDB_NOTFOUND && rc != MDB_BAD_VALSIZE) return rc;
                found[i] = rc == 0;
            }
            return 0;
        });
    }

    Status length(KeySpan keys, std::vector<uint64_t>& sizes) override {
        return read([&](MDB_txn* txn) {
            for (size_t i = 0; i < keys.size(); ++i) {
                MDB_val k = val(keys[i]), v;
                int rc = mdb_get(txn, dbi_, &k, &v);
                if (rc != 0 && rc != MDB_NOTFOUND && rc != MDB_BAD_VALSIZE) return rc;
                sizes[i] = rc == 0 ? v.mv_size : YOKAN_KEY_NOT_FOUND;
            }
            return 0;
        });
    }

    Status put(int32_t mode, KeySpan keys, KeySpan values) override {
        if (keys.size() != values.size()) return Status::InvalidArgs;
        Status refused = Status::Success;
        std::string joined;
        Status st = write([&](MDB_txn* txn) {
            refused = Status::Success;
            const bool single = keys.size() == 1;
            for (size_t i = 0; i < keys.size(); ++i) {
                MDB_val k = val(keys[i]), v = val(values[i]);
                int rc;
                if (mode & (YOKAN_MODE_APPEND | YOKAN_MODE_NEW_ONLY | YOKAN_MODE_EXIST_ONLY)) {
                    // Reads inside the write transaction see its earlier writes, so a key
                    // repeated in the batch behaves as if the pairs were put one by one.
                    MDB_val old;
                    rc = mdb_get(txn, dbi_, &k, &old);
                    if (rc != 0 && rc != MDB_NOTFOUND) return rc;
                    bool present = rc == 0;
                    if ((mode & YOKAN_MODE_NEW_ONLY) && present) {
                        if (single) refused = Status::KeyExists;
                        continue;
                    }
                    if ((mode & YOKAN_MODE_EXIST_ONLY) && !present) {
                        if (single) refused = Status::NotFound;
                        continue;
                    }
                    if (present && (mode & YOKAN_MODE_APPEND)) {
                        joined.assign(static_cast<const char*>(old.mv_data), old.mv_size);
                        joined.append(values[i].data(), values[i].size());
                        v = val(joined);
                    }
                }
                rc = mdb_put(txn, dbi_, &k, &v, 0);
                if (rc != 0) return rc;
            }
            return 0;
        });
        return st != Status::Success ? st : refused;
    }

    Status get(int32_t mode, KeySpan keys, const GetVisitor& visit) override {
        if (!(mode & YOKAN_MODE_CONSUME)) {
            return read([&](MDB_txn* txn) {
                for (size_t i = 0; i < keys.size(); ++i) {
                    MDB_val k = val(keys[i]), v;
                    int rc = mdb_get(txn, dbi_, &k, &v);
                    if (rc == MDB_NOTFOUND || rc == MDB_BAD_VALSIZE) continue;
                    if (rc != 0) return rc;
                    visit(i, view(v));
                }
                return 0;
            });
        }
        // Read, visit and delete in one write transaction. (Should the map fill up during the
        // deletes, the transaction is retried after growing it and the keys are visited again.)
        return write([&](MDB_txn* txn) {
            for (size_t i = 0; i < keys.size(); ++i) {
                MDB_val k = val(keys[i]), v;
                int rc = mdb_get(txn, dbi_, &k, &v);
                if (rc == MDB_NOTFOUND || rc == MDB_BAD_VALSIZE) continue;
                if (rc != 0) return rc;
                visit(i, view(v));
                rc = mdb_del(txn, dbi_, &k, nullptr);
                if (rc != 0) return rc;
            }
            return 0;
        });
    }

    Status erase(KeySpan keys) override {
        return write([&](MDB_txn* txn) {
            for (auto key : keys) {
                MDB_val k = val(key);
                int rc = mdb_del(txn, dbi_, &k, nullptr);
                if (rc != 0 && rc != MDB_NOTFOUND && rc != MDB_BAD_VALSIZE) return rc;
            }
            return 0;
        });
    }

    Status list(std::string_view from_key, bool inclusive, std::string_view prefix, bool with_values,
                const ListVisitor& visit) override {
        return read([&](MDB_txn* txn) {
            MDB_cursor* cur = nullptr;
            int rc = mdb_cursor_open(txn, dbi_, &cur);
            if (rc != 0) return rc;
            std::string_view start = from_key < prefix ? prefix : from_key;
            MDB_val k = val(start), v;
            rc = start.empty() ? mdb_cursor_get(cur, &k, &v, MDB_FIRST) : mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
            for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
                std::string_view key = view(k);
                if (!inclusive && !from_key.empty() && key == from_key) continue;
                if (key.compare(0, prefix.size(), prefix) != 0) break;
                if (!visit(key, with_values ? view(v) : std::string_view())) break;
            }
            mdb_cursor_close(cur);
            return rc == MDB_NOTFOUND ? 0 : rc;
        });
    }

  private:
    LMDBBackend(nlohmann::json cfg, std::string path, bool no_lock)
    : cfg_(std::move(cfg)), path_(std::move(path)), no_lock_(no_lock) {}

    template <typename F>
    Status read(F&& body) {
        std::shared_lock<std::shared_mutex> lock(rw_);
        if (!env_) return Status::InvalidDatabase;
        Txn t;
        int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &t.txn);
        if (rc == 0) rc = body(t.txn);
        return from_lmdb(rc);  // the read transaction is aborted by Txn
    }

    // Runs body in a write transaction and commits it; grows the map and retries when full.
    template <typename F>
    Status write(F&& body) {
        for (;;) {
            size_t full_at = 0;
            {
                // Without LMDB's locks (no_lock) readers are not tracked, so writers exclude them.
                std::shared_lock<std::shared_mutex> shared(rw_, std::defer_lock);
                std::unique_lock<std::shared_mutex> exclusive(rw_, std::defer_lock);
                if (no_lock_) exclusive.lock();
                else shared.lock();
                std::lock_guard<std::mutex> writer(writer_);
                if (!env_) return Status::InvalidDatabase;
                Txn t;
                int rc = mdb_txn_begin(env_, nullptr, 0, &t.txn);
                if (rc == 0) rc = body(t.txn);
                if (rc == 0) rc = t.commit();
                if (rc != MDB_MAP_FULL) return from_lmdb(rc);
                MDB_envinfo info;
                mdb_env_info(env_, &info);
                full_at = info.me_mapsize;
            }
            grow(full_at);
        }
    }

    // Doubles the map (unless another writer already grew it); no transaction may be open.
    void grow(size_t full_at) {
        std::unique_lock<std::shared_mutex> lock(rw_);
        if (!env_) return;
        MDB_envinfo info;
        mdb_env_info(env_, &info);
        if (info.me_mapsize == full_at) mdb_env_set_mapsize(env_, full_at * 2);
    }

    void close() {
        if (!env_) return;
        mdb_dbi_close(env_, dbi_);
        mdb_env_close(env_);
        env_ = nullptr;
    }

    nlohmann::json cfg_;
    std::string path_;
    bool no_lock_;
    MDB_env* env_ = nullptr;
    MDB_dbi dbi_ = 0;
    std::shared_mutex rw_;  // shared by transactions, exclusive to resize and close
    std::mutex writer_;     // one write transaction at a time in this process
};

}  // namespace

YOKAN_REGISTER_BACKEND(lmdb, LMDBBackend);

}  // namespace mochi::yokan::backends
