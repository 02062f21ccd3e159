#include "address.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace kinako::margo {

Protocol parse_protocol(const std::string& address) {
    Protocol p;
    std::string proto = address;
    auto sep = address.find("://");
    if (sep != std::string::npos) {
        proto = address.substr(0, sep);
        p.host = address.substr(sep + 3);
    }
    if (proto == "na+sm" || proto == "sm" || proto == "ofi+shm" || proto == "shm") {
        p.provider = "shm";
        p.prefix = "na+sm";
    } else if (proto == "tcp" || proto == "ofi+tcp" || proto == "ofi+tcp;ofi_rxm" || proto == "tcp;ofi_rxm") {
        p.provider = "tcp;ofi_rxm";
        p.prefix = "ofi+tcp";
    } else if (proto.rfind("ofi+", 0) == 0 && proto.size() > 4 && proto != "ofi+sockets") {
        p.provider = proto.substr(4);
        p.prefix = proto;
    } else {
        throw std::invalid_argument("unknown or unsupported protocol \"" + proto + "\" in address \"" + address + "\"");
    }
    return p;
}

std::string host_to_raw(const Protocol& proto) {
    if (proto.provider == "shm") {
        std::string raw = "fi_shm://" + proto.host;
        raw.push_back('\0');
        return raw;
    }
    if (proto.provider == "tcp;ofi_rxm" || proto.provider == "tcp") {
        std::string host = proto.host, port = "0";
        auto colon = host.rfind(':');
        if (colon != std::string::npos) {
            port = host.substr(colon + 1);
            host = host.substr(0, colon);
        }
        if (host.empty()) host = "0.0.0.0";
        char* end = nullptr;
        long portnum = strtol(port.c_str(), &end, 10);
        if (port.empty() || *end || portnum < 0 || portnum > 65535)
            throw std::invalid_argument("invalid port \"" + port + "\" in address \"" + proto.host + "\"");
        sockaddr_in sin{};
        sin.sin_family = AF_INET;
        sin.sin_port = htons(static_cast<uint16_t>(portnum));
        if (inet_pton(AF_INET, host.c_str(), &sin.sin_addr) != 1) {
            addrinfo hints{}, *res = nullptr;
            hints.ai_family = AF_INET;
            if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || !res)
                throw std::invalid_argument("cannot resolve host \"" + host + "\"");
            sin.sin_addr = reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr;
            freeaddrinfo(res);
        }
        return std::string(reinterpret_cast<const char*>(&sin), sizeof(sin));
    }
    // Other providers: the host part is the hex of the raw address.
    if (proto.host.size() % 2) throw std::invalid_argument("malformed address \"" + proto.host + "\"");
    std::string raw;
    for (size_t i = 0; i < proto.host.size(); i += 2) {
        raw.push_back(static_cast<char>(std::stoi(proto.host.substr(i, 2), nullptr, 16)));
    }
    return raw;
}

std::string raw_to_string(const std::string& prefix, const std::string& provider, const std::string& raw) {
    if (provider == "shm") {
        std::string s = raw;
        while (!s.empty() && s.back() == '\0') s.pop_back();
        if (s.rfind("fi_shm://", 0) == 0) s = s.substr(9);
        return prefix + "://" + s;
    }
    if ((provider == "tcp;ofi_rxm" || provider == "tcp") && raw.size() >= sizeof(sockaddr_in)) {
        sockaddr_in sin;
        memcpy(&sin, raw.data(), sizeof(sin));
        char ip[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &sin.sin_addr, ip, sizeof(ip));
        return prefix + "://" + ip + ":" + std::to_string(ntohs(sin.sin_port));
    }
    static const char* hex = "0123456789abcdef";
    std::string s = prefix + "://";
    for (unsigned char c : raw) {
        s.push_back(hex[c >> 4]);
        s.push_back(hex[c & 15]);
    }
    return s;
}

bool peer_alive(const std::string& provider, const std::string& raw) {
    if (provider == "shm") {
        // "fi_shm://<pid>:..." names the owning process.
        std::string s = raw.substr(raw.rfind("://") == std::string::npos ? 0 : raw.rfind("://") + 3);
        long pid = strtol(s.c_str(), nullptr, 10);
        if (pid <= 0) return true;
        return !(kill(static_cast<pid_t>(pid), 0) == -1 && errno == ESRCH);
    }
    if ((provider == "tcp;ofi_rxm" || provider == "tcp") && raw.size() >= sizeof(sockaddr_in)) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) return true;
        int r = connect(fd, reinterpret_cast<const sockaddr*>(raw.data()), sizeof(sockaddr_in));
        bool alive = true;
        if (r < 0 && errno == EINPROGRESS) {
            pollfd pfd{fd, POLLOUT, 0};
            if (::poll(&pfd, 1, 500) == 1) {
                int err = 0;
                socklen_t len = sizeof(err);
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
                alive = err != ECONNREFUSED;
            }
        } else if (r < 0) {
            alive = errno != ECONNREFUSED;
        }
        close(fd);
        return alive;
    }
    return true;
}

}  // namespace kinako::margo
