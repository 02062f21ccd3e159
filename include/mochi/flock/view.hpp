// A flock group view: the members (address, provider id) of a group plus string metadata.
// Serialized as the group file format:
//   {"members":[{"address":"ofi+tcp://...","provider_id":0},...],
//    "metadata":{"__type__":"static","__config__":"{...}"}}
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace mochi::flock {

class Exception : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct Member {
    std::string address;
    uint16_t provider_id = 0;
    bool operator==(const Member& o) const { return address == o.address && provider_id == o.provider_id; }
};

class GroupView {
  public:
    std::vector<Member> members;
    std::map<std::string, std::string> metadata;
    uint64_t version = 0;  // bumped on every change (not serialized in files)

    bool add(const std::string& address, uint16_t provider_id);  // false if already there
    bool remove(const std::string& address, uint16_t provider_id);
    bool exists(const std::string& address, uint16_t provider_id) const;
    long find(const std::string& address, uint16_t provider_id) const;  // index or -1

    std::string to_json() const;
    static GroupView from_json(const std::string& text);  // throws Exception on a bad document
    // Atomic write (temporary file + rename); load throws Exception naming the file.
    void save(const std::string& path) const;
    static GroupView load(const std::string& path);
};

}  // namespace mochi::flock
