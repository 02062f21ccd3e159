// A database as a stream of records cut into chunks: what snapshot files hold (one after the
// other, see snapshot_file.cpp) and what migration sends (one RPC per chunk, see
// provider_migrate.cpp). A record is one of
//
//   u8 1 (pair)       | bytes key  | bytes value
//   u8 2 (collection) | bytes name | u64 next id (the collection's last_id)
//   u8 3 (document)   | bytes collection name | u64 id | bytes document
//
// with bytes = u64 size + the bytes (wire::Writer's encoding, native byte order). Backends
// that store pairs are dumped as raw pairs, so collections kept by the default document store
// travel as their reserved pairs; document-only backends (array, log) are dumped as
// collection + document records. Every chunk stands alone (a document names its collection,
// and comes after that collection's record in the stream), so chunks can be applied one by one.
#pragma once

#include <mochi/yokan/backend.hpp>

#include <functional>
#include <string>
#include <string_view>

namespace mochi::yokan::detail::snapshot {

enum class Kind : uint8_t { Pair = 1, Collection = 2, Document = 3 };

// Accumulates records into a chunk until it reaches its target size.
class ChunkBuilder {
  public:
    explicit ChunkBuilder(size_t target) : target_(target) {}
    void pair(std::string_view key, std::string_view value);
    void collection(std::string_view name, uint64_t next_id);
    void document(std::string_view coll, uint64_t id, std::string_view doc);
    bool full() const { return buf_.size() >= target_; }
    bool empty() const { return buf_.empty(); }
    uint64_t records() const { return records_; }  // in the chunk so far
    // The chunk so far; the builder starts over empty.
    std::string take();

  private:
    size_t target_;
    std::string buf_;
    uint64_t records_ = 0;
};

// What a stream asks of the database it is applied to (summed over its chunks).
struct Needs {
    bool pairs = false;        // needs a key/value backend
    bool values = false;       // some value is not empty (sets cannot hold it)
    bool collections = false;  // needs a backend that holds documents
    uint64_t records = 0;
};

// Parses every record of a chunk and adds what it needs to `needs`. Throws
// Exception(InvalidArgs, "<what>: ...") when the chunk is malformed.
void check_chunk(std::string_view chunk, Needs& needs, const std::string& what);
// Throws Exception(OpUnsupported, "<what>: ...") when b cannot hold what needs describes.
void check_target(const Backend& b, const Needs& needs, const std::string& what);
// Writes a checked chunk's records into b: pairs overwrite equal keys, documents keep their
// ids (existing ones are overwritten), collections are created when missing and keep their
// next id. on_key(k) runs for every pair written (the provider wakes WAIT requests with it).
void apply_chunk(Backend& b, std::string_view chunk, const std::function<void(std::string_view)>& on_key);

// Calls emit(chunk, records in it) for chunks of about chunk_size bytes (a bigger record gets a chunk of its
// own) covering the whole database. emit never runs while a backend lock is held: sorted
// backends are paged through, hashed ones are copied out first (so a hashed database is held
// twice in memory meanwhile). Not a point-in-time view: writes made during the dump may or may
// not be in it. Throws Exception with the backend's status on failure.
using ChunkSink = std::function<void(std::string&& chunk, uint64_t records)>;
void dump(Backend& b, size_t chunk_size, const ChunkSink& emit);

// Erases every pair and drops every collection of b.
void clear(Backend& b);

// Throws Exception(s, what + ": " + Yokan's message) unless s is Success.
void check_status(Status s, const std::string& what);

}  // namespace mochi::yokan::detail::snapshot
