// The "leveldb" backend: a persistent, sorted key/value store on LevelDB.
//
// Every put/get mode works (APPEND, NEW_ONLY, EXIST_ONLY, CONSUME): those are read-modify-write
// operations done under the exclusive side of a reader/writer lock; plain writes share it
// (LevelDB orders them itself). count() is exact: it walks the keys.
#include <mochi/yokan/backend.hpp>
#include <mochi/yokan/config_check.hpp>

#include <leveldb/db.h>
#include <leveldb/iterator.h>
#include <leveldb/options.h>
#include <leveldb/write_batch.h>

#include <filesystem>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace mochi::yokan::backends {

namespace {

const char* const kType = "leveldb";

Status from_leveldb(const leveldb::Status& s) {
    if (s.ok()) return Status::Success;
    if (s.IsNotFound()) return Status::NotFound;
    if (s.IsCorruption()) return Status::Corruption;
    if (s.IsIOError()) return Status::IO;
    if (s.IsInvalidArgument()) return Status::InvalidArgs;
    if (s.IsNotSupportedError()) return Status::OpUnsupported;
    return Status::Other;
}

leveldb::Slice slice(std::string_view v) { return leveldb::Slice(v.data(), v.size()); }
std::string_view view(const leveldb::Slice& s) { return std::string_view(s.data(), s.size()); }

nlohmann::json& sub_object(nlohmann::json& cfg, const char* key) {
    if (!cfg.contains(key)) cfg[key] = nlohmann::json::object();
    if (!cfg[key].is_object()) config::fail(kType, key, "an object", cfg[key]);
    return cfg[key];
}

int64_t positive(nlohmann::json& cfg, const char* key, int64_t def) {
    int64_t v = config::get_int(kType, cfg, key, def);
    if (v <= 0) config::fail(kType, key, "a positive integer", cfg[key]);
    return v;
}

class LevelDBBackend : public Backend {
  public:
    static std::unique_ptr<Backend> create(const nlohmann::json& given) {
        auto cfg = config::object_or_empty(kType, given);
        std::string path = config::require_string(kType, cfg, "path");
        leveldb::Options opt;
        opt.create_if_missing = config::get_bool(kType, cfg, "create_if_missing", true);
        opt.error_if_exists = config::get_bool(kType, cfg, "error_if_exists", false);
        opt.paranoid_checks = config::get_bool(kType, cfg, "paranoid_checks", false);
        opt.write_buffer_size = positive(cfg, "write_buffer_size", 4 << 20);
        opt.max_open_files = static_cast<int>(positive(cfg, "max_open_files", 1000));
        opt.block_size = positive(cfg, "block_size", 4096);
        opt.block_restart_interval = static_cast<int>(positive(cfg, "block_restart_interval", 16));
        opt.max_file_size = positive(cfg, "max_file_size", 2 << 20);
        opt.reuse_logs = config::get_bool(kType, cfg, "reuse_logs", false);
        opt.compression = config::get_bool(kType, cfg, "compression", true) ? leveldb::kSnappyCompression
                                                                            : leveldb::kNoCompression;
        config::get_bool(kType, cfg, "disable_doc_mutex", false);  // accepted for compatibility

        leveldb::ReadOptions ropt;
        auto& r = sub_object(cfg, "read_options");
        ropt.verify_checksums = config::get_bool(std::string(kType) + ": read_options", r, "verify_checksums", false);
        ropt.fill_cache = config::get_bool(std::string(kType) + ": read_options", r, "fill_cache", true);

        leveldb::WriteOptions wopt;
        auto& w = sub_object(cfg, "write_options");
        wopt.sync = config::get_bool(std::string(kType) + ": write_options", w, "sync", false);
        config::get_bool(std::string(kType) + ": write_options", w, "use_write_batch", false);  // batches always

        if (opt.create_if_missing) {
            std::error_code ec;
            auto parent = std::filesystem::path(path).parent_path();
            if (!parent.empty()) std::filesystem::create_directories(parent, ec);
        }
        leveldb::DB* db = nullptr;
        auto s = leveldb::DB::Open(opt, path, &db);
        if (!s.ok()) {
            Status code = from_leveldb(s);
            if (code == Status::InvalidArgs) code = Status::InvalidConfig;
            throw Exception(code, std::string(kType) + ": cannot open \"" + path + "\": " + s.ToString());
        }
        return std::unique_ptr<Backend>(new LevelDBBackend(std::move(cfg), path, opt, ropt, wopt, db));
    }

    ~LevelDBBackend() override { delete db_; }

    std::string type() const override { return kType; }
    nlohmann::json config() const override { return cfg_; }
    bool is_sorted() const override { return true; }

    void destroy() override {
        std::unique_lock<std::shared_mutex> lock(mutex_);
        delete db_;
        db_ = nullptr;
        leveldb::DestroyDB(path_, options_);
        std::error_code ec;
        std::filesystem::remove(path_, ec);  // the directory, once the database's files are gone
    }

    Status count(uint64_t& n) override {
        std::shared_lock<std::shared_mutex> lock(mutex_);
        if (!db_) return Status::InvalidDatabase;
        n = 0;
        leveldb::ReadOptions ropt = read_;
        ropt.fill_cache = false;
        std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(ropt));
        for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
        return from_leveldb(it->status());
    }

    Status exists(KeySpan keys, std::vector<uint8_t>& found) override {
        std::shared_lock<std::shared_mutex> lock(mutex_);
        if (!db_) return Status::InvalidDatabase;
        std::string value;
        for (size_t i = 0; i < keys.size(); ++i) {
            bool present = false;
            Status st = lookup(keys[i], value, present);
            if (st != Status::Success) return st;
            found[i] = present;
        }
        return Status::Success;
    }

    Status length(KeySpan keys, std::vector<uint64_t>& sizes) override {
        std::shared_lock<std::shared_mutex> lock(mutex_);
        if (!db_) return Status::InvalidDatabase;
        std::string value;
        for (size_t i = 0; i < keys.size(); ++i) {
            bool present = false;
            Status st = lookup(keys[i], value, present);
            if (st != Status::Success) return st;
            sizes[i] = present ? value.size() : YOKAN_KEY_NOT_FOUND;
        }
        return Status::Success;
    }

    Status put(int32_t mode, KeySpan keys, KeySpan values) override {
        if (keys.size() != values.size()) return Status::InvalidArgs;
        const int32_t rmw = YOKAN_MODE_APPEND | YOKAN_MODE_NEW_ONLY | YOKAN_MODE_EXIST_ONLY;
        leveldb::WriteBatch batch;
        if (!(mode & rmw)) {
            std::shared_lock<std::shared_mutex> lock(mutex_);
            if (!db_) return Status::InvalidDatabase;
            for (size_t i = 0; i < keys.size(); ++i) batch.Put(slice(keys[i]), slice(values[i]));
            return from_leveldb(db_->Write(write_, &batch));
        }
        std::unique_lock<std::shared_mutex> lock(mutex_);
        if (!db_) return Status::InvalidDatabase;
        // What this batch has written so far, so a key repeated in the batch sees its own writes.
        std::unordered_map<std::string_view, std::string> pending;
        std::string stored;
        const bool single = keys.size() == 1;
        for (size_t i = 0; i < keys.size(); ++i) {
            auto p = pending.find(keys[i]);
            bool present = p != pending.end();
            if (!present) {
                Status st = lookup(keys[i], stored, present);
                if (st != Status::Success) return st;
            }
            if ((mode & YOKAN_MODE_NEW_ONLY) && present) {
                if (single) return Status::KeyExists;
                continue;
            }
            if ((mode & YOKAN_MODE_EXIST_ONLY) && !present) {
                if (single) return Status::NotFound;
                continue;
            }
            if (p == pending.end()) {
                p = pending.emplace(keys[i], std::string()).first;
                if (present && (mode & YOKAN_MODE_APPEND)) p->second = std::move(stored);
            } else if (!(mode & YOKAN_MODE_APPEND)) {
                p->second.clear();
            }
            p->second.append(values[i].data(), values[i].size());
        }
        if (pending.empty()) return Status::Success;
        for (auto& [k, v] : pending) batch.Put(slice(k), slice(v));
        return from_leveldb(db_->Write(write_, &batch));
    }

    Status get(int32_t mode, KeySpan keys, const GetVisitor& visit) override {
        std::string value;
        if (!(mode & YOKAN_MODE_CONSUME)) {
            std::shared_lock<std::shared_mutex> lock(mutex_);
            if (!db_) return Status::InvalidDatabase;
            for (size_t i = 0; i < keys.size(); ++i) {
                bool present = false;
                Status st = lookup(keys[i], value, present);
                if (st != Status::Success) return st;
                if (present) visit(i, value);
            }
            return Status::Success;
        }
        std::unique_lock<std::shared_mutex> lock(mutex_);
        if (!db_) return Status::InvalidDatabase;
        leveldb::WriteBatch batch;
        std::unordered_set<std::string_view> taken;  // a key repeated in the batch is consumed once
        for (size_t i = 0; i < keys.size(); ++i) {
            if (taken.count(keys[i])) continue;
            bool present = false;
            Status st = lookup(keys[i], value, present);
            if (st != Status::Success) return st;
            if (!present) continue;
            visit(i, value);
            taken.insert(keys[i]);
            batch.Delete(slice(keys[i]));
        }
        if (taken.empty()) return Status::Success;
        return from_leveldb(db_->Write(write_, &batch));
    }

    Status erase(KeySpan keys) override {
        std::shared_lock<std::shared_mutex> lock(mutex_);
        if (!db_) return Status::InvalidDatabase;
        leveldb::WriteBatch batch;
        for (auto k : keys) batch.Delete(slice(k));
        return from_leveldb(db_->Write(write_, &batch));
    }

    Status list(std::string_view from_key, bool inclusive, std::string_view prefix, bool with_values,
                const ListVisitor& visit) override {
        std::shared_lock<std::shared_mutex> lock(mutex_);
        if (!db_) return Status::InvalidDatabase;
        std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(read_));
        std::string_view start = from_key < prefix ? prefix : from_key;
        it->Seek(slice(start));
        for (; it->Valid(); it->Next()) {
            std::string_view k = view(it->key());
            if (!inclusive && !from_key.empty() && k == from_key) continue;
            if (k.compare(0, prefix.size(), prefix) != 0) break;
            if (!visit(k, with_values ? view(it->value()) : std::string_view())) break;
        }
        return from_leveldb(it->status());
    }

  private:
    LevelDBBackend(nlohmann::json cfg, std::string path, const leveldb::Options& opt, const leveldb::ReadOptions& r,
                   const leveldb::WriteOptions& w, leveldb::DB* db)
    : cfg_(std::move(cfg)), path_(std::move(path)), options_(opt), read_(r), write_(w), db_(db) {}

    Status lookup(std::string_view key, std::string& value, bool& present) {
        auto s = db_->Get(read_, slice(key), &value);
        if (s.IsNotFound()) {
            present = false;
            return Status::Success;
        }
        present = s.ok();
        return from_leveldb(s);
    }

    nlohmann::json cfg_;
    std::string path_;
    leveldb::Options options_;
    leveldb::ReadOptions read_;
    leveldb::WriteOptions write_;
    leveldb::DB* db_ = nullptr;
    // Shared by reads and plain writes; exclusive for read-modify-write operations and close.
    std::shared_mutex mutex_;
};

}  // namespace

YOKAN_REGISTER_BACKEND(leveldb, LevelDBBackend);

}  // namespace mochi::yokan::backends
