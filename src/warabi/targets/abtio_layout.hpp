// On-disk layout of an abtio target file.
//
//   [0, 4096)      FileHeader (magic, version)
//   4096           Record of region 0 (64 bytes), then its data at the next multiple of
//                  `alignment`, then the record of region 1 at `next`, and so on.
//
// Records form a chain written append-only: a create writes the new record (under a lock, in
// order) before it returns, so the chain found at reopen holds every acknowledged region. A
// record's fields are covered by a CRC, so a torn or never-written record ends the chain
// instead of being trusted. Erasing writes only the 8-byte `erased` word, outside the CRC, so
// it can never break the chain. Region data lives strictly between its record and the next
// record, and writes are bounds-checked to it: a crash mid-write touches no other region.
#pragma once

#include <cstdint>

namespace mochi::warabi::detail::abtio {

constexpr char kFileMagic[8] = {'K', 'N', 'K', 'W', 'A', 'R', 'B', '1'};
constexpr uint32_t kVersion = 1;
constexpr uint64_t kFirstRecord = 4096;
constexpr uint64_t kRecordMagic = 0x3144524345524257ULL;  // "WBRECRD1"
constexpr uint64_t kRecordSize = 64;

struct FileHeader {
    char magic[8];
    uint32_t version;
    uint32_t reserved;
    uint64_t first_record;
};

struct Record {
    uint64_t magic;
    uint64_t data_offset;  // absolute file offset of the region's data
    uint64_t size;         // region size in bytes
    uint64_t next;         // absolute file offset of the next record
    uint32_t crc;          // CRC-32 of the 32 bytes above
    uint32_t reserved;
    uint64_t erased;       // 0 while live; written alone by erase
    uint64_t pad[2];
};
static_assert(sizeof(Record) == kRecordSize, "record layout");
constexpr uint64_t kErasedOffset = 40;  // offsetof(Record, erased)

}  // namespace mochi::warabi::detail::abtio
