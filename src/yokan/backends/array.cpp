// The "array" backend: in-memory collections of documents, one vector per collection indexed
// by document id. Documents only: every key/value call answers OpUnsupported.
#include <mochi/yokan/backend.hpp>
#include <mochi/yokan/config_check.hpp>

#include <map>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

namespace mochi::yokan::backends {

namespace {

const char* const kType = "array";

// Update with UPDATE_NEW may create an id past the end; the gap it leaves is bounded so one
// call cannot make the vector absurdly large.
constexpr uint64_t kMaxIdGap = uint64_t(1) << 24;

class ArrayBackend : public Backend {
  public:
    static std::unique_ptr<Backend> create(const nlohmann::json& given) {
        auto cfg = config::object_or_empty(kType, given);
        bool use_lock = config::get_bool(kType, cfg, "use_lock", true);
        return std::unique_ptr<Backend>(new ArrayBackend(std::move(cfg), use_lock));
    }

    std::string type() const override { return kType; }
    nlohmann::json config() const override { return cfg_; }
    bool is_sorted() const override { return true; }  // documents are listed in id order
    bool supports_kv() const override { return false; }

    // Nothing on disk: destroying the database gives its memory back.
    void destroy() override {
        auto l = exclusive();
        colls_.clear();
    }

    Status count(uint64_t&) override { return Status::OpUnsupported; }
    Status exists(KeySpan, std::vector<uint8_t>&) override { return Status::OpUnsupported; }
    Status length(KeySpan, std::vector<uint64_t>&) override { return Status::OpUnsupported; }
    Status put(int32_t, KeySpan, KeySpan) override { return Status::OpUnsupported; }
    Status get(int32_t, KeySpan, const GetVisitor&) override { return Status::OpUnsupported; }
    Status erase(KeySpan) override { return Status::OpUnsupported; }
    Status list(std::string_view, bool, std::string_view, bool, const ListVisitor&) override {
        return Status::OpUnsupported;
    }

    Status coll_create(std::string_view name) override {
        if (name.empty()) return Status::InvalidArgs;
        auto l = exclusive();
        if (colls_.count(name)) return Status::KeyExists;
        colls_.emplace(std::string(name), Coll());
        return Status::Success;
    }

    Status coll_drop(std::string_view name) override {
        auto l = exclusive();
        auto it = colls_.find(name);
        if (it == colls_.end()) return Status::NotFound;
        colls_.erase(it);
        return Status::Success;
    }

    Status coll_names(std::vector<std::string>& names) override {
        auto l = shared();
        for (auto& [name, c] : colls_) names.push_back(name);
        return Status::Success;
    }

    Status coll_exists(std::string_view name, bool& exists) override {
        auto l = shared();
        exists = colls_.count(name) != 0;
        return Status::Success;
    }

    Status coll_last_id(std::string_view name, uint64_t& id) override {
        auto l = shared();
        const Coll* c = find(name);
        if (!c) return Status::NotFound;
        id = c->docs.size();
        return Status::Success;
    }

    Status coll_size(std::string_view name, uint64_t& size) override {
        auto l = shared();
        const Coll* c = find(name);
        if (!c) return Status::NotFound;
        size = c->live;
        return Status::Success;
    }

    Status doc_store(int32_t, std::string_view coll, KeySpan docs, IdList& ids) override {
        auto l = exclusive();
        Coll* c = find(coll);
        if (!c) return Status::NotFound;
        ids.clear();
        ids.reserve(docs.size());
        for (auto d : docs) {
            ids.push_back(c->docs.size());
            c->docs.emplace_back(std::string(d));
            ++c->live;
        }
        return Status::Success;
    }

    Status doc_update(int32_t mode, std::string_view coll, const IdList& ids, KeySpan docs) override {
        if (ids.size() != docs.size()) return Status::InvalidArgs;
        auto l = exclusive();
        Coll* c = find(coll);
        if (!c) return Status::NotFound;
        const bool create = mode & YOKAN_MODE_UPDATE_NEW;
        for (auto id : ids) {  // all or nothing
            bool live = id < c->docs.size() && c->docs[id];
            if (!live && !create) return Status::InvalidId;
            if (id >= c->docs.size() && id - c->docs.size() > kMaxIdGap) return Status::InvalidId;
        }
        for (size_t i = 0; i < ids.size(); ++i) {
            uint64_t id = ids[i];
            if (id >= c->docs.size()) c->docs.resize(id + 1);
            if (!c->docs[id]) ++c->live;
            c->docs[id] = std::string(docs[i]);
        }
        return Status::Success;
    }

    Status doc_load(int32_t mode, std::string_view coll, const IdList& ids, const GetVisitor& visit) override {
        if (mode & YOKAN_MODE_CONSUME) {
            auto l = exclusive();
            Coll* c = find(coll);
            if (!c) return Status::NotFound;
            for (size_t i = 0; i < ids.size(); ++i) {
                auto id = ids[i];
                if (id >= c->docs.size() || !c->docs[id]) continue;
                visit(i, *c->docs[id]);
                c->docs[id].reset();
                --c->live;
            }
            return Status::Success;
        }
        auto l = shared();
        const Coll* c = find(coll);
        if (!c) return Status::NotFound;
        for (size_t i = 0; i < ids.size(); ++i) {
            auto id = ids[i];
            if (id < c->docs.size() && c->docs[id]) visit(i, *c->docs[id]);
        }
        return Status::Success;
    }

    Status doc_length(std::string_view coll, const IdList& ids, std::vector<uint64_t>& sizes) override {
        auto l = shared();
        const Coll* c = find(coll);
        if (!c) return Status::NotFound;
        sizes.resize(ids.size());
        for (size_t i = 0; i < ids.size(); ++i) {
            auto id = ids[i];
            sizes[i] = (id < c->docs.size() && c->docs[id]) ? c->docs[id]->size() : YOKAN_KEY_NOT_FOUND;
        }
        return Status::Success;
    }

    Status doc_erase(std::string_view coll, const IdList& ids) override {
        auto l = exclusive();
        Coll* c = find(coll);
        if (!c) return Status::NotFound;
        for (auto id : ids) {
            if (id >= c->docs.size() || !c->docs[id]) continue;
            c->docs[id].reset();
            --c->live;
        }
        return Status::Success;
    }

    Status doc_list(std::string_view coll, uint64_t start_id, const DocVisitor& visit) override {
        auto l = shared();
        const Coll* c = find(coll);
        if (!c) return Status::NotFound;
        for (uint64_t id = start_id; id < c->docs.size(); ++id)
            if (c->docs[id] && !visit(id, *c->docs[id])) break;
        return Status::Success;
    }

  private:
    struct Coll {
        std::vector<std::optional<std::string>> docs;  // index = id; nullopt once erased
        uint64_t live = 0;
    };

    ArrayBackend(nlohmann::json cfg, bool use_lock) : cfg_(std::move(cfg)), use_lock_(use_lock) {}

    Coll* find(std::string_view name) {
        auto it = colls_.find(name);
        return it == colls_.end() ? nullptr : &it->second;
    }
    std::shared_lock<std::shared_mutex> shared() {
        return use_lock_ ? std::shared_lock<std::shared_mutex>(mutex_) : std::shared_lock<std::shared_mutex>();
    }
    std::unique_lock<std::shared_mutex> exclusive() {
        return use_lock_ ? std::unique_lock<std::shared_mutex>(mutex_) : std::unique_lock<std::shared_mutex>();
    }

    nlohmann::json cfg_;
    bool use_lock_;
    std::shared_mutex mutex_;
    std::map<std::string, Coll, std::less<>> colls_;
};

}  // namespace

YOKAN_REGISTER_BACKEND(array, ArrayBackend);

}  // namespace mochi::yokan::backends
