// Address strings <-> transport addresses. Mochi spells protocols many ways ("na+sm", "sm",
// "ofi+tcp;ofi_rxm", "tcp", ...); they map onto a few libfabric providers.
#pragma once

#include <string>

namespace kinako::margo {

struct Protocol {
    std::string provider;  // libfabric provider name
    std::string prefix;    // what addresses print as: "na+sm", "ofi+tcp", "ofi+<prov>"
    std::string host;      // the part after "://", may be empty
};

// Throws std::invalid_argument for an unknown protocol.
Protocol parse_protocol(const std::string& address);
// Raw transport address for a host part ("127.0.0.1:1234" for tcp, "<pid>:<n>:<m>" for shm).
std::string host_to_raw(const Protocol& proto);
std::string raw_to_string(const std::string& prefix, const std::string& provider, const std::string& raw);
// Whether the process behind a raw address looks alive (tcp: something listens; shm: pid exists).
bool peer_alive(const std::string& provider, const std::string& raw);

}  // namespace kinako::margo
