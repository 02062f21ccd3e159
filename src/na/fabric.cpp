#include "fabric.hpp"

#include <rdma/fi_cm.h>
#include <rdma/fi_endpoint.h>
#include <rdma/fi_eq.h>
#include <rdma/fi_errno.h>
#include <rdma/fi_rma.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <stdexcept>
#include <vector>

namespace kinako::na {

void throw_fi_error(const char* what, int ret) {
    throw std::runtime_error(std::string(what) + ": " + fi_strerror(ret < 0 ? -ret : ret));
}

MemoryRegion::MemoryRegion(fid_mr* mr, void* base, size_t size, bool virt_addr)
: mr_(mr), base_(base), size_(size), virt_addr_(virt_addr) {}

MemoryRegion& MemoryRegion::operator=(MemoryRegion&& o) noexcept {
    if (this != &o) {
        if (mr_) fi_close(&mr_->fid);
        mr_ = o.mr_; base_ = o.base_; size_ = o.size_; virt_addr_ = o.virt_addr_;
        o.mr_ = nullptr;
    }
    return *this;
}

MemoryRegion::~MemoryRegion() {
    if (mr_) fi_close(&mr_->fid);
}

uint64_t MemoryRegion::key() const { return mr_ ? fi_mr_key(mr_) : 0; }
void* MemoryRegion::desc() const { return mr_ ? fi_mr_desc(mr_) : nullptr; }
uint64_t MemoryRegion::remote_address(size_t offset) const {
    return virt_addr_ ? reinterpret_cast<uint64_t>(base_) + offset : offset;
}

namespace {

// The endpoints open in this process, and the names of those closed. Over shm, a peer in the
// same process is reached through that peer's own memory: once it is closed, a send or RMA
// to it through an address vector entry made earlier dereferences freed memory. Closing an
// endpoint therefore drops its entry from every other endpoint's address vector, and
// resolving a closed shm name (it embeds our pid, so no other process can own it) fails
// instead of inserting it again. A closed tcp ip:port is only forgotten: another server may
// bind it later, and a call to nobody there fails on its own (the connect is refused).
struct LocalEndpoints {
    std::mutex mutex;
    std::set<Endpoint*> open;
    std::set<std::string> closed;
};
LocalEndpoints& local_endpoints() {
    static auto* registry = new LocalEndpoints;  // never destroyed: endpoints may outlive statics
    return *registry;
}
bool closed_in_this_process(const std::string& raw) {
    auto& r = local_endpoints();
    std::lock_guard<std::mutex> lock(r.mutex);
    return r.closed.count(raw) > 0;
}
[[noreturn]] void throw_closed_peer(const std::string& raw) {
    throw std::runtime_error("the endpoint " + raw + " of this process is closed (its engine was finalized)");
}

}  // namespace

Endpoint::Endpoint(const std::string& provider, const std::string& bind) : provider_(provider) {
    fi_info* hints = fi_allocinfo();
    hints->ep_attr->type = FI_EP_RDM;
    hints->caps = FI_MSG | FI_RMA | FI_READ | FI_WRITE | FI_REMOTE_READ | FI_REMOTE_WRITE;
    hints->mode = FI_CONTEXT | FI_CONTEXT2;
    hints->domain_attr->mr_mode =
        FI_MR_LOCAL | FI_MR_VIRT_ADDR | FI_MR_ALLOCATED | FI_MR_PROV_KEY | FI_MR_ENDPOINT;
    hints->domain_attr->threading = FI_THREAD_SAFE;
    hints->fabric_attr->prov_name = strdup(provider.c_str());
    if (!bind.empty()) {
        hints->addr_format = provider == "shm" ? FI_ADDR_STR : FI_SOCKADDR_IN;
        hints->src_addr = malloc(bind.size());
        memcpy(hints->src_addr, bind.data(), bind.size());
        hints->src_addrlen = bind.size();
    }
    int ret = fi_getinfo(FI_VERSION(1, 17), nullptr, nullptr, 0, hints, &info_);
    fi_freeinfo(hints);
    if (ret) throw_fi_error("fi_getinfo", ret);

    mr_virt_addr_ = info_->domain_attr->mr_mode & FI_MR_VIRT_ADDR;
    mr_prov_key_ = info_->domain_attr->mr_mode & FI_MR_PROV_KEY;
    mr_endpoint_ = info_->domain_attr->mr_mode & FI_MR_ENDPOINT;
    inject_size_ = info_->tx_attr->inject_size;

    if ((ret = fi_fabric(info_->fabric_attr, &fabric_, nullptr))) throw_fi_error("fi_fabric", ret);
    if ((ret = fi_domain(fabric_, info_, &domain_, nullptr))) throw_fi_error("fi_domain", ret);

    fi_cq_attr cq_attr{};
    cq_attr.format = FI_CQ_FORMAT_DATA;
    cq_attr.size = 1024;
    cq_attr.wait_obj = FI_WAIT_FD;
    ret = fi_cq_open(domain_, &cq_attr, &cq_, nullptr);
    if (ret == -FI_ENOSYS || ret == -FI_EINVAL) {  // shm has no wait fd: we sleep on our eventfd
        cq_attr.wait_obj = FI_WAIT_NONE;
        ret = fi_cq_open(domain_, &cq_attr, &cq_, nullptr);
    } else if (ret == 0 && fi_control(&cq_->fid, FI_GETWAIT, &cq_fd_) != 0) {
        cq_fd_ = -1;
    }
    if (ret) throw_fi_error("fi_cq_open", ret);

    fi_av_attr av_attr{};
    av_attr.type = FI_AV_TABLE;
    if ((ret = fi_av_open(domain_, &av_attr, &av_, nullptr))) throw_fi_error("fi_av_open", ret);
    open_endpoint();
    if ((ret = fi_enable(ep_)) == -FI_EBUSY && provider_ == "shm" && remove_stale_shm_region()) {
        fi_close(&ep_->fid);
        ep_ = nullptr;
        open_endpoint();
        ret = fi_enable(ep_);
    }
    if (ret) throw_fi_error("fi_enable", ret);

    char name[256];
    size_t len = sizeof(name);
    if ((ret = fi_getname(&ep_->fid, name, &len))) throw_fi_error("fi_getname", ret);
    name_.assign(name, len);

    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    auto& r = local_endpoints();
    std::lock_guard<std::mutex> lock(r.mutex);
    r.closed.erase(name_);  // a new endpoint may take the name of one closed earlier
    r.open.insert(this);
}

void Endpoint::open_endpoint() {
    int ret;
    if ((ret = fi_endpoint(domain_, info_, &ep_, nullptr))) throw_fi_error("fi_endpoint", ret);
    if ((ret = fi_ep_bind(ep_, &av_->fid, 0))) throw_fi_error("fi_ep_bind(av)", ret);
    if ((ret = fi_ep_bind(ep_, &cq_->fid, FI_TRANSMIT | FI_RECV))) throw_fi_error("fi_ep_bind(cq)", ret);
}

bool Endpoint::remove_stale_shm_region() {
    // The shm provider names its region "<pid>:<index>:..." in /dev/shm. A process killed
    // without closing its endpoint leaves that file behind, and a later process that gets the
    // same pid cannot create its own (EBUSY). A region named after our pid can only belong to
    // a dead process (pids are unique among the living), so it is safe to remove.
    char name[256];
    size_t len = sizeof(name);
    if (fi_getname(&ep_->fid, name, &len) != 0 || len == 0) return false;
    std::string n(name, strnlen(name, len));
    if (auto pos = n.find("://"); pos != std::string::npos) n = n.substr(pos + 3);
    std::string own = std::to_string(getpid()) + ":";
    if (n.rfind(own, 0) != 0 || n.find('/') != std::string::npos) return false;
    // (The provider may already have unlinked it when it found it in use: retry then too.)
    return unlink(("/dev/shm/" + n).c_str()) == 0 || errno == ENOENT;
}

Endpoint::~Endpoint() {
    std::vector<Endpoint*> others;
    {
        auto& r = local_endpoints();
        std::lock_guard<std::mutex> lock(r.mutex);
        if (r.open.erase(this) && provider_ == "shm") r.closed.insert(name_);
        others.assign(r.open.begin(), r.open.end());
        // Forget our name in the others while still holding the registry lock, so none of
        // them is destroyed meanwhile; forget() takes only that endpoint's av lock, and
        // resolve() never holds its av lock while it takes the registry lock.
        for (Endpoint* e : others) e->forget(name_);
    }
    if (ep_) fi_close(&ep_->fid);
    if (av_) fi_close(&av_->fid);
    if (cq_) fi_close(&cq_->fid);
    if (domain_) fi_close(&domain_->fid);
    if (fabric_) fi_close(&fabric_->fid);
    if (info_) fi_freeinfo(info_);
    if (wake_fd_ >= 0) close(wake_fd_);
}

fi_addr_t Endpoint::resolve(const std::string& raw) {
    {
        std::lock_guard<std::mutex> lock(av_mutex_);
        auto it = av_cache_.find(raw);
        if (it != av_cache_.end()) return it->second;
    }
    // Not known yet (or forgotten when that endpoint closed): checked outside the av lock,
    // see ~Endpoint for the lock order.
    if (closed_in_this_process(raw)) throw_closed_peer(raw);
    {
        std::lock_guard<std::mutex> lock(av_mutex_);
        auto it = av_cache_.find(raw);
        if (it != av_cache_.end()) return it->second;
        fi_addr_t addr = FI_ADDR_UNSPEC;
        int ret = fi_av_insert(av_, raw.data(), 1, &addr, 0, nullptr);
        if (ret != 1) throw_fi_error("fi_av_insert", ret < 0 ? ret : -FI_EINVAL);
        // The table may hand out the slot of an address removed earlier: it is live again.
        if (fence_.maybe_dead(addr)) fence_.exclusive([&] { fence_.mark_alive(addr); });
        av_cache_.emplace(raw, addr);
    }
    // It may have closed between the check and the insert: its destructor's forget() could
    // have run before our insert. Check again and undo.
    if (closed_in_this_process(raw)) {
        forget(raw);
        throw_closed_peer(raw);
    }
    std::lock_guard<std::mutex> lock(av_mutex_);
    auto it = av_cache_.find(raw);
    if (it == av_cache_.end()) throw_closed_peer(raw);
    return it->second;
}

void Endpoint::forget(const std::string& raw) {
    std::lock_guard<std::mutex> lock(av_mutex_);
    auto it = av_cache_.find(raw);
    if (it == av_cache_.end()) return;
    fi_addr_t addr = it->second;
    av_generation_.fetch_add(1, std::memory_order_acq_rel);
    fence_.exclusive([&] {
        fi_av_remove(av_, &addr, 1, 0);
        fence_.mark_dead(addr);
    });
    av_cache_.erase(it);
}

int Endpoint::post_send(fi_addr_t dest, const void* buf, size_t len, void* desc, Operation* op) {
    AvFence::Post post(fence_, dest);
    if (post.dead()) return -FI_EHOSTUNREACH;
    return static_cast<int>(fi_send(ep_, buf, len, desc, dest, op));
}

int Endpoint::inject(fi_addr_t dest, const void* buf, size_t len) {
    AvFence::Post post(fence_, dest);
    if (post.dead()) return -FI_EHOSTUNREACH;
    return static_cast<int>(fi_inject(ep_, buf, len, dest));
}

int Endpoint::post_recv(void* buf, size_t len, void* desc, Operation* op) {
    return static_cast<int>(fi_recv(ep_, buf, len, desc, FI_ADDR_UNSPEC, op));
}

int Endpoint::post_read(fi_addr_t src, void* local, size_t len, void* desc, uint64_t raddr,
                        uint64_t rkey, Operation* op) {
    AvFence::Post post(fence_, src);
    if (post.dead()) return -FI_EHOSTUNREACH;
    return static_cast<int>(fi_read(ep_, local, len, desc, src, raddr, rkey, op));
}

int Endpoint::post_write(fi_addr_t dst, const void* local, size_t len, void* desc, uint64_t raddr,
                         uint64_t rkey, Operation* op) {
    AvFence::Post post(fence_, dst);
    if (post.dead()) return -FI_EHOSTUNREACH;
    return static_cast<int>(fi_write(ep_, local, len, desc, dst, raddr, rkey, op));
}

MemoryRegion Endpoint::register_memory(void* buf, size_t len, uint64_t access) {
    fid_mr* mr = nullptr;
    uint64_t key = mr_prov_key_ ? 0 : next_key_.fetch_add(1);
    int ret = fi_mr_reg(domain_, buf, len, access, 0, key, 0, &mr, nullptr);
    if (ret) throw_fi_error("fi_mr_reg", ret);
    if (mr_endpoint_) {
        if ((ret = fi_mr_bind(mr, &ep_->fid, 0)) || (ret = fi_mr_enable(mr))) {
            fi_close(&mr->fid);
            throw_fi_error("fi_mr_enable", ret);
        }
    }
    return MemoryRegion(mr, buf, len, mr_virt_addr_);
}

int Endpoint::poll(int max) {
    fi_cq_data_entry entries[32];
    int handled = 0;
    while (handled < max) {
        int want = std::min(max - handled, 32);
        ssize_t n = fi_cq_read(cq_, entries, want);
        if (n > 0) {
            for (ssize_t i = 0; i < n; i++) {
                static_cast<Operation*>(entries[i].op_context)->complete(0, entries[i].len);
            }
            handled += static_cast<int>(n);
            // A short batch drained the queue: reading it again to find it empty (a progress
            // pass of the provider, ~100 ns over shm) would sit between a request and its
            // handler, or a response and its caller. The next poll comes soon anyway.
            if (n < want) break;
            continue;
        }
        if (n == -FI_EAVAIL) {
            fi_cq_err_entry err{};
            if (fi_cq_readerr(cq_, &err, 0) > 0) {
                if (err.op_context) static_cast<Operation*>(err.op_context)->complete(err.err ? err.err : FI_EIO, 0);
                handled++;
                continue;
            }
        }
        break;
    }
    return handled;
}

void Endpoint::wait(int timeout_ms) {
    pollfd fds[2];
    int nfds = 0;
    fds[nfds++] = {wake_fd_, POLLIN, 0};
    if (cq_fd_ >= 0) {
        fid* f = &cq_->fid;
        // fi_trywait tells whether blocking on the fd is safe (nothing already queued).
        if (fi_trywait(fabric_, &f, 1) != FI_SUCCESS) return;
        fds[nfds++] = {cq_fd_, POLLIN, 0};
    } else if (timeout_ms > 1) {
        // No wait object (shm): sleep in short slices so incoming messages are seen soon.
        timeout_ms = 1;
    }
    sleepers_.fetch_add(1);
    // A wake() that saw no sleeper left this flag instead of writing the eventfd.
    int r = wake_pending_.exchange(false) ? 0 : ::poll(fds, nfds, timeout_ms);
    sleepers_.fetch_sub(1);
    wake_pending_.store(false);
    if (r > 0 && (fds[0].revents & POLLIN)) {
        uint64_t v;
        ssize_t rd = read(wake_fd_, &v, sizeof(v));
        (void)rd;
    }
}

void Endpoint::wake() {
    // Without a sleeper, leave a flag instead of a write+read pair on every completion. Both
    // sides store then load (seq_cst): either we see the sleeper and write, or it sees the flag
    // and does not block.
    wake_pending_.store(true);
    if (sleepers_.load() == 0) return;
    uint64_t one = 1;
    ssize_t w = write(wake_fd_, &one, sizeof(one));
    (void)w;
}

}  // namespace kinako::na
