// The default document store: collections kept as key/value pairs inside the backend, for
// every backend that does not store documents natively.
//   metadata:  "\x01yk_coll\0" + name            -> {next_id u64, live u64}
//   document:  "\x01yk_doc\0" + name + "\0" + big-endian id -> document bytes
// Big-endian ids make key order id order, so sorted backends list documents by id.
#include <mochi/yokan/backend.hpp>

#include <cstring>
#include <mutex>

namespace mochi::yokan {

namespace {

const std::string kMetaPrefix("\x01yk_coll\0", 9);
const std::string kDocPrefix("\x01yk_doc\0", 8);

struct Meta {
    uint64_t next_id = 0;
    uint64_t live = 0;
};

std::string meta_key(std::string_view coll) { return kMetaPrefix + std::string(coll); }
std::string doc_prefix(std::string_view coll) { return kDocPrefix + std::string(coll) + std::string(1, '\0'); }
std::string doc_key(const std::string& prefix, uint64_t id) {
    std::string k = prefix;
    for (int s = 56; s >= 0; s -= 8) k.push_back(char((id >> s) & 0xff));
    return k;
}
uint64_t id_of(std::string_view key) {
    uint64_t id = 0;
    for (size_t i = key.size() - 8; i < key.size(); ++i) id = (id << 8) | uint8_t(key[i]);
    return id;
}

bool valid_name(std::string_view coll) { return !coll.empty() && coll.find('\0') == std::string_view::npos; }

Status read_meta(Backend& b, std::string_view coll, Meta& m) {
    std::string key = meta_key(coll);
    bool found = false;
    Status s = b.get(0, {key}, [&](size_t, std::string_view v) {
        if (v.size() == sizeof(Meta)) std::memcpy(&m, v.data(), sizeof(Meta));
        found = true;
    });
    if (s != Status::Success) return s;
    return found ? Status::Success : Status::NotFound;
}

Status write_meta(Backend& b, std::string_view coll, const Meta& m) {
    std::string key = meta_key(coll);
    return b.put(0, {key}, {std::string_view(reinterpret_cast<const char*>(&m), sizeof(m))});
}

}  // namespace

Backend::StoredDocKey Backend::decode_stored_doc_key(std::string_view key, std::string_view value) {
    StoredDocKey out;
    if (key.substr(0, kMetaPrefix.size()) == kMetaPrefix) {
        out.collection = key.substr(kMetaPrefix.size());
        if (!valid_name(out.collection) || value.size() != sizeof(Meta)) return {};
        Meta m;
        std::memcpy(&m, value.data(), sizeof(Meta));
        out.kind = StoredDocKey::Collection;
        out.next_id = m.next_id;
    } else if (key.substr(0, kDocPrefix.size()) == kDocPrefix) {
        // prefix + name + '\0' + 8-byte id
        if (key.size() < kDocPrefix.size() + 1 + 1 + 8 || key[key.size() - 9] != '\0') return {};
        out.collection = key.substr(kDocPrefix.size(), key.size() - 9 - kDocPrefix.size());
        if (!valid_name(out.collection)) return {};
        out.kind = StoredDocKey::Document;
        out.id = id_of(key);
    }
    return out;
}

#define YK_TRY(expr)                               \
    do {                                           \
        Status s_ = (expr);                        \
        if (s_ != Status::Success) return s_;      \
    } while (0)

Status Backend::coll_create(std::string_view name) {
    if (!valid_name(name)) return Status::InvalidArgs;
    std::lock_guard<std::mutex> lock(doc_mutex_);
    Meta m;
    Status s = read_meta(*this, name, m);
    if (s == Status::Success) return Status::KeyExists;
    if (s != Status::NotFound) return s;
    return write_meta(*this, name, Meta{});
}

Status Backend::coll_drop(std::string_view name) {
    if (!valid_name(name)) return Status::InvalidArgs;
    std::lock_guard<std::mutex> lock(doc_mutex_);
    Meta m;
    YK_TRY(read_meta(*this, name, m));
    std::string prefix = doc_prefix(name);
    std::vector<std::string> keys;
    if (is_sorted()) {
        YK_TRY(list({}, false, prefix, false, [&](std::string_view k, std::string_view) {
            keys.emplace_back(k);
            return true;
        }));
    } else {
        for (uint64_t id = 0; id < m.next_id; ++id) keys.push_back(doc_key(prefix, id));
    }
    keys.push_back(meta_key(name));
    return erase(KeyList(keys.begin(), keys.end()));
}

Status Backend::coll_exists(std::string_view name, bool& exists) {
    if (!valid_name(name)) return Status::InvalidArgs;
    Meta m;
    Status s = read_meta(*this, name, m);
    exists = s == Status::Success;
    return s == Status::NotFound ? Status::Success : s;
}

Status Backend::coll_last_id(std::string_view name, uint64_t& id) {
    Meta m;
    YK_TRY(read_meta(*this, name, m));
    id = m.next_id;
    return Status::Success;
}

Status Backend::coll_size(std::string_view name, uint64_t& size) {
    Meta m;
    YK_TRY(read_meta(*this, name, m));
    size = m.live;
    return Status::Success;
}

Status Backend::doc_store(int32_t mode, std::string_view coll, KeySpan docs, IdList& ids) {
    std::lock_guard<std::mutex> lock(doc_mutex_);
    Meta m;
    YK_TRY(read_meta(*this, coll, m));
    std::string prefix = doc_prefix(coll);
    std::vector<std::string> keys;
    keys.reserve(docs.size());
    ids.resize(docs.size());
    for (size_t i = 0; i < docs.size(); ++i) {
        ids[i] = m.next_id + i;
        keys.push_back(doc_key(prefix, ids[i]));
    }
    YK_TRY(put(0, KeyList(keys.begin(), keys.end()), docs));
    m.next_id += docs.size();
    m.live += docs.size();
    return write_meta(*this, coll, m);
}

Status Backend::doc_update(int32_t mode, std::string_view coll, const IdList& ids, KeySpan docs) {
    std::lock_guard<std::mutex> lock(doc_mutex_);
    Meta m;
    YK_TRY(read_meta(*this, coll, m));
    std::string prefix = doc_prefix(coll);
    std::vector<std::string> keys;
    for (auto id : ids) keys.push_back(doc_key(prefix, id));
    KeyList views(keys.begin(), keys.end());
    std::vector<uint8_t> present(ids.size());
    YK_TRY(exists(views, present));
    bool create = mode & YOKAN_MODE_UPDATE_NEW;
    for (size_t i = 0; i < ids.size(); ++i) {
        if (present[i]) continue;
        if (!create) return Status::InvalidId;
    }
    YK_TRY(put(0, views, docs));
    for (size_t i = 0; i < ids.size(); ++i) {
        if (present[i]) continue;
        m.live += 1;
        if (ids[i] >= m.next_id) m.next_id = ids[i] + 1;
    }
    return write_meta(*this, coll, m);
}

Status Backend::doc_load(int32_t mode, std::string_view coll, const IdList& ids, const GetVisitor& visit) {
    // CONSUME changes the live count, so it takes the lock; plain loads do not need it.
    std::unique_lock<std::mutex> lock(doc_mutex_, std::defer_lock);
    if (mode & YOKAN_MODE_CONSUME) lock.lock();
    Meta m;
    YK_TRY(read_meta(*this, coll, m));
    std::string prefix = doc_prefix(coll);
    std::vector<std::string> keys;
    for (auto id : ids) keys.push_back(doc_key(prefix, id));
    size_t visited = 0;
    YK_TRY(get(mode & YOKAN_MODE_CONSUME, KeyList(keys.begin(), keys.end()), [&](size_t i, std::string_view v) {
        ++visited;
        visit(i, v);
    }));
    if ((mode & YOKAN_MODE_CONSUME) && visited) {
        m.live -= std::min<uint64_t>(m.live, visited);
        return write_meta(*this, coll, m);
    }
    return Status::Success;
}

Status Backend::doc_length(std::string_view coll, const IdList& ids, std::vector<uint64_t>& sizes) {
    Meta m;
    YK_TRY(read_meta(*this, coll, m));
    std::string prefix = doc_prefix(coll);
    std::vector<std::string> keys;
    for (auto id : ids) keys.push_back(doc_key(prefix, id));
    return length(KeyList(keys.begin(), keys.end()), sizes);
}

Status Backend::doc_erase(std::string_view coll, const IdList& ids) {
    std::lock_guard<std::mutex> lock(doc_mutex_);
    Meta m;
    YK_TRY(read_meta(*this, coll, m));
    std::string prefix = doc_prefix(coll);
    std::vector<std::string> keys;
    for (auto id : ids) keys.push_back(doc_key(prefix, id));
    KeyList views(keys.begin(), keys.end());
    std::vector<uint8_t> present(ids.size());
    YK_TRY(exists(views, present));
    YK_TRY(erase(views));
    uint64_t gone = 0;
    for (auto p : present) gone += p;
    if (!gone) return Status::Success;
    m.live -= std::min(m.live, gone);
    return write_meta(*this, coll, m);
}

Status Backend::doc_list(std::string_view coll, uint64_t start_id, const DocVisitor& visit) {
    Meta m;
    YK_TRY(read_meta(*this, coll, m));
    if (!is_sorted()) return Status::OpUnsupported;
    std::string prefix = doc_prefix(coll);
    std::string from = doc_key(prefix, start_id);
    return list(from, true, prefix, true, [&](std::string_view k, std::string_view v) {
        if (k.size() != prefix.size() + 8) return true;
        return visit(id_of(k), v);
    });
}

}  // namespace mochi::yokan
