// Yokan benchmark (C++ client): put/get of 16-byte keys with 64-byte values, single ops and
// batches of 1,000, and list_keyvals pages of 100, against a provider in another process
// (fork), per protocol and backend. The engine's own 8-byte echo RPC is measured in the same
// run as the baseline: a single put or get should cost little more than one echo.
//   kinako-bench-yokan [iterations] [backend...]   (default: map, and rocksdb when built in)
#include <mochi/yokan/backend.hpp>
#include <mochi/yokan/client.hpp>
#include <mochi/yokan/provider.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

using namespace mochi;
using Clock = std::chrono::steady_clock;

namespace {

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

template <typename F>
double time_us(F&& f) {
    auto t0 = Clock::now();
    f();
    return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
}

std::string key_of(size_t i) {
    char k[17];
    snprintf(k, sizeof(k), "key-%012zu", i);  // 16 bytes
    return std::string(k, 16);
}

std::string config_for(const std::string& backend, const std::string& dir) {
    if (backend == "rocksdb" || backend == "leveldb" || backend == "lmdb")
        return R"({"database":{"type":")" + backend + R"(","config":{"path":")" + dir + "/" + backend + R"("}}})";
    return R"({"database":{"type":")" + backend + R"("}})";
}

void run(const std::string& proto, const std::string& backend, int iters) {
    std::string dir = "/tmp/kinako-bench-yokan-" + std::to_string(getpid());
    std::filesystem::create_directories(dir);
    int fds[2];
    if (pipe(fds) != 0) return;
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        // KINAKO_BENCH_SERVER_CONFIG / KINAKO_BENCH_CLIENT_CONFIG: the engines' Margo JSON, as in
        // the engine benchmark (e.g. {"mercury": {"eager_size": 8192}}).
        const char* scfg = getenv("KINAKO_BENCH_SERVER_CONFIG");
        margo::Engine server(proto, margo::Mode::Server, scfg ? scfg : "");
        server.define("echo", [](const margo::Request& r) { r.respond(r.input()); });
        server.enable_remote_shutdown();
        {
            yokan::Provider provider(server, 42, config_for(backend, dir));
            std::string addr = server.self().to_string();
            if (write(fds[1], addr.c_str(), addr.size() + 1) < 0) _exit(1);
            close(fds[1]);
            server.wait_for_finalize();
        }
        _exit(0);
    }
    close(fds[1]);
    char buf[256] = {0};
    ssize_t n = read(fds[0], buf, sizeof(buf) - 1);
    close(fds[0]);
    if (n <= 0) return;
    {
        const char* ccfg = getenv("KINAKO_BENCH_CLIENT_CONFIG");
        margo::Engine client(proto, margo::Mode::Client, ccfg ? ccfg : "");
        auto addr = client.lookup(buf);
        auto db = yokan::Client(client).make_database_handle(addr, 42);
        const std::string value(64, 'v');
        std::string out(64, '\0');
        uint64_t echo = margo::rpc_id_of("echo");
        std::string msg(8, 'x');
        for (int i = 0; i < 1000; i++) client.forward(addr, echo, msg);
        std::vector<double> t_echo, t_put, t_get;
        // Echo, put and get interleaved call by call: the ratios to echo then compare calls made
        // in the same instants, so the VM's speed drifting between phases cannot skew them.
        // Each get reads a key put earlier in the loop (not the one just written).
        for (int i = 0; i < iters; i++) {
            std::string k = key_of(i), earlier = key_of(i / 2);
            t_echo.push_back(time_us([&] { client.forward(addr, echo, msg); }));
            t_put.push_back(time_us([&] { db.put(k, value); }));
            t_get.push_back(time_us([&] { db.get(earlier, {out.data(), out.size()}); }));
        }
        // Batches of 1,000.
        const size_t B = getenv("KINAKO_BENCH_BATCH") ? size_t(atoi(getenv("KINAKO_BENCH_BATCH"))) : 1000;
        std::vector<std::string> keys(B);
        std::vector<std::string_view> kv(B), vv(B, value);
        std::vector<std::string> outs(B, std::string(64, '\0'));
        std::vector<yokan::Buffer> bufs(B);
        for (size_t i = 0; i < B; ++i) bufs[i] = {outs[i].data(), 64};
        std::string packed(B * 64, '\0');
        std::vector<uint64_t> sizes;
        std::vector<double> t_putm, t_getm, t_getp, t_list;
        int batches = std::max(20, iters / 200);
        for (int b = 0; b < batches; ++b) {
            for (size_t i = 0; i < B; ++i) {
                keys[i] = key_of(1000000 + b * B + i);
                kv[i] = keys[i];
            }
            t_putm.push_back(time_us([&] { db.put_multi(kv, vv); }));
            // The first read of a fresh batch finds it colder than the second: alternate which
            // of the two goes first so neither carries that cost alone.
            auto getm = [&] { t_getm.push_back(time_us([&] { db.get_multi(kv, bufs, sizes); })); };
            auto getp = [&] { t_getp.push_back(time_us([&] { db.get_packed(kv, {packed.data(), packed.size()}, sizes); })); };
            if (b % 2 == 0) {
                getm();
                getp();
            } else {
                getp();
                getm();
            }
        }
        // list_keyvals pages of 100 with per-item buffers.
        std::vector<std::string> lk(100, std::string(16, '\0')), lv(100, std::string(64, '\0'));
        std::vector<yokan::Buffer> lkb(100), lvb(100);
        for (int i = 0; i < 100; ++i) {
            lkb[i] = {lk[i].data(), 16};
            lvb[i] = {lv[i].data(), 64};
        }
        std::vector<uint64_t> ks, vs;
        std::string from;
        if (backend != "unordered_map") {
            for (int i = 0; i < std::max(50, iters / 100); ++i) {
                t_list.push_back(time_us([&] { db.list_keyvals(from, "", lkb, lvb, ks, vs); }));
                from = (ks[99] <= yokan::YOKAN_LAST_VALID_SIZE) ? lk[99] : std::string();
            }
        }
        double echo_us = median(t_echo);
        auto line = [&](const char* op, double us, size_t pairs) {
            printf("yokan-cpp protocol=%-6s backend=%-8s op=%-22s median_us=%9.2f", proto.c_str(), backend.c_str(), op, us);
            if (pairs > 1) printf("  pairs_per_s=%.2fM", pairs / us);
            else printf("  x_echo=%.2f", us / echo_us);
            printf("\n");
        };
        line("echo_8B(baseline)", echo_us, 1);
        line("put", median(t_put), 1);
        line("get", median(t_get), 1);
        line("put_multi(batch)", median(t_putm), B);
        line("get_multi(batch)", median(t_getm), B);
        line("get_packed(batch)", median(t_getp), B);
        if (!t_list.empty()) line("list_keyvals(100)", median(t_list), 100);
        fflush(stdout);
        addr.shutdown();
        client.finalize();
    }
    int st;
    waitpid(pid, &st, 0);
    std::filesystem::remove_all(dir);
}

}  // namespace

int main(int argc, char** argv) {
    setenv("FI_TCP_IFACE", "lo", 0);
    int iters = argc > 1 ? atoi(argv[1]) : 20000;
    if (iters <= 0) {
        fprintf(stderr, "usage: %s [ITERS > 0 (default 20000)] [BACKEND ...]  (default backends: map rocksdb)\n", argv[0]);
        return 2;
    }
    std::vector<std::string> backends;
    for (int i = 2; i < argc; ++i) backends.push_back(argv[i]);
    if (backends.empty()) {
        backends.push_back("map");
        auto all = yokan::available_backends();
        if (std::find(all.begin(), all.end(), "rocksdb") != all.end()) backends.push_back("rocksdb");
    }
    for (const char* proto : {"na+sm", "tcp"})
        for (auto& b : backends) run(proto, b, iters);
    return 0;
}
