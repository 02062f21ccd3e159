// Writing and reading snapshot files (layout in snapshot_file.hpp).
#include "snapshot_file.hpp"

#include <mochi/yokan/common.hpp>

#include <fcntl.h>
#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace mochi::yokan::detail::snapshot {

namespace fs = std::filesystem;

namespace {

constexpr char kMagic[16] = {'K', 'N', 'K', '-', 'Y', 'O', 'K', 'A', 'N', '-', 'S', 'N', 'A', 'P', '\r', '\n'};
constexpr uint32_t kVersion = 1;
constexpr uint8_t kChunkTag = 'C';
constexpr uint8_t kEndTag = 'E';
// Longest backend type name a header may carry (anything longer is a damaged header).
constexpr uint64_t kMaxTypeSize = 4096;

template <typename T>
void append_pod(std::string& out, const T& v) {
    out.append(reinterpret_cast<const char*>(&v), sizeof(v));
}

// The bytes the header checksum covers: version, type size, type.
std::string header_body(uint32_t version, std::string_view type) {
    std::string b;
    append_pod(b, version);
    append_pod<uint64_t>(b, type.size());
    b.append(type);
    return b;
}

std::string end_body(uint64_t chunks, uint64_t records) {
    std::string b;
    append_pod(b, chunks);
    append_pod(b, records);
    return b;
}

uint64_t hash(std::string_view bytes, uint64_t seed = 0) { return XXH64(bytes.data(), bytes.size(), seed); }

[[noreturn]] void io_error(const std::string& what, const std::string& path) {
    throw Exception(Status::IO, "snapshot: " + what + " \"" + path + "\": " + std::strerror(errno));
}

}  // namespace

// ---- writing

FileWriter::FileWriter(const std::string& dir, const std::string& backend_type) {
    if (dir.empty()) throw Exception(Status::InvalidArgs, "snapshot: the destination path is empty");
    std::error_code ec;
    if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
        throw Exception(Status::InvalidArgs, "snapshot: \"" + dir + "\" exists and is not a directory");
    fs::create_directories(dir, ec);
    if (ec) throw Exception(Status::IO, "snapshot: cannot create \"" + dir + "\": " + ec.message());
    final_path_ = (fs::path(dir) / kFileName).string();
    tmp_path_ = final_path_ + ".tmp";
    fd_ = ::open(tmp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) io_error("cannot create", tmp_path_);
    std::string header(kMagic, sizeof(kMagic));
    std::string body = header_body(kVersion, backend_type);
    header += body;
    append_pod(header, hash(body));
    write(header);
}

FileWriter::~FileWriter() {
    if (fd_ < 0) return;
    ::close(fd_);
    ::unlink(tmp_path_.c_str());
}

void FileWriter::write(std::string_view bytes) {
    while (!bytes.empty()) {
        ssize_t n = ::write(fd_, bytes.data(), bytes.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            io_error("cannot write", tmp_path_);
        }
        bytes.remove_prefix(static_cast<size_t>(n));
    }
}

void FileWriter::add(std::string_view chunk, uint64_t records) {
    std::string frame;
    append_pod(frame, kChunkTag);
    append_pod<uint64_t>(frame, chunk.size());
    write(frame);
    write(chunk);
    frame.clear();
    append_pod(frame, hash(chunk, chunks_));
    write(frame);
    ++chunks_;
    records_ += records;
}

void FileWriter::commit() {
    std::string end;
    append_pod(end, kEndTag);
    std::string body = end_body(chunks_, records_);
    end += body;
    append_pod(end, hash(body));
    write(end);
    if (::fsync(fd_) != 0) io_error("cannot sync", tmp_path_);
    if (::close(fd_) != 0) {
        fd_ = -1;
        ::unlink(tmp_path_.c_str());
        io_error("cannot close", tmp_path_);
    }
    fd_ = -1;
    if (::rename(tmp_path_.c_str(), final_path_.c_str()) != 0) {
        int e = errno;
        ::unlink(tmp_path_.c_str());
        errno = e;
        io_error("cannot rename the snapshot to", final_path_);
    }
    // Make the new name durable too.
    int dfd = ::open(fs::path(final_path_).parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
}

// ---- reading

FileReader::FileReader(const std::string& path) {
    std::error_code ec;
    file_ = fs::is_directory(path, ec) ? (fs::path(path) / kFileName).string() : path;
    if (path.empty()) fail("no path given");
    if (!fs::exists(file_, ec)) fail("no such file");
    if (!fs::is_regular_file(file_, ec)) fail("not a regular file");
    left_ = fs::file_size(file_, ec);
    if (ec) fail("cannot read its size: " + ec.message());
    in_.open(file_, std::ios::binary);
    if (!in_) fail(std::string("cannot open it: ") + std::strerror(errno));

    char magic[sizeof(kMagic)];
    if (left_ < sizeof(magic)) fail("not a yokan snapshot (too short)");
    read(magic, sizeof(magic), "the header");
    if (std::memcmp(magic, kMagic, sizeof(magic)) != 0) fail("not a yokan snapshot (bad magic)");
    auto version = pod<uint32_t>("the header");
    if (version != kVersion)
        fail("unsupported snapshot version " + std::to_string(version) + " (this build reads " +
             std::to_string(kVersion) + ")");
    auto type_size = pod<uint64_t>("the header");
    if (type_size > kMaxTypeSize) fail("corrupted header (backend type of " + std::to_string(type_size) + " bytes)");
    type_.resize(type_size);
    read(type_.data(), type_size, "the header");
    if (pod<uint64_t>("the header") != hash(header_body(version, type_)))
        fail("corrupted header (checksum mismatch)");
}

void FileReader::fail(const std::string& why) const {
    throw Exception(Status::InvalidArgs, "snapshot \"" + file_ + "\": " + why);
}

void FileReader::read(void* out, uint64_t n, const char* what) {
    if (n > left_) fail(std::string("truncated in ") + what);
    if (n && !in_.read(static_cast<char*>(out), static_cast<std::streamsize>(n)))
        fail(std::string("read error in ") + what);
    left_ -= n;
}

bool FileReader::next(std::string& chunk) {
    std::string where = "chunk " + std::to_string(chunks_);
    auto tag = pod<uint8_t>(where.c_str());
    if (tag == kEndTag) {
        auto chunks = pod<uint64_t>("the end marker");
        auto records = pod<uint64_t>("the end marker");
        if (pod<uint64_t>("the end marker") != hash(end_body(chunks, records)))
            fail("corrupted end marker (checksum mismatch)");
        if (chunks != chunks_)
            fail("the end marker counts " + std::to_string(chunks) + " chunks, the file holds " + std::to_string(chunks_));
        if (left_ != 0) fail(std::to_string(left_) + " unexpected bytes after the end marker");
        records_ = records;
        return false;
    }
    if (tag != kChunkTag) fail("corrupted " + where + " (bad tag)");
    auto size = pod<uint64_t>(where.c_str());
    // Checked before allocating: a damaged size must not ask for an absurd buffer.
    if (size > left_ || left_ - size < sizeof(uint64_t)) fail("truncated in " + where);
    chunk.resize(size);
    read(chunk.data(), size, where.c_str());
    if (pod<uint64_t>(where.c_str()) != hash(chunk, chunks_)) fail("corrupted " + where + " (checksum mismatch)");
    ++chunks_;
    return true;
}

}  // namespace mochi::yokan::detail::snapshot
