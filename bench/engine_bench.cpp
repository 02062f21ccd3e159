// Engine benchmark: 8-byte echo RPC round trip and 1 MiB bulk pull bandwidth between two
// processes (fork), over na+sm and tcp. Compare with kinako-bench-raw-fabric run just before
// (bench/run.sh prints both). Medians are what to quote.
//
//   kinako-bench-engine [iters]                   both halves, na+sm then tcp (fork)
//   kinako-bench-engine --serve PROTO FILE        only the echo server; its address goes to FILE
//   kinako-bench-engine --echo PROTO ADDR [iters [HEX]]
//                                                 only the echo client, against ADDR, sending
//                                                 the bytes HEX (default: 8 bytes)
//   kinako-bench-engine --echo-pair PROTO ADDR RPC_A RPC_B [iters [HEX]]
//                                                 the client alternating RPC_A and RPC_B call
//                                                 by call on one connection; prints both
//                                                 medians and the median of (B - A) per pair
// The last three let bench/python_echo.py pair a C++ side with a Python one (which sends the
// pickle a Python handler expects as HEX).
#include <mochi/margo/engine.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

using namespace mochi::margo;
using Clock = std::chrono::steady_clock;

static double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// KINAKO_BENCH_CLIENT_CONFIG: the client's Margo JSON ("" = the default).
static std::string client_config() {
    const char* cfg = std::getenv("KINAKO_BENCH_CLIENT_CONFIG");
    return cfg ? cfg : "";
}

// The server half: echo and a 1 MiB exposed region; runs until remote shutdown.
static void serve(const std::string& proto, const std::function<void(const std::string&)>& publish) {
    // KINAKO_BENCH_SERVER_CONFIG: the server's Margo JSON (e.g. {"rpc_thread_count": 1} puts
    // the handlers on their own xstream, to measure the hand-off).
    const char* cfg = std::getenv("KINAKO_BENCH_SERVER_CONFIG");
    Engine server(proto, Mode::Server, cfg ? cfg : "");
    std::vector<char> data(1 << 20, 'k');
    Bulk bulk = server.expose(data.data(), data.size(), BulkAccess::ReadOnly);
    server.define("echo", [](const Request& r) { r.respond(r.input()); });
    server.define("bulk", [&](const Request& r) { r.respond(bulk.serialize()); });
    server.enable_remote_shutdown();
    publish(server.self().to_string());
    server.wait_for_finalize();
}

static double echo_median(Engine& client, const Address& a, int iters, const std::string& msg = std::string(8, 'x')) {
    uint64_t echo = rpc_id_of("echo");
    // KINAKO_BENCH_GAP_US: the caller computes this long between calls (as a Python caller
    // does for a few microseconds), not counted in the round trip.
    const char* gap_env = std::getenv("KINAKO_BENCH_GAP_US");
    const auto gap = std::chrono::duration<double, std::micro>(gap_env ? atof(gap_env) : 0.0);
    for (int i = 0; i < 1000; i++) client.forward(a, echo, msg);
    std::vector<double> rtt;
    for (int i = 0; i < iters; i++) {
        if (gap.count() > 0)
            for (auto g0 = Clock::now(); Clock::now() - g0 < gap;) {
            }
        auto t0 = Clock::now();
        client.forward(a, echo, msg);
        rtt.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    }
    return median(rtt);
}

// One forward, timed.
static double timed_us(Engine& client, const Address& a, uint64_t rpc_id, const std::string& msg) {
    auto t0 = Clock::now();
    client.forward(a, rpc_id, msg);
    return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
}

// Two RPCs of one server (e.g. a C++ and a Python echo handler) timed call by call on the same
// connection, so that drift over the run (which on a shared VM is larger than the difference
// between them) hits both alike. Which one goes first alternates from pair to pair, so neither
// always follows the other. Prints both medians and the median of the per-pair differences.
static void echo_pair(const std::string& proto, Engine& client, const Address& a, const std::string& name_a,
                      const std::string& name_b, int iters, const std::string& msg) {
    uint64_t id_a = rpc_id_of(name_a), id_b = rpc_id_of(name_b);
    for (int i = 0; i < 1000; i++) {
        client.forward(a, id_a, msg);
        client.forward(a, id_b, msg);
    }
    std::vector<double> ta, tb, diff;
    for (int i = 0; i < iters; i++) {
        double us_a, us_b;
        if (i % 2 == 0) {
            us_a = timed_us(client, a, id_a, msg);
            us_b = timed_us(client, a, id_b, msg);
        } else {
            us_b = timed_us(client, a, id_b, msg);
            us_a = timed_us(client, a, id_a, msg);
        }
        ta.push_back(us_a);
        tb.push_back(us_b);
        diff.push_back(us_b - us_a);
    }
    printf("engine protocol=%s op=echo_pair bytes=%zu a=%s a_median_us=%.2f b=%s b_median_us=%.2f "
           "diff_median_us=%.2f n=%d\n",
           proto.c_str(), msg.size(), name_a.c_str(), median(ta), name_b.c_str(), median(tb), median(diff), iters);
}

// "0a1b..." -> the bytes it spells.
static std::string from_hex(const char* h) {
    std::string out;
    for (; h[0] && h[1]; h += 2) out.push_back(static_cast<char>(std::stoi(std::string(h, 2), nullptr, 16)));
    return out;
}

static void run(const std::string& proto, int iters) {
    int fds[2];
    if (pipe(fds) != 0) return;
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        serve(proto, [&](const std::string& addr) {
            if (write(fds[1], addr.c_str(), addr.size() + 1) < 0) _exit(1);
            close(fds[1]);
        });
        _exit(0);
    }
    close(fds[1]);
    char buf[256] = {0};
    ssize_t n = read(fds[0], buf, sizeof(buf) - 1);
    close(fds[0]);
    if (n <= 0) return;
    Engine client(proto, Mode::Client, client_config());
    Address a = client.lookup(buf);
    double echo_us = echo_median(client, a, iters);
    auto handle = client.forward(a, "bulk", "");
    Bulk remote = client.deserialize_bulk(handle.output());
    std::vector<char> local(1 << 20);
    Bulk lb = client.expose(local.data(), local.size(), BulkAccess::WriteOnly);
    for (int i = 0; i < 20; i++) client.transfer(BulkOp::Pull, a, remote, 0, lb, 0, local.size());
    std::vector<double> bw;
    for (int i = 0; i < 200; i++) {
        auto t0 = Clock::now();
        client.transfer(BulkOp::Pull, a, remote, 0, lb, 0, local.size());
        bw.push_back(local.size() / std::chrono::duration<double>(Clock::now() - t0).count() / 1e9);
    }
    printf("engine protocol=%s op=echo_8B median_us=%.2f n=%d\n", proto.c_str(), echo_us, iters);
    printf("engine protocol=%s op=bulk_pull_1MiB median_GBps=%.2f n=200\n", proto.c_str(), median(bw));
    fflush(stdout);
    a.shutdown();
    int st;
    waitpid(pid, &st, 0);
}

int main(int argc, char** argv) {
    setenv("FI_TCP_IFACE", "lo", 0);
    if (argc >= 4 && std::string(argv[1]) == "--serve") {
        std::string file = argv[3];
        serve(argv[2], [&](const std::string& addr) {
            std::string tmp = file + ".tmp";
            if (FILE* f = fopen(tmp.c_str(), "w")) {
                fputs(addr.c_str(), f);
                fclose(f);
                rename(tmp.c_str(), file.c_str());
            }
        });
        return 0;
    }
    if (argc >= 4 && std::string(argv[1]) == "--echo") {
        int iters = argc > 4 ? atoi(argv[4]) : 20000;
        std::string msg = argc > 5 ? from_hex(argv[5]) : std::string(8, 'x');
        Engine client(argv[2], Mode::Client, client_config());
        Address a = client.lookup(argv[3]);
        printf("engine protocol=%s op=echo_8B median_us=%.2f n=%d\n", argv[2], echo_median(client, a, iters, msg), iters);
        return 0;
    }
    if (argc >= 6 && std::string(argv[1]) == "--echo-pair") {
        int iters = argc > 6 ? atoi(argv[6]) : 20000;
        std::string msg = argc > 7 ? from_hex(argv[7]) : std::string(8, 'x');
        Engine client(argv[2], Mode::Client, client_config());
        Address a = client.lookup(argv[3]);
        echo_pair(argv[2], client, a, argv[4], argv[5], iters, msg);
        return 0;
    }
    if (argc > 1 && argv[1][0] == '-') {
        // A mode with too few arguments, or an unknown one: not an iteration count.
        fprintf(stderr, "usage: see the comment at the top of bench/engine_bench.cpp\n");
        return 2;
    }
    int iters = argc > 1 ? atoi(argv[1]) : 20000;
    // KINAKO_BENCH_PROTOCOLS=na+sm (or tcp) runs one transport only.
    const char* only = std::getenv("KINAKO_BENCH_PROTOCOLS");
    auto wanted = [&](const char* label) { return !only || std::string(only).find(label) != std::string::npos; };
    if (wanted("na+sm")) run("na+sm", iters);
    if (wanted("tcp")) run("ofi+tcp://127.0.0.1", iters);
    return 0;
}
