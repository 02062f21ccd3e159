// The record stream of snapshots and migration: building chunks from a database, checking and
// applying them, and emptying a database (see snapshot.hpp for the record layout).
#include "snapshot.hpp"

#include "wire.hpp"

#include <algorithm>
#include <vector>

namespace mochi::yokan::detail::snapshot {

namespace {

// How much a clear() collects before it erases: bounds its memory on large databases.
constexpr size_t kClearBatchKeys = 4096;
constexpr size_t kClearBatchBytes = size_t(4) << 20;

// Thrown by check_chunk itself, so its handler can tell it from the Reader's errors.
struct Malformed : Exception {
    using Exception::Exception;
};

[[noreturn]] void malformed(const std::string& what, const std::string& why) {
    throw Malformed(Status::InvalidArgs, what + ": malformed record stream (" + why + ")");
}

// Creates the collection unless it exists, and moves its next id up to next_id.
void ensure_collection(Backend& b, std::string_view name, uint64_t next_id) {
    std::string what = "collection \"" + std::string(name) + "\"";
    Status s = b.coll_create(name);
    if (s != Status::KeyExists) check_status(s, "creating " + what);
    uint64_t last = 0;
    check_status(b.coll_last_id(name, last), "reading the last id of " + what);
    if (next_id <= last) return;
    // Documents erased at the end of the source collection left its next id past its last
    // live document. Writing and erasing a placeholder at next_id - 1 moves ours there too,
    // so ids handed out later never reuse the source's. No document of ours sits there: ids
    // at or past `last` are unused; the source's own document with that id (if live) comes
    // later in the stream and is written again.
    uint64_t id = next_id - 1;
    check_status(b.doc_update(YOKAN_MODE_UPDATE_NEW, name, {id}, {std::string_view()}), "extending " + what);
    check_status(b.doc_erase(name, {id}), "extending " + what);
}

// Hands the chunk built so far to emit.
void flush(ChunkBuilder& cb, const ChunkSink& emit) {
    uint64_t n = cb.records();
    emit(cb.take(), n);
}

void dump_sorted(Backend& b, ChunkBuilder& cb, const ChunkSink& emit) {
    // One list() per chunk: the backend's lock is let go before emit runs, and the next page
    // starts after the last key taken.
    std::string from;
    for (;;) {
        bool more = false;
        std::string last;
        Status s = b.list(from, false, {}, true, [&](std::string_view k, std::string_view v) {
            cb.pair(k, v);
            if (!cb.full()) return true;
            last.assign(k);
            more = true;
            return false;
        });
        check_status(s, "listing the database");
        if (!more) return;
        flush(cb, emit);
        from = std::move(last);
    }
}

void dump_hashed(Backend& b, ChunkBuilder& cb, const ChunkSink& emit) {
    // A hashed walk cannot be resumed, so it runs once, under the backend's lock, into memory.
    std::vector<std::pair<std::string, uint64_t>> chunks;
    Status s = b.visit_all([&](std::string_view k, std::string_view v) {
        cb.pair(k, v);
        if (!cb.full()) return true;
        uint64_t n = cb.records();
        chunks.emplace_back(cb.take(), n);
        return true;
    });
    check_status(s, "walking the database");
    for (auto& [c, n] : chunks) {
        emit(std::move(c), n);
        std::string().swap(c);  // give each chunk's memory back as soon as it is sent
    }
}

void dump_collections(Backend& b, ChunkBuilder& cb, const ChunkSink& emit) {
    std::vector<std::string> names;
    check_status(b.coll_names(names), "listing the collections");
    for (const auto& name : names) {
        uint64_t next_id = 0;
        Status s = b.coll_last_id(name, next_id);
        if (s == Status::NotFound) continue;  // dropped since it was listed
        check_status(s, "reading the last id of collection \"" + name + "\"");
        cb.collection(name, next_id);
        uint64_t start = 0;
        for (;;) {
            bool more = false;
            uint64_t last = 0;
            s = b.doc_list(name, start, [&](uint64_t id, std::string_view doc) {
                cb.document(name, id, doc);
                if (!cb.full()) return true;
                last = id;
                more = true;
                return false;
            });
            if (s == Status::NotFound) break;  // dropped meanwhile
            check_status(s, "listing collection \"" + name + "\"");
            if (!more) break;
            flush(cb, emit);
            start = last + 1;
        }
        if (cb.full()) flush(cb, emit);
    }
}

void erase_batch(Backend& b, std::vector<std::string>& keys) {
    if (keys.empty()) return;
    check_status(b.erase(KeyList(keys.begin(), keys.end())), "erasing the database");
    keys.clear();
}

}  // namespace

void check_status(Status s, const std::string& what) {
    if (s != Status::Success) throw Exception(s, what + ": " + status_message(s));
}

// ---- building

void ChunkBuilder::pair(std::string_view key, std::string_view value) {
    wire::Writer w(buf_);
    w.pod<uint8_t>(static_cast<uint8_t>(Kind::Pair));
    w.bytes(key);
    w.bytes(value);
    ++records_;
}

void ChunkBuilder::collection(std::string_view name, uint64_t next_id) {
    wire::Writer w(buf_);
    w.pod<uint8_t>(static_cast<uint8_t>(Kind::Collection));
    w.bytes(name);
    w.pod<uint64_t>(next_id);
    ++records_;
}

void ChunkBuilder::document(std::string_view coll, uint64_t id, std::string_view doc) {
    wire::Writer w(buf_);
    w.pod<uint8_t>(static_cast<uint8_t>(Kind::Document));
    w.bytes(coll);
    w.pod<uint64_t>(id);
    w.bytes(doc);
    ++records_;
}

std::string ChunkBuilder::take() {
    std::string out;
    out.swap(buf_);
    records_ = 0;
    return out;
}

void dump(Backend& b, size_t chunk_size, const ChunkSink& emit) {
    ChunkBuilder cb(chunk_size);
    if (!b.supports_kv()) dump_collections(b, cb, emit);
    else if (b.is_sorted()) dump_sorted(b, cb, emit);
    else dump_hashed(b, cb, emit);
    if (!cb.empty()) flush(cb, emit);
}

// ---- checking and applying

void check_chunk(std::string_view chunk, Needs& needs, const std::string& what) {
    wire::Reader r(chunk);
    try {
        while (r.remaining() > 0) {
            auto kind = static_cast<Kind>(r.pod<uint8_t>());
            switch (kind) {
                case Kind::Pair: {
                    auto key = r.bytes();
                    auto value = r.bytes();
                    if (key.empty()) malformed(what, "a pair with an empty key");
                    needs.pairs = true;
                    needs.values = needs.values || !value.empty();
                    break;
                }
                case Kind::Collection:
                case Kind::Document: {
                    auto name = r.bytes();
                    if (name.empty() || name.find('\0') != std::string_view::npos)
                        malformed(what, "a bad collection name");
                    r.pod<uint64_t>();
                    if (kind == Kind::Document) r.bytes();
                    needs.collections = true;
                    break;
                }
                default: malformed(what, "unknown record kind " + std::to_string(int(kind)));
            }
            ++needs.records;
        }
    } catch (const Malformed&) {
        throw;
    } catch (const Exception& e) {
        malformed(what, e.what());  // the Reader's "truncated" / "bad count"
    }
}

void check_target(const Backend& b, const Needs& needs, const std::string& what) {
    const std::string backend = "backend \"" + b.type() + "\"";
    if (needs.pairs && !b.supports_kv())
        throw Exception(Status::OpUnsupported,
                        what + ": holds key/value pairs, but " + backend + " stores documents only");
    // Key/value backends that cannot hold documents are the key-only ones (sets).
    if (needs.values && b.supports_kv() && !b.supports_documents())
        throw Exception(Status::OpUnsupported, what + ": holds values, but " + backend + " stores keys only");
    if (needs.collections && !b.supports_documents())
        throw Exception(Status::OpUnsupported, what + ": holds collections, but " + backend + " cannot hold documents");
}

void apply_chunk(Backend& b, std::string_view chunk, const std::function<void(std::string_view)>& on_key) {
    wire::Reader r(chunk);
    // Consecutive records of one kind go to the backend as one batch.
    KeyList keys, values;
    std::string_view coll;
    IdList ids;
    KeyList docs;
    auto flush_pairs = [&] {
        if (keys.empty()) return;
        check_status(b.put(0, keys, values), "writing pairs");
        if (on_key)
            for (auto k : keys) on_key(k);
        keys.clear();
        values.clear();
    };
    auto flush_docs = [&] {
        if (ids.empty()) return;
        check_status(b.doc_update(YOKAN_MODE_UPDATE_NEW, coll, ids, docs),
                     "writing documents of collection \"" + std::string(coll) + "\"");
        ids.clear();
        docs.clear();
    };
    while (r.remaining() > 0) {
        auto kind = static_cast<Kind>(r.pod<uint8_t>());
        if (kind == Kind::Pair) {
            auto key = r.bytes();
            auto value = r.bytes();
            auto stored = Backend::decode_stored_doc_key(key, value);
            if (stored.kind == Backend::StoredDocKey::None) {
                flush_docs();
                keys.push_back(key);
                values.push_back(value);
            } else if (stored.kind == Backend::StoredDocKey::Collection) {
                // Through the document calls, not raw: the destination may hold this
                // collection already (a merge), and its live count must add up.
                flush_pairs();
                flush_docs();
                ensure_collection(b, stored.collection, stored.next_id);
            } else {
                flush_pairs();
                if (stored.collection != coll) {
                    flush_docs();
                    // A hashed dump may list documents before their collection's record.
                    ensure_collection(b, stored.collection, 0);
                    coll = stored.collection;
                }
                ids.push_back(stored.id);
                docs.push_back(value);
            }
        } else if (kind == Kind::Collection) {
            flush_pairs();
            flush_docs();
            auto name = r.bytes();
            ensure_collection(b, name, r.pod<uint64_t>());
        } else {
            flush_pairs();
            auto name = r.bytes();
            if (name != coll) flush_docs();
            coll = name;
            ids.push_back(r.pod<uint64_t>());
            docs.push_back(r.bytes());
        }
    }
    flush_pairs();
    flush_docs();
}

// ---- emptying

void clear(Backend& b) {
    if (!b.supports_kv()) {
        std::vector<std::string> names;
        check_status(b.coll_names(names), "listing the collections");
        for (const auto& n : names) {
            Status s = b.coll_drop(n);
            if (s != Status::NotFound) check_status(s, "dropping collection \"" + n + "\"");
        }
        return;
    }
    // Keys are collected in batches and erased outside the walk: a backend cannot be written
    // to from inside its own visitor (it may hold its lock there).
    std::vector<std::string> keys;
    size_t bytes = 0;
    if (!b.is_sorted()) {
        check_status(b.visit_all([&](std::string_view k, std::string_view) {
                         keys.emplace_back(k);
                         return true;
                     }),
                     "walking the database");
        for (size_t i = 0; i < keys.size(); i += kClearBatchKeys) {
            size_t end = std::min(keys.size(), i + kClearBatchKeys);
            check_status(b.erase(KeyList(keys.begin() + i, keys.begin() + end)), "erasing the database");
        }
        return;
    }
    std::string from;
    for (;;) {
        bool more = false;
        check_status(b.list(from, false, {}, false,
                            [&](std::string_view k, std::string_view) {
                                keys.emplace_back(k);
                                bytes += k.size();
                                more = keys.size() >= kClearBatchKeys || bytes >= kClearBatchBytes;
                                return !more;
                            }),
                     "listing the database");
        if (!keys.empty()) from = keys.back();
        erase_batch(b, keys);
        bytes = 0;
        if (!more) return;
    }
}

}  // namespace mochi::yokan::detail::snapshot
