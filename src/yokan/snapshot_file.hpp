// The snapshot file, <dir>/yokan.snapshot: record chunks (snapshot.hpp) framed so that a
// truncated, corrupted or foreign file is always detected before anything is applied.
//
//   header: 16-byte magic "KNK-YOKAN-SNAP\r\n" | u32 version (1) | u64 size + backend type
//           | u64 XXH64 of the version and type bytes
//   chunk:  u8 'C' | u64 size | the records | u64 XXH64 of the records, seeded with the chunk's
//           number (0, 1, ...), so dropped, repeated or reordered chunks fail too
//   end:    u8 'E' | u64 chunk count | u64 record count | u64 XXH64 of those 16 bytes
//
// and nothing after the end. Integers are in native byte order (little-endian on every
// platform kinako builds on). The writer writes <dir>/yokan.snapshot.tmp, syncs it and renames
// it into place, so a crash mid-snapshot never leaves a half file under the real name.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>

namespace mochi::yokan::detail::snapshot {

constexpr const char* kFileName = "yokan.snapshot";

class FileWriter {
  public:
    // Creates dir if missing and opens the temporary file. Throws Exception (InvalidArgs when
    // dir is not a directory, IO otherwise) naming the path.
    FileWriter(const std::string& dir, const std::string& backend_type);
    ~FileWriter();  // removes the temporary file unless committed
    FileWriter(const FileWriter&) = delete;
    FileWriter& operator=(const FileWriter&) = delete;

    void add(std::string_view chunk, uint64_t records);
    // Writes the end marker, makes the file durable and gives it its final name.
    void commit();

  private:
    void write(std::string_view bytes);
    std::string final_path_, tmp_path_;
    int fd_ = -1;
    uint64_t chunks_ = 0, records_ = 0;
};

class FileReader {
  public:
    // path: a directory snapshot() wrote, or the file itself. Reads and checks the header.
    // Every problem with the file throws Exception(InvalidArgs, "snapshot \"<file>\": ...").
    explicit FileReader(const std::string& path);
    const std::string& file() const { return file_; }
    const std::string& backend_type() const { return type_; }
    // The next chunk's records, checksum verified; false once the end marker is reached (and
    // verified, with nothing after it).
    bool next(std::string& chunk);
    // The end marker's record count (after next() returned false).
    uint64_t records() const { return records_; }

  private:
    [[noreturn]] void fail(const std::string& why) const;
    void read(void* out, uint64_t n, const char* what);
    template <typename T>
    T pod(const char* what) {
        T v;
        read(&v, sizeof(v), what);
        return v;
    }

    std::string file_, type_;
    std::ifstream in_;
    uint64_t left_ = 0;  // bytes not read yet
    uint64_t chunks_ = 0, records_ = 0;
};

}  // namespace mochi::yokan::detail::snapshot
