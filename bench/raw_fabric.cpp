// kinako-bench-raw-fabric: the raw libfabric baseline for the engine benchmark.
//
// What it measures, per provider ("shm" and "tcp;ofi_rxm"), between two
// processes on this host (loopback only):
//   * 8-byte ping-pong round trip (fi_send / fi_recv), median, p99 and mean;
//   * RMA read bandwidth (fi_read of 1 MiB and 64 KiB, one read in flight).
// Both sides busy-poll their completion queue with fi_cq_read, with no RPC
// layer on top, so these numbers are the best case the RPC engine can be
// compared against.
//
// Usage: kinako-bench-raw-fabric [--provider shm|tcp|all] [--iters N] [--json]
//                                [--verbose]
// The process forks into a server (child) and a client (parent, which prints
// the figures). Fabric addresses are exchanged over pipes; everything else
// goes over the fabric. Every wait gives up after 30 s without progress.

#include <rdma/fabric.h>
#include <rdma/fi_cm.h>
#include <rdma/fi_domain.h>
#include <rdma/fi_endpoint.h>
#include <rdma/fi_errno.h>
#include <rdma/fi_rma.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kTimeoutSec = 30;
constexpr int kPingWarmup = 1000;
constexpr int kRmaWarmup = 20;
constexpr int kRmaIters = 200;
constexpr size_t kRmaRegion = 1 << 20;  // 1 MiB
constexpr int kRecvSlots = 8;
constexpr size_t kSlotSize = 64;

// ---------------------------------------------------------------- errors

const char* g_role = "main";
bool g_is_client = false;
pid_t g_peer_pid = -1;    // client only: the server's pid, until reaped
pid_t g_parent_pid = -1;  // server only: the client's pid

// SIGTERM first: the shm provider's handler then unlinks the peer's region.
void stop_peer() {
  if (g_peer_pid <= 0) return;
  kill(g_peer_pid, SIGTERM);
  kill(g_peer_pid, SIGCONT);  // a stopped peer must run to handle SIGTERM
  for (int i = 0; i < 1000 && waitpid(g_peer_pid, nullptr, WNOHANG) == 0; ++i) usleep(1000);
  if (waitpid(g_peer_pid, nullptr, WNOHANG) == 0) {
    kill(g_peer_pid, SIGKILL);
    waitpid(g_peer_pid, nullptr, 0);
  }
  g_peer_pid = -1;
}

[[noreturn]] void die(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::fflush(stdout);
  std::fprintf(stderr, "raw-fabric %s: error: ", g_role);
  std::vfprintf(stderr, fmt, ap);
  std::fputc('\n', stderr);
  va_end(ap);
  stop_peer();
  // No libfabric teardown after a failure (it could block). raise() runs the
  // shm provider's SIGTERM handler, which unlinks our /dev/shm region and then
  // chains to on_sigterm below.
  raise(SIGTERM);
  _exit(1);
}

// Installed before libfabric starts, so the shm provider chains to it.
void on_sigterm(int) { _exit(1); }

void check(int ret, const char* what) {
  if (ret < 0) die("%s failed: %s (%d)", what, fi_strerror(-ret), ret);
}

// Whether the other process is still around (checked while spinning).
bool peer_alive() {
  if (!g_is_client) return getppid() == g_parent_pid;
  if (g_peer_pid > 0 && waitpid(g_peer_pid, nullptr, WNOHANG) == g_peer_pid) g_peer_pid = -1;
  return g_peer_pid > 0;
}

class Deadline {
 public:
  Deadline() : end_(Clock::now() + std::chrono::seconds(kTimeoutSec)) {}
  // Cheap enough to call in a spin loop: looks at the clock every 1024 calls.
  void check(const char* waiting_for) {
    if (++spins_ % 1024 != 0) return;
    if (Clock::now() > end_) die("timed out after %d s waiting for %s", kTimeoutSec, waiting_for);
    if (spins_ % (1024 * 64) == 0 && !peer_alive()) die("peer exited while waiting for %s", waiting_for);
  }

 private:
  Clock::time_point end_;
  uint64_t spins_ = 0;
};

// ---------------------------------------------------------------- pipes

void write_all(int fd, const void* buf, size_t len) {
  auto* p = static_cast<const char*>(buf);
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) die("pipe write failed: %s", std::strerror(errno));
    p += n;
    len -= size_t(n);
  }
}

void read_all(int fd, void* buf, size_t len) {
  auto* p = static_cast<char*>(buf);
  auto end = Clock::now() + std::chrono::seconds(kTimeoutSec);
  while (len > 0) {
    int left_ms = int(std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()).count());
    if (left_ms <= 0) die("timed out after %d s waiting for the peer's address", kTimeoutSec);
    pollfd pfd{fd, POLLIN, 0};
    int r = poll(&pfd, 1, left_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) die("poll on pipe failed: %s", std::strerror(errno));
    if (r == 0) continue;
    ssize_t n = read(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) die("peer closed the pipe (did it fail?)");
    if (n < 0) die("pipe read failed: %s", std::strerror(errno));
    p += n;
    len -= size_t(n);
  }
}

void send_blob(int fd, const std::vector<char>& blob) {
  uint32_t len = uint32_t(blob.size());
  write_all(fd, &len, sizeof len);
  write_all(fd, blob.data(), len);
}

std::vector<char> recv_blob(int fd) {
  uint32_t len = 0;
  read_all(fd, &len, sizeof len);
  if (len == 0 || len > 1024) die("bad address length %u from peer", len);
  std::vector<char> blob(len);
  read_all(fd, blob.data(), len);
  return blob;
}

// ---------------------------------------------------------------- wire format

enum MsgType : uint32_t { kRmaRequest = 1, kRmaInfo = 2, kQuit = 3 };

// Control messages; 8-byte messages are pings (an 8-byte sequence number).
struct Control {
  uint32_t type;
  uint32_t pad;
  uint64_t addr;  // kRmaInfo: remote address (virtual address or offset)
  uint64_t key;   // kRmaInfo: MR key
  uint64_t len;   // kRmaInfo: region length
};
static_assert(sizeof(Control) <= kSlotSize, "control message must fit a slot");

// ---------------------------------------------------------------- fabric

struct Buffer {
  char* data = nullptr;
  size_t len = 0;
  fid_mr* mr = nullptr;
};

// Per-operation context; FI_CONTEXT mode requires a struct fi_context first.
struct Op {
  fi_context ctx;
  int slot;  // receive slot, or -1 for send/read
  bool done;
};

struct ProviderSpec {
  const char* label;     // name printed in the results
  const char* prov_name; // libfabric provider string
};

class Fabric {
 public:
  explicit Fabric(const ProviderSpec& spec, bool verbose) {
    open(spec);
    if (verbose) describe(spec);
    msgs_ = register_buffer((kRecvSlots + 1) * kSlotSize, FI_SEND | FI_RECV);
    for (int i = 0; i < kRecvSlots; ++i) post_recv(i);
  }

  ~Fabric() {
    close_buffer(msgs_);
    close_fid(&ep_->fid, "fi_close(ep)");
    close_fid(&av_->fid, "fi_close(av)");
    close_fid(&cq_->fid, "fi_close(cq)");
    close_fid(&domain_->fid, "fi_close(domain)");
    close_fid(&fabric_->fid, "fi_close(fabric)");
    fi_freeinfo(info_);
  }

  Fabric(const Fabric&) = delete;
  Fabric& operator=(const Fabric&) = delete;

  std::vector<char> name() const {
    std::vector<char> addr(256);
    size_t len = addr.size();
    check(fi_getname(&ep_->fid, addr.data(), &len), "fi_getname");
    addr.resize(len);
    return addr;
  }

  fi_addr_t insert(const std::vector<char>& addr) {
    fi_addr_t fa = FI_ADDR_UNSPEC;
    int n = fi_av_insert(av_, addr.data(), 1, &fa, 0, nullptr);
    if (n != 1) die("fi_av_insert failed: %s (%d)", n < 0 ? fi_strerror(-n) : "0 inserted", n);
    return fa;
  }

  // Registers a page-aligned buffer. Keys are chosen by us unless the
  // provider picks them (FI_MR_PROV_KEY).
  Buffer register_buffer(size_t len, uint64_t access) {
    Buffer b;
    b.len = len;
    b.data = static_cast<char*>(std::aligned_alloc(4096, (len + 4095) / 4096 * 4096));
    if (!b.data) die("out of memory");
    std::memset(b.data, 0, len);
    uint64_t key = (mr_mode() & FI_MR_PROV_KEY) ? 0 : next_key_++;
    check(fi_mr_reg(domain_, b.data, len, access, 0, key, 0, &b.mr, nullptr), "fi_mr_reg");
    if (mr_mode() & FI_MR_ENDPOINT) {
      check(fi_mr_bind(b.mr, &ep_->fid, 0), "fi_mr_bind");
      check(fi_mr_enable(b.mr), "fi_mr_enable");
    }
    return b;
  }

  void close_buffer(Buffer& b) {
    if (b.mr) close_fid(&b.mr->fid, "fi_close(mr)");
    std::free(b.data);
    b = Buffer{};
  }

  void* desc(const Buffer& b) const { return (mr_mode() & FI_MR_LOCAL) ? fi_mr_desc(b.mr) : nullptr; }

  // Address a peer must use to reach offset 0 of b.
  uint64_t remote_addr(const Buffer& b) const {
    return (mr_mode() & FI_MR_VIRT_ADDR) ? uint64_t(reinterpret_cast<uintptr_t>(b.data)) : 0;
  }

  uint64_t key(const Buffer& b) const { return fi_mr_key(b.mr); }

  char* send_slot() { return msgs_.data + kRecvSlots * kSlotSize; }
  const char* recv_slot(int slot) const { return msgs_.data + size_t(slot) * kSlotSize; }

  // Sends len bytes from the send slot and waits for the send completion.
  void send(fi_addr_t dest, size_t len) {
    Op op{{}, -1, false};
    post([&] { return fi_send(ep_, send_slot(), len, desc(msgs_), dest, &op.ctx); }, "fi_send");
    wait_done(op, "a send completion");
  }

  // Waits for a message; returns its slot and length. Call repost() when done.
  int wait_recv(size_t* len) {
    Deadline dl;
    while (ready_.empty()) {
      poll_cq();
      dl.check("a message from the peer");
    }
    auto [slot, n] = ready_.front();
    ready_.pop_front();
    *len = n;
    return slot;
  }

  void repost(int slot) { post_recv(slot); }

  void read(Buffer& local, size_t len, fi_addr_t src, uint64_t addr, uint64_t key) {
    Op op{{}, -1, false};
    post([&] { return fi_read(ep_, local.data, len, desc(local), src, addr, key, &op.ctx); }, "fi_read");
    wait_done(op, "an RMA read completion");
  }

  uint64_t mr_mode() const { return uint64_t(info_->domain_attr->mr_mode); }

 private:
  void open(const ProviderSpec& spec) {
    fi_info* hints = fi_allocinfo();
    if (!hints) die("fi_allocinfo failed");
    hints->ep_attr->type = FI_EP_RDM;
    hints->caps = FI_MSG | FI_RMA | FI_READ | FI_WRITE | FI_REMOTE_READ | FI_REMOTE_WRITE;
    hints->mode = FI_CONTEXT;
    hints->domain_attr->mr_mode =
        FI_MR_LOCAL | FI_MR_VIRT_ADDR | FI_MR_ALLOCATED | FI_MR_PROV_KEY | FI_MR_ENDPOINT;
    hints->domain_attr->threading = FI_THREAD_SAFE;
    hints->fabric_attr->prov_name = strdup(spec.prov_name);
    bool tcp = std::strcmp(spec.label, "tcp") == 0;
    // tcp: bind 127.0.0.1 (ephemeral port) and nothing else; shm has no IP address.
    if (tcp) hints->addr_format = FI_SOCKADDR_IN;
    int ret = fi_getinfo(FI_VERSION(1, 17), tcp ? "127.0.0.1" : nullptr, nullptr, tcp ? FI_SOURCE : 0,
                         hints, &info_);
    fi_freeinfo(hints);
    check(ret, "fi_getinfo");
    if (!info_) die("fi_getinfo returned no provider for %s", spec.prov_name);

    check(fi_fabric(info_->fabric_attr, &fabric_, nullptr), "fi_fabric");
    check(fi_domain(fabric_, info_, &domain_, nullptr), "fi_domain");

    fi_cq_attr cq_attr{};
    cq_attr.format = FI_CQ_FORMAT_DATA;
    // Busy polling with no wait object: the raw best case. KINAKO_RAW_WAIT_FD=1 opens the CQ
    // with a wait fd as the engine does (still busy polling), to measure what the provider's
    // signalling of that fd costs.
    const char* wait_fd = std::getenv("KINAKO_RAW_WAIT_FD");
    cq_attr.wait_obj = wait_fd && std::strcmp(wait_fd, "1") == 0 ? FI_WAIT_FD : FI_WAIT_NONE;
    cq_attr.size = 256;
    check(fi_cq_open(domain_, &cq_attr, &cq_, nullptr), "fi_cq_open");

    fi_av_attr av_attr{};
    av_attr.type = FI_AV_TABLE;
    av_attr.count = 4;
    check(fi_av_open(domain_, &av_attr, &av_, nullptr), "fi_av_open");

    check(fi_endpoint(domain_, info_, &ep_, nullptr), "fi_endpoint");
    check(fi_ep_bind(ep_, &cq_->fid, FI_TRANSMIT | FI_RECV), "fi_ep_bind(cq)");
    check(fi_ep_bind(ep_, &av_->fid, 0), "fi_ep_bind(av)");
    check(fi_enable(ep_), "fi_enable");
    if (tcp) check_loopback();
  }

  // Refuses to run if the tcp endpoint is bound to anything but 127.0.0.1.
  void check_loopback() const {
    std::vector<char> addr = name();
    sockaddr_in sin{};
    if (addr.size() < sizeof sin) die("unexpected tcp address length %zu", addr.size());
    std::memcpy(&sin, addr.data(), sizeof sin);
    if (sin.sin_family != AF_INET || sin.sin_addr.s_addr != htonl(INADDR_LOOPBACK))
      die("tcp endpoint is not bound to 127.0.0.1");
  }

  void describe(const ProviderSpec& spec) const {
    std::vector<char> addr = name();
    std::string shown;
    if (std::strcmp(spec.label, "tcp") == 0) {
      sockaddr_in sin{};
      std::memcpy(&sin, addr.data(), std::min(addr.size(), sizeof sin));
      shown = std::string(inet_ntoa(sin.sin_addr)) + ":" + std::to_string(ntohs(sin.sin_port));
    } else {
      shown.assign(addr.data(), strnlen(addr.data(), addr.size()));
    }
    std::fprintf(stderr,
                 "raw-fabric %s: provider=%s fabric=%s domain=%s mr_mode=0x%llx inject_size=%zu "
                 "max_msg_size=%zu addr=%s (%zu bytes)\n",
                 g_role, info_->fabric_attr->prov_name, info_->fabric_attr->name, info_->domain_attr->name,
                 (unsigned long long)info_->domain_attr->mr_mode, info_->tx_attr->inject_size,
                 info_->ep_attr->max_msg_size, shown.c_str(), addr.size());
  }

  void close_fid(fid_t fid, const char* what) { check(fi_close(fid), what); }

  void post_recv(int slot) {
    Op& op = recv_ops_[slot];
    op = Op{{}, slot, false};
    char* buf = msgs_.data + size_t(slot) * kSlotSize;
    post([&] { return fi_recv(ep_, buf, kSlotSize, desc(msgs_), FI_ADDR_UNSPEC, &op.ctx); }, "fi_recv");
  }

  // Posts an operation, draining the CQ and retrying while it returns -FI_EAGAIN.
  template <typename F>
  void post(F&& f, const char* what) {
    Deadline dl;
    for (;;) {
      ssize_t ret = f();
      if (ret == 0) return;
      if (ret != -FI_EAGAIN) check(int(ret), what);
      poll_cq();
      dl.check(what);
    }
  }

  void wait_done(Op& op, const char* what) {
    Deadline dl;
    while (!op.done) {
      poll_cq();
      dl.check(what);
    }
  }

  void poll_cq() {
    fi_cq_data_entry entries[16];
    ssize_t n = fi_cq_read(cq_, entries, 16);
    if (n == -FI_EAGAIN) return;
    if (n == -FI_EAVAIL) report_cq_error();
    check(int(n), "fi_cq_read");
    for (ssize_t i = 0; i < n; ++i) {
      Op* op = static_cast<Op*>(entries[i].op_context);
      op->done = true;
      if (op->slot >= 0) ready_.emplace_back(op->slot, entries[i].len);
    }
  }

  [[noreturn]] void report_cq_error() {
    fi_cq_err_entry err{};
    ssize_t r = fi_cq_readerr(cq_, &err, 0);
    if (r < 0) die("fi_cq_readerr failed: %s", fi_strerror(int(-r)));
    char buf[256] = {};
    const char* detail = fi_cq_strerror(cq_, err.prov_errno, err.err_data, buf, sizeof buf);
    die("completion error: %s (prov: %s)", fi_strerror(err.err), detail ? detail : "?");
  }

  fi_info* info_ = nullptr;
  fid_fabric* fabric_ = nullptr;
  fid_domain* domain_ = nullptr;
  fid_cq* cq_ = nullptr;
  fid_av* av_ = nullptr;
  fid_ep* ep_ = nullptr;
  Buffer msgs_;
  Op recv_ops_[kRecvSlots] = {};
  std::deque<std::pair<int, size_t>> ready_;
  uint64_t next_key_ = 1;
};

// ---------------------------------------------------------------- results

struct Options {
  std::vector<ProviderSpec> providers;
  int iters = 20000;
  bool json = false;
  bool verbose = false;
};

struct Stats {
  double median, p99, mean;
};

Stats summarize(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  double sum = 0;
  for (double x : v) sum += x;
  double median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  size_t p99_idx = std::min(n - 1, size_t(0.99 * double(n) + 0.999999) - 1);
  return {median, v[p99_idx], sum / double(n)};
}

// Prints one figure: fields is a list of (name, value) pairs after provider and op.
void report(const Options& opt, const char* provider, const char* op,
            const std::vector<std::pair<const char*, double>>& fields, long n) {
  if (opt.json) {
    std::printf("{\"bench\":\"raw\",\"provider\":\"%s\",\"op\":\"%s\"", provider, op);
    for (auto& [k, v] : fields) std::printf(",\"%s\":%.3f", k, v);
    std::printf(",\"n\":%ld}\n", n);
  } else {
    std::printf("raw provider=%s op=%s", provider, op);
    for (auto& [k, v] : fields) std::printf(" %s=%.3f", k, v);
    std::printf(" n=%ld\n", n);
  }
  std::fflush(stdout);
}

double micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

// Deterministic content of the server's RMA region, checked by the client.
uint8_t pattern(size_t i) { return uint8_t(i * 131 + 7); }

// ---------------------------------------------------------------- server

struct Pipes {
  int to_client[2];
  int to_server[2];
};

void run_server(const ProviderSpec& spec, const Pipes& pipes, bool verbose) {
  Fabric fab(spec, verbose);
  Buffer region = fab.register_buffer(kRmaRegion, FI_REMOTE_READ);
  for (size_t i = 0; i < region.len; ++i) region.data[i] = char(pattern(i));

  send_blob(pipes.to_client[1], fab.name());  // receives are already posted
  fi_addr_t client = fab.insert(recv_blob(pipes.to_server[0]));

  for (;;) {
    size_t len = 0;
    int slot = fab.wait_recv(&len);
    if (len == 8) {  // ping: echo the sequence number
      std::memcpy(fab.send_slot(), fab.recv_slot(slot), 8);
      fab.repost(slot);
      fab.send(client, 8);
      continue;
    }
    if (len != sizeof(Control)) die("unexpected %zu-byte message", len);
    Control msg;
    std::memcpy(&msg, fab.recv_slot(slot), sizeof msg);
    fab.repost(slot);
    if (msg.type == kQuit) break;
    if (msg.type != kRmaRequest) die("unexpected message type %u", msg.type);
    Control info{kRmaInfo, 0, fab.remote_addr(region), fab.key(region), region.len};
    std::memcpy(fab.send_slot(), &info, sizeof info);
    fab.send(client, sizeof info);
  }
  fab.close_buffer(region);
}

// ---------------------------------------------------------------- client

void bench_pingpong(Fabric& fab, fi_addr_t server, const Options& opt, const char* label) {
  std::vector<double> rtt;
  rtt.reserve(size_t(opt.iters));
  for (int i = 0; i < kPingWarmup + opt.iters; ++i) {
    uint64_t seq = uint64_t(i), echo = 0;
    std::memcpy(fab.send_slot(), &seq, 8);
    auto t0 = Clock::now();
    fab.send(server, 8);
    size_t len = 0;
    int slot = fab.wait_recv(&len);
    auto t1 = Clock::now();
    std::memcpy(&echo, fab.recv_slot(slot), 8);
    fab.repost(slot);
    if (len != 8 || echo != seq) die("bad pong: %zu bytes, seq %llu != %llu", len,
                                     (unsigned long long)echo, (unsigned long long)seq);
    if (i >= kPingWarmup) rtt.push_back(micros(t1 - t0));
  }
  Stats s = summarize(rtt);
  report(opt, label, "pingpong_8B", {{"median_us", s.median}, {"p99_us", s.p99}, {"mean_us", s.mean}},
         opt.iters);
}

Control request_rma_info(Fabric& fab, fi_addr_t server) {
  Control req{kRmaRequest, 0, 0, 0, 0};
  std::memcpy(fab.send_slot(), &req, sizeof req);
  fab.send(server, sizeof req);
  size_t len = 0;
  int slot = fab.wait_recv(&len);
  Control info;
  std::memcpy(&info, fab.recv_slot(slot), sizeof info);
  fab.repost(slot);
  if (len != sizeof info || info.type != kRmaInfo) die("expected RMA info, got %zu bytes", len);
  return info;
}

void verify_region(const Buffer& local, size_t len) {
  for (size_t i = 0; i < len; ++i)
    if (uint8_t(local.data[i]) != pattern(i)) die("RMA read returned wrong data at byte %zu", i);
}

void bench_rma_read(Fabric& fab, fi_addr_t server, const Control& info, Buffer& local, size_t size,
                    const char* op, const Options& opt, const char* label) {
  if (size > info.len) die("remote region too small");
  std::memset(local.data, 0, size);
  for (int i = 0; i < kRmaWarmup; ++i) fab.read(local, size, server, info.addr, info.key);
  verify_region(local, size);

  std::vector<double> gbps;
  gbps.reserve(kRmaIters);
  auto start = Clock::now();
  for (int i = 0; i < kRmaIters; ++i) {
    auto t0 = Clock::now();
    fab.read(local, size, server, info.addr, info.key);
    gbps.push_back(double(size) / (micros(Clock::now() - t0) * 1e3));
  }
  double agg = double(size) * kRmaIters / (micros(Clock::now() - start) * 1e3);
  report(opt, label, op, {{"median_GBps", summarize(gbps).median}, {"agg_GBps", agg}}, kRmaIters);
}

void run_client(const ProviderSpec& spec, const Pipes& pipes, const Options& opt) {
  Fabric fab(spec, opt.verbose);
  fi_addr_t server = fab.insert(recv_blob(pipes.to_client[0]));
  send_blob(pipes.to_server[1], fab.name());  // receives are already posted

  bench_pingpong(fab, server, opt, spec.label);

  Control info = request_rma_info(fab, server);
  Buffer local = fab.register_buffer(kRmaRegion, FI_READ);
  bench_rma_read(fab, server, info, local, kRmaRegion, "rma_read_1MiB", opt, spec.label);
  bench_rma_read(fab, server, info, local, 64 << 10, "rma_read_64KiB", opt, spec.label);

  Control quit{kQuit, 0, 0, 0, 0};
  std::memcpy(fab.send_slot(), &quit, sizeof quit);
  fab.send(server, sizeof quit);
  fab.close_buffer(local);
}

// ---------------------------------------------------------------- main

[[noreturn]] void usage(const char* argv0) {
  std::fprintf(stderr, "usage: %s [--provider shm|tcp|all] [--iters N] [--json] [--verbose]\n", argv0);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  const ProviderSpec shm{"shm", "shm"}, tcp{"tcp", "tcp;ofi_rxm"};
  Options opt;
  std::string provider = "all";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--provider" && i + 1 < argc) provider = argv[++i];
    else if (a == "--iters" && i + 1 < argc) opt.iters = std::atoi(argv[++i]);
    else if (a == "--json") opt.json = true;
    else if (a == "--verbose") opt.verbose = true;
    else usage(argv[0]);
  }
  if (provider == "shm" || provider == "all") opt.providers.push_back(shm);
  if (provider == "tcp" || provider == "all") opt.providers.push_back(tcp);
  if (opt.providers.empty() || opt.iters <= 0) usage(argv[0]);
  return opt;
}

int wait_for_server(pid_t pid) {
  auto end = Clock::now() + std::chrono::seconds(kTimeoutSec);
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (Clock::now() > end) die("server did not exit within %d s", kTimeoutSec);
    usleep(1000);
  }
  g_peer_pid = -1;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "raw-fabric client: error: server failed (status 0x%x)\n", status);
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt = parse(argc, argv);
  setenv("FI_TCP_IFACE", "lo", 1);  // loopback only, before any libfabric call
  signal(SIGPIPE, SIG_IGN);
  signal(SIGTERM, on_sigterm);

  Pipes pipes;
  if (pipe(pipes.to_client) != 0 || pipe(pipes.to_server) != 0) die("pipe: %s", std::strerror(errno));
  g_parent_pid = getpid();
  pid_t pid = fork();
  if (pid < 0) die("fork: %s", std::strerror(errno));

  if (pid == 0) {
    g_role = "server";
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != g_parent_pid) _exit(1);
    close(pipes.to_client[0]);
    close(pipes.to_server[1]);
    for (const ProviderSpec& spec : opt.providers) run_server(spec, pipes, opt.verbose);
    _exit(0);
  }

  g_role = "client";
  g_is_client = true;
  g_peer_pid = pid;
  close(pipes.to_client[1]);
  close(pipes.to_server[0]);
  for (const ProviderSpec& spec : opt.providers) run_client(spec, pipes, opt);
  return wait_for_server(pid);
}
