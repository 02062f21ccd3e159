// Warabi bandwidth benchmark: write and read of 4 KiB, 1 MiB and 64 MiB regions on the
// memory, abtio and pmdk targets, over na+sm and tcp, between two processes (fork).
// Baselines measured in the same run: the engine's own bulk pull of the same sizes between
// the same two processes (raw RMA), memcpy, and pwrite/pread on a file in the same directory.
// Prints medians and the ratios the goals are stated in (memory vs RMA, abtio vs file). Memory
// and pmdk writes are also compared with an RPC whose handler pulls the same bytes from the
// client: the raw pull is initiated by the client, a write's pull by the server.
// abtio runs twice: buffered (the default config, against the page cache) and with
// "directio" (against a local process's own O_DIRECT pwrite/pread, in the same rounds).
//
// Usage: kinako-bench-warabi [dir for files, default /tmp] [quick]
#include <mochi/margo/engine.hpp>
#include <mochi/warabi/client.hpp>
#include <mochi/warabi/provider.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

using namespace mochi;
using Clock = std::chrono::steady_clock;

namespace {

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

// GB/s of each of `iters` runs of op() moving `bytes` each (after `warm` warm-up runs).
std::vector<double> bandwidth_samples(size_t bytes, int iters, const std::function<void()>& op, int warm = 2) {
    for (int i = 0; i < warm; i++) op();
    std::vector<double> bw;
    for (int i = 0; i < iters; i++) {
        auto t0 = Clock::now();
        op();
        bw.push_back(bytes / std::chrono::duration<double>(Clock::now() - t0).count() / 1e9);
    }
    return bw;
}

// Median GB/s of `iters` runs of op() moving `bytes` each (after `warm` warm-up runs).
double bandwidth(size_t bytes, int iters, const std::function<void()>& op, int warm = 2) {
    return median(bandwidth_samples(bytes, iters, op, warm));
}

// Median GB/s of several ops measured in alternating rounds, so that a change in the load on
// the box (this 2-vCPU VM shares its host) hits each of them alike: a baseline measured
// minutes before the thing it is compared with made the ratios swing from 63% to 119%.
std::vector<double> interleaved(size_t bytes, int iters, const std::vector<std::function<void()>>& ops) {
    const int rounds = std::min(iters, 5);
    std::vector<std::vector<double>> all(ops.size());
    for (int r = 0; r < rounds; r++) {
        int n = iters / rounds + (r < iters % rounds ? 1 : 0);
        for (size_t k = 0; k < ops.size(); k++) {
            auto s = bandwidth_samples(bytes, n, ops[k], r == 0 ? 2 : 1);
            all[k].insert(all[k].end(), s.begin(), s.end());
        }
    }
    std::vector<double> out;
    for (auto& v : all) out.push_back(median(v));
    return out;
}

double latency_us(int iters, const std::function<void()>& op) {
    for (int i = 0; i < 100; i++) op();
    std::vector<double> t;
    for (int i = 0; i < iters; i++) {
        auto t0 = Clock::now();
        op();
        t.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    }
    return median(t);
}

int iters_for(size_t size, bool quick) {
    int n = size <= 4096 ? 2000 : size <= (1 << 20) ? 200 : 10;
    return quick ? std::max(3, n / 10) : n;
}

const size_t kSizes[] = {4096, size_t(1) << 20, size_t(64) << 20};
const char* size_name(size_t s) { return s == 4096 ? "4KiB" : s == (1u << 20) ? "1MiB" : "64MiB"; }

// Server side: one provider per target, plus a raw bulk for the RMA baseline.
[[noreturn]] void serve(const std::string& proto, const std::string& dir, int fd) {
    // Margo's default layout by default: handlers run on the progress xstream.
    // KINAKO_BENCH_SERVER_CONFIG replaces the engine config; '{"rpc_thread_count": 1}' puts
    // handlers on an xstream of their own, which measures the hand-off between the two
    // threads (a thread wake-up each way, ~15 us per request on a 2-vCPU VM).
    const char* cfg = std::getenv("KINAKO_BENCH_SERVER_CONFIG");
    margo::Engine engine(proto, margo::Mode::Server, cfg ? cfg : "{}");
    std::vector<char> raw(size_t(64) << 20, 'r');
    margo::Bulk bulk = engine.expose(raw.data(), raw.size(), margo::BulkAccess::ReadWrite);
    engine.define("bench_bulk", [&](const margo::Request& r) { r.respond(bulk.serialize()); });
    // The same-direction baseline of a write: an RPC whose handler pulls `size` bytes from the
    // caller's exposed memory (input: 8-byte size, then the caller's serialized bulk).
    engine.define("bench_rpc_pull", [&](const margo::Request& r) {
        std::string_view in = r.input();
        uint64_t size = 0;
        memcpy(&size, in.data(), sizeof(size));
        margo::Bulk remote = engine.deserialize_bulk(in.substr(sizeof(size)));
        engine.transfer(margo::BulkOp::Pull, r.source(), remote, 0, bulk, 0, size);
        r.respond("");
    });
    std::string pid = std::to_string(getpid());
    warabi::Provider memory(engine, 1, R"({"target":{"type":"memory"}})");
    warabi::Provider abtio(engine, 2, R"({"target":{"type":"abtio","config":{"path":")" + dir + "/bench-" + pid +
                                          R"(.abtio","create_if_missing":true,"override_if_exists":true}}})");
    warabi::Provider pmdk(engine, 3, R"({"target":{"type":"pmdk","config":{"path":")" + dir + "/bench-" + pid +
                                         R"(.pmem","create_if_missing_with_size":536870912,"override_if_exists":true}}})");
    // Region data on 4 KiB boundaries, so whole transfers go through the O_DIRECT descriptor.
    warabi::Provider abtio_direct(engine, 4, R"({"target":{"type":"abtio","config":{"path":")" + dir + "/bench-" +
                                                 pid + R"(.abtio-direct","create_if_missing":true,"override_if_exists":true,)"
                                                 R"("directio":true,"alignment":4096}}})");
    engine.enable_remote_shutdown();
    std::string addr = engine.self().to_string();
    if (write(fd, addr.c_str(), addr.size() + 1) < 0) _exit(1);
    close(fd);
    engine.wait_for_finalize();
    unlink((dir + "/bench-" + pid + ".abtio").c_str());
    unlink((dir + "/bench-" + pid + ".pmem").c_str());
    unlink((dir + "/bench-" + pid + ".abtio-direct").c_str());
    _exit(0);
}

void run(const std::string& proto, const std::string& label, const std::string& dir, bool quick,
         const std::map<size_t, double>& memcpy_bw, const std::map<size_t, std::pair<double, double>>& file_bw) {
    int fds[2];
    if (pipe(fds) != 0) return;
    pid_t child = fork();
    if (child == 0) {
        close(fds[0]);
        serve(proto, dir, fds[1]);
    }
    close(fds[1]);
    char buf[256] = {0};
    if (read(fds[0], buf, sizeof(buf) - 1) <= 0) return;
    close(fds[0]);
    {
        const char* ccfg = std::getenv("KINAKO_BENCH_CLIENT_CONFIG");
        margo::Engine engine(proto, margo::Mode::Client, ccfg ? ccfg : "");
        margo::Address server = engine.lookup(buf);
        std::vector<char> data(size_t(64) << 20), out(size_t(64) << 20);
        for (size_t i = 0; i < data.size(); i++) data[i] = char(i * 131);

        // Raw RMA: the engine's bulk pull of the same sizes between the same processes.
        auto resp = engine.forward(server, "bench_bulk", "");
        margo::Bulk remote = engine.deserialize_bulk(resp.output());
        margo::Bulk local = engine.expose(out.data(), out.size(), margo::BulkAccess::ReadWrite);
        std::map<size_t, double> rma;
        for (size_t s : kSizes) {
            rma[s] = bandwidth(s, iters_for(s, quick), [&] { engine.transfer(margo::BulkOp::Pull, server, remote, 0, local, 0, s); });
            printf("%s raw_rma_pull size=%s median_GBps=%.2f\n", label.c_str(), size_name(s), rma[s]);
        }
        // The local O_DIRECT baseline for abtio_direct: this process's own pwrite/pread of the
        // same sizes on a file in the same directory, from a 4 KiB-aligned buffer.
        std::string direct_path = dir + "/warabi-bench-direct-" + std::to_string(getpid());
        int dfd = open(direct_path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_DIRECT, 0644);
        char* aligned = static_cast<char*>(aligned_alloc(4096, size_t(64) << 20));
        memcpy(aligned, data.data(), size_t(64) << 20);
        auto direct_io = [&](bool write_it, size_t s) {
            ssize_t n = write_it ? pwrite(dfd, aligned, s, 0) : pread(dfd, aligned, s, 0);
            if (n != ssize_t(s)) {
                perror("O_DIRECT baseline");
                abort();
            }
        };
        margo::Bulk data_bulk = engine.expose(data.data(), data.size(), margo::BulkAccess::ReadOnly);
        const std::string data_bulk_wire = data_bulk.serialize();
        warabi::Client client(engine);
        const char* names[] = {"", "memory", "abtio", "pmdk", "abtio_direct"};
        for (int pid = 1; pid <= 4; pid++) {
            bool file_target = pid == 2 || pid == 4;
            auto target = client.make_target_handle(server, pid);
            printf("%s target=%s create_16B median_us=%.1f\n", label.c_str(), names[pid],
                   latency_us(quick ? 200 : 2000, [&] { target.erase(target.create(16)); }));
            for (size_t s : kSizes) {
                auto region = target.create(s);
                int n = iters_for(s, quick);
                // Targets compared with RMA get their raw pull measured again, in the same
                // rounds as their writes and reads.
                std::vector<std::function<void()>> ops = {
                    [&] { target.write(region, 0, data.data(), s); },
                    [&] { target.read(region, 0, out.data(), s); }};
                if (!file_target) {
                    ops.push_back([&] { engine.transfer(margo::BulkOp::Pull, server, remote, 0, local, 0, s); });
                    // What a write does besides Warabi's own work: an RPC, then the server pulls.
                    ops.push_back([&] {
                        uint64_t size = s;
                        std::string in(reinterpret_cast<const char*>(&size), sizeof(size));
                        engine.forward(server, "bench_rpc_pull", in + data_bulk_wire);
                    });
                }
                if (pid == 4) {
                    if (dfd < 0) {
                        printf("%s target=abtio_direct: O_DIRECT is not supported in %s\n", label.c_str(), dir.c_str());
                        break;
                    }
                    ops.push_back([&] { direct_io(true, s); });
                    ops.push_back([&] { direct_io(false, s); });
                }
                auto bw = interleaved(s, n, ops);
                double w = bw[0], r = bw[1];
                target.read(region, 0, out.data(), s);
                if (memcmp(out.data(), data.data(), s) != 0) printf("  DATA MISMATCH\n");
                target.erase(region);
                double wref = pid == 2 ? file_bw.at(s).first : bw[2];
                double rref = pid == 2 ? file_bw.at(s).second : pid == 4 ? bw[3] : bw[2];
                const char* ref = pid == 2 ? "local_file" : pid == 4 ? "local_odirect" : "raw_rma";
                printf("%s target=%s size=%s write_GBps=%.2f read_GBps=%.2f write/%s=%.0f%% read/%s=%.0f%% "
                       "write/memcpy=%.0f%%",
                       label.c_str(), names[pid], size_name(s), w, r, ref, 100 * w / wref, ref, 100 * r / rref,
                       100 * w / memcpy_bw.at(s));
                if (pid == 1 || pid == 3)
                    printf(" raw_rma_same_rounds_GBps=%.2f rpc_then_server_pull_GBps=%.2f write/rpc_then_server_pull=%.0f%%",
                           bw[2], bw[3], 100 * w / bw[3]);
                if (pid == 4) printf(" local_odirect_same_rounds_write_GBps=%.2f read_GBps=%.2f", bw[2], bw[3]);
                if (file_target) {
                    // A file target moves every byte twice, across the processes (RMA) and
                    // into the file, where the local baseline moves it once. Done one after
                    // the other the two take 1/(1/rma + 1/file): how close we are to that
                    // says what is left besides the second copy.
                    double wbound = 1 / (1 / rma[s] + 1 / wref), rbound = 1 / (1 / rma[s] + 1 / rref);
                    printf(" serial_bound_write_GBps=%.2f write/serial_bound=%.0f%% read/serial_bound=%.0f%%", wbound,
                           100 * w / wbound, 100 * r / rbound);
                }
                printf("\n");
                fflush(stdout);
            }
        }
        if (dfd >= 0) close(dfd);
        unlink(direct_path.c_str());
        free(aligned);
        server.shutdown();
    }
    int st;
    waitpid(child, &st, 0);
}

}  // namespace

int main(int argc, char** argv) {
    setenv("FI_TCP_IFACE", "lo", 0);
    std::string dir = argc > 1 ? argv[1] : "/tmp";
    bool quick = argc > 2 && std::string(argv[2]) == "quick";
    // Local baselines: memcpy, and pwrite/pread of the same sizes on a file in `dir`.
    std::vector<char> a(size_t(64) << 20, 'a'), b(size_t(64) << 20);
    std::map<size_t, double> memcpy_bw;
    std::map<size_t, std::pair<double, double>> file_bw;
    std::string path = dir + "/warabi-bench-baseline-" + std::to_string(getpid());
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
    for (size_t s : kSizes) {
        int n = iters_for(s, quick);
        memcpy_bw[s] = bandwidth(s, n, [&] { memcpy(b.data(), a.data(), s); });
        double w = bandwidth(s, n, [&] { if (pwrite(fd, a.data(), s, 4096) != (ssize_t)s) abort(); });
        double r = bandwidth(s, n, [&] { if (pread(fd, b.data(), s, 4096) != (ssize_t)s) abort(); });
        file_bw[s] = {w, r};
        printf("local size=%s memcpy_GBps=%.2f file_pwrite_GBps=%.2f file_pread_GBps=%.2f\n", size_name(s), memcpy_bw[s], w, r);
    }
    close(fd);
    unlink(path.c_str());
    const char* server_cfg = std::getenv("KINAKO_BENCH_SERVER_CONFIG");
    printf("server engine config: %s\n", server_cfg ? server_cfg : "{} (Margo's default: handlers on the progress xstream)");
    fflush(stdout);
    // KINAKO_BENCH_PROTOCOLS=tcp (or na+sm) runs one transport only.
    const char* only = std::getenv("KINAKO_BENCH_PROTOCOLS");
    auto wanted = [&](const char* label) { return !only || std::string(only).find(label) != std::string::npos; };
    if (wanted("na+sm")) run("na+sm", "na+sm", dir, quick, memcpy_bw, file_bw);
    if (wanted("tcp")) run("ofi+tcp://127.0.0.1", "tcp", dir, quick, memcpy_bw, file_bw);
    return 0;
}
