// Engine lifecycle: transport setup, pools and xstreams, the progress loop, finalize.
#include "address.hpp"
#include "engine_impl.hpp"

#include <thread>

namespace mochi::margo::detail {

using kinako::margo::make_engine_config;
using nlohmann::json;

namespace {
const char* kShutdownRpc = "__kinako_remote_shutdown__";
const char* kIdentityRpc = "__kinako_provider_identity__";
}

// ---------------------------------------------------------------- receive buffers

void RecvBuffer::complete(int err, size_t len) { engine->on_receive(this, err, len); }

RecvBuffer* RecvBufferPool::take() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!free_.empty()) {
        RecvBuffer* b = free_.back().release();
        free_.pop_back();
        return b;
    }
    auto* b = new RecvBuffer();
    b->data.reset(new char[capacity_]);
    b->capacity = capacity_;
    b->engine = engine_;
    return b;
}

void RecvBufferPool::give_back(RecvBuffer* b) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!engine_ || free_.size() > 256) {
        delete b;
        return;
    }
    free_.emplace_back(b);
}

RecvLease RecvBufferPool::lease(RecvBuffer* b) { return RecvLease(b, RecvLeaseReturn{shared_from_this()}); }

void RecvLeaseReturn::operator()(RecvBuffer* b) const { pool->give_back(b); }

void RecvBufferPool::detach_engine() {
    std::lock_guard<std::mutex> lock(mutex_);
    engine_ = nullptr;
    free_.clear();
}

// ---------------------------------------------------------------- construction

EngineImpl::EngineImpl(const std::string& address, Mode mode, const std::string& json_config)
: mode_(mode) {
    proto_ = kinako::margo::parse_protocol(address);
    cfg_ = make_engine_config(json_config, false, 0);
    std::string bind;
    if (!proto_.host.empty() && proto_.provider != "shm") bind = kinako::margo::host_to_raw(proto_);
    ep_ = std::make_unique<kinako::na::Endpoint>(proto_.provider, bind);
    self_raw_ = ep_->name();
    self_shared_ = std::make_shared<const std::string>(self_raw_);
    eager_payload_max_ = cfg_.eager_size - sizeof(kinako::margo::MsgHeader) - 256;
    cfg_.json["mercury"]["address"] = address_string(self_raw_);
    cfg_.json["mercury"]["listening"] = mode == Mode::Server;
    cfg_.json["mercury"]["version"] = "kinako-libfabric";
    buffers_ = std::make_shared<RecvBufferPool>(this, cfg_.eager_size);
}

void EngineImpl::start() {
    for (auto& p : cfg_.pools) pools_.push_back(std::make_shared<Pool>(p.name, p.kind, p.access));
    progress_pool_ = pools_[cfg_.progress_pool];
    rpc_pool_ = pools_[cfg_.rpc_pool];
    ensure_posted(true);
    for (auto& x : cfg_.xstreams) {
        std::vector<std::shared_ptr<Pool>> ps;
        for (size_t i : x.pools) ps.push_back(pools_[i]);
        xstreams_.push_back(std::make_unique<Xstream>(x.name, ps, cfg_.stack_size));
    }
    for (auto& xs : xstreams_) xs->start();
    std::weak_ptr<EngineImpl> weak = shared_from_this();
    // The loop must not keep the engine alive; finalize waits for it to end before the
    // engine goes away, so a raw pointer is safe here.
    progress_pool_->push([this] { progress_loop(); });
    // Remote shutdown is an ordinary RPC, so it goes through the same paths as any other.
    define(kShutdownRpc, [weak](const Request& req) {
        auto self = weak.lock();
        if (!self) return;
        if (!self->remote_shutdown_) {
            req.respond_error(Status::Permission);
            return;
        }
        req.respond("");
        std::thread([self] { self->finalize(); }).detach();
    }, 0, "");
    // Identity queries: input is a little-endian u16 provider id, output the identity
    // (NoEntry when that provider id has none).
    define(kIdentityRpc, [this](const Request& req) {
        auto in = req.input();
        if (in.size() != 2) return req.respond_error(Status::InvalidArg);
        uint16_t pid = uint16_t(uint8_t(in[0]) | (uint8_t(in[1]) << 8));
        std::string id = identity(pid);
        if (id.empty()) return req.respond_error(Status::NoEntry);
        req.respond(id);
    }, 0, "");
}

void EngineImpl::set_identity(uint16_t provider_id, const std::string& identity) {
    std::lock_guard<std::mutex> lock(identity_mutex_);
    if (identity.empty()) identities_.erase(provider_id);
    else identities_[provider_id] = identity;
}

std::string EngineImpl::identity(uint16_t provider_id) const {
    std::lock_guard<std::mutex> lock(identity_mutex_);
    auto it = identities_.find(provider_id);
    return it == identities_.end() ? std::string() : it->second;
}

EngineImpl::~EngineImpl() {
    if (state_.load() != kFinalized) finalize_now();
    // Destroyed from one of our own handlers (it dropped the last reference): that xstream's
    // thread is still running this code, so its object must outlive us. Rare; leak it.
    Xstream* cur = Xstream::current();
    for (auto& xs : xstreams_)
        if (xs.get() == cur) (void)xs.release();
}

bool EngineImpl::owns_current_thread() const {
    Xstream* cur = Xstream::current();
    if (!cur) return false;
    for (auto& xs : xstreams_)
        if (xs.get() == cur) return true;
    return false;
}

std::string EngineImpl::address_string(const std::string& raw) const {
    return kinako::margo::raw_to_string(proto_.prefix, proto_.provider, raw);
}

Address EngineImpl::lookup(const std::string& s) {
    kinako::margo::Protocol p;
    try {
        p = kinako::margo::parse_protocol(s);
        if (p.host.empty()) throw std::invalid_argument("no host part");
        if (p.provider != proto_.provider)
            throw std::invalid_argument("protocol of \"" + s + "\" does not match this engine's (" + proto_.prefix + ")");
        return make_address(kinako::margo::host_to_raw(p));
    } catch (const std::invalid_argument& e) {
        throw Exception("margo_addr_lookup", Status::InvalidArg, e.what());
    }
}

fi_addr_t EngineImpl::resolve_peer(const std::string& raw, const char* op) {
    try {
        return ep_->resolve(raw);
    } catch (const std::runtime_error& e) {
        throw Exception(op, Status::HostUnreach, std::string("cannot reach ") + address_string(raw) + ": " + e.what());
    }
}

std::string EngineImpl::config() const {
    std::lock_guard<std::mutex> lock(layout_mutex_);
    return cfg_.json.dump();
}

// ---------------------------------------------------------------- run-time pools and xstreams

void EngineImpl::add_pool(const std::string& pool_json) {
    json p;
    try {
        p = json::parse(pool_json);
    } catch (const json::exception& e) {
        throw std::invalid_argument(std::string("invalid pool config: malformed JSON: ") + e.what());
    }
    std::lock_guard<std::mutex> lock(layout_mutex_);
    if (!running()) throw std::invalid_argument("cannot add a pool: the engine is finalizing");
    auto spec = kinako::margo::check_new_pool(p, cfg_.json["argobots"]);
    cfg_.pools.push_back(spec);
    cfg_.json["argobots"]["pools"].push_back(p);
    pools_.push_back(std::make_shared<Pool>(spec.name, spec.kind, spec.access));
}

void EngineImpl::remove_pool(const std::string& name) {
    std::lock_guard<std::mutex> lock(layout_mutex_);
    size_t idx = pools_.size();
    for (size_t i = 0; i < pools_.size(); i++)
        if (pools_[i]->name() == name) idx = i;
    auto refuse = [&](const std::string& why) {
        throw std::invalid_argument("cannot remove pool \"" + name + "\": " + why);
    };
    if (idx == pools_.size()) refuse("no such pool");
    if (pools_[idx] == progress_pool_) refuse("it is the progress pool");
    if (pools_[idx] == rpc_pool_) refuse("it is the rpc pool");
    for (auto& xs : xstreams_)
        for (auto& p : xs->pools())
            if (p == pools_[idx]) refuse("xstream \"" + xs->name() + "\" uses it");
    {
        std::lock_guard<std::mutex> reg(registry_mutex_);
        for (auto& kv : registry_)
            if (kv.second->pool == pools_[idx]) refuse("RPC \"" + kv.second->name + "\" runs in it");
    }
    if (pools_[idx]->size() > 0) refuse("it still holds work");
    pools_.erase(pools_.begin() + idx);
    cfg_.pools.erase(cfg_.pools.begin() + idx);
    auto& arr = cfg_.json["argobots"]["pools"];
    arr.erase(arr.begin() + idx);
    auto shift = [idx](size_t& i) { if (i > idx) --i; };
    shift(cfg_.progress_pool);
    shift(cfg_.rpc_pool);
    for (auto& x : cfg_.xstreams)
        for (auto& i : x.pools) shift(i);
}

void EngineImpl::add_xstream(const std::string& xstream_json) {
    json x;
    try {
        x = json::parse(xstream_json);
    } catch (const json::exception& e) {
        throw std::invalid_argument(std::string("invalid xstream config: malformed JSON: ") + e.what());
    }
    std::lock_guard<std::mutex> lock(layout_mutex_);
    if (!running()) throw std::invalid_argument("cannot add an xstream: the engine is finalizing");
    auto spec = kinako::margo::check_new_xstream(x, cfg_.json["argobots"]);
    std::vector<std::shared_ptr<Pool>> ps;
    for (size_t i : spec.pools) ps.push_back(pools_[i]);
    auto xs = std::make_unique<Xstream>(spec.name, ps, cfg_.stack_size);
    xs->start();
    xstreams_.push_back(std::move(xs));
    cfg_.xstreams.push_back(spec);
    cfg_.json["argobots"]["xstreams"].push_back(x);
}

void EngineImpl::remove_xstream(const std::string& name) {
    std::unique_ptr<Xstream> victim;
    {
        std::lock_guard<std::mutex> lock(layout_mutex_);
        auto refuse = [&](const std::string& why) {
            throw std::invalid_argument("cannot remove xstream \"" + name + "\": " + why);
        };
        size_t idx = xstreams_.size();
        for (size_t i = 0; i < xstreams_.size(); i++)
            if (xstreams_[i]->name() == name) idx = i;
        if (idx == xstreams_.size()) refuse("no such xstream");
        if (name == "__primary__") refuse("the primary xstream cannot be removed");
        if (xstreams_[idx].get() == Xstream::current()) refuse("it is running this call");
        // Pools this xstream serves must keep another xstream if anything depends on them.
        for (auto& p : xstreams_[idx]->pools()) {
            bool other = false;
            for (size_t i = 0; i < xstreams_.size(); i++)
                if (i != idx)
                    for (auto& q : xstreams_[i]->pools()) other |= q == p;
            if (other) continue;
            bool needed = p == progress_pool_ || p == rpc_pool_ || p->size() > 0;
            {
                std::lock_guard<std::mutex> reg(registry_mutex_);
                for (auto& kv : registry_) needed |= kv.second->pool == p;
            }
            if (needed) refuse("it is the only xstream running pool \"" + p->name() + "\"");
        }
        victim = std::move(xstreams_[idx]);
        xstreams_.erase(xstreams_.begin() + idx);
        cfg_.xstreams.erase(cfg_.xstreams.begin() + idx);
        auto& arr = cfg_.json["argobots"]["xstreams"];
        for (auto it = arr.begin(); it != arr.end(); ++it)
            if (it->value("name", "") == name) { arr.erase(it); break; }
    }
    victim->stop();
}

// ---------------------------------------------------------------- progress

void EngineImpl::ensure_posted(bool idle) {
    // Reposting right after a receive put a fi_recv between a request and its handler (and a
    // response and its caller): top up when a poll finds nothing, or when half are gone.
    const int full = static_cast<int>(cfg_.recv_buffers);
    if (!idle && posted_.load() > full / 2) return;
    while (posted_.load() < full) {
        RecvBuffer* b = buffers_->take();
        int ret = ep_->post_recv(b->data.get(), b->capacity, nullptr, b);
        if (ret != 0) {
            buffers_->give_back(b);
            break;  // retried on the next progress step
        }
        posted_list_.add(b);
        posted_++;
    }
}

bool EngineImpl::try_progress(int wait_ms) {
    if (!progress_mutex_.try_lock()) return false;
    if (!ep_) { progress_mutex_.unlock(); return true; }
    external_polls_.fetch_add(1, std::memory_order_relaxed);
    external_polling_.store(true, std::memory_order_relaxed);
    int n = ep_->poll(64);
    ensure_posted(n == 0);
    if (n == 0 && wait_ms > 0) ep_->wait(wait_ms);
    external_polling_.store(false, std::memory_order_relaxed);
    progress_mutex_.unlock();
    return true;
}

void EngineImpl::wait_for_driver(Eventual& done, Clock::time_point until) {
    // The progress thread holds the lock for one poll (microseconds) and then steps aside for
    // us: try again soon. Sleeping until `done` instead left nobody polling (the progress
    // thread steps aside while a caller waits), so the call sat until `until`.
    if (loop_polling_.load()) {
        std::this_thread::yield();
        return;
    }
    // The loop may have let go between our try and the check above (it does not take the lock
    // again while a caller waits): one more try before sleeping.
    if (try_progress(0) || loop_polling_.load()) return;
    done.wait_until(until);  // another caller thread polls; it sets `done` for us
}

void EngineImpl::progress_or_yield() {
    if (Xstream::current()) {
        boost::this_fiber::yield();
    } else if (!try_progress(0)) {
        std::this_thread::yield();
    }
}

void EngineImpl::caller_arrives() { external_waiters_.fetch_add(1); }

void EngineImpl::caller_leaves(Clock::time_point now) {
    last_waiter_left_.store(now.time_since_epoch().count(), std::memory_order_relaxed);
    external_waiters_.fetch_sub(1);
}

std::chrono::microseconds EngineImpl::caller_nap(Clock::time_point now) const {
    using std::chrono::microseconds;
    // One caller thread drives progress alone: nobody else needs the loop until it leaves.
    constexpr microseconds kOneCaller{1000};
    // Several wait; those that found the lock taken sleep until their call completes, so when
    // the driver leaves someone must poll for them soon: look again often.
    constexpr microseconds kManyCallers{100};
    // A caller that just left usually comes back (a loop of calls; the Python layer spends a few
    // microseconds between them): stepping in for that gap put the loop and the caller on the
    // same lock and cores, and waking every 100 us while one caller drives cost it too (C++ echo
    // on tcp: p90 60-72 -> 35-47 us; Python echo on na+sm: p95 25-28 -> 9-13 us).
    constexpr microseconds kGrace{500};
    int waiters = external_waiters_.load(std::memory_order_relaxed);
    if (waiters > 1) return kManyCallers;
    if (waiters == 1) return kOneCaller;
    Clock::rep left = last_waiter_left_.load(std::memory_order_relaxed);
    if (left == 0) return microseconds(0);  // no caller ever waited (a plain server)
    auto since = now - Clock::time_point(Clock::duration(left));
    if (since >= kGrace) return microseconds(0);
    return std::chrono::duration_cast<microseconds>(kGrace - since) + microseconds(1);
}

void EngineImpl::progress_loop() {
    Xstream* xs = Xstream::current();
    xs->set_idle_waker([this] { ep_->wake(); });
    auto last_activity = Clock::now();
    const auto spindown = std::chrono::microseconds(static_cast<int64_t>(cfg_.spindown_ms * 1000));
    const int block_ms = std::max(1, static_cast<int>(cfg_.timeout_ub_ms));
    auto last_expiry = Clock::now();
    bool napped_last = false;
    uint64_t polls_at_nap = 0;
    // Read at most once per turn (a clock read is ~40 ns here, a turn of an idle poll not much
    // more); after a blocking wait it is stale, which only makes caller_nap() err towards polling.
    auto now = Clock::now();
    auto last_yield = now;
    // How often a polling loop passes through the scheduler. Every 100 us cost 3-4 us per echo
    // when handlers run on another xstream (rpc_thread_count 1: 20 -> 24-29 us on na+sm).
    constexpr auto kSchedulerTurn = std::chrono::milliseconds(1);
    unsigned idle_turns = 0;
    while (!stopping_.load(std::memory_order_acquire)) {
        uint64_t polls = external_polls_.load(std::memory_order_relaxed);
        // After a nap in which no caller polled (and none is blocked in a poll now), poll once
        // ourselves: a caller that found the lock taken sleeps until its call is done, and if
        // we only ever stepped aside nobody would poll (its call sat until a 20 ms backstop).
        bool caller_drives =
            !napped_last || polls != polls_at_nap || external_polling_.load(std::memory_order_relaxed);
        auto nap = caller_nap(now);
        if (nap.count() > 0 && !xs->has_other_work() && caller_drives) {
            // A caller thread is waiting and drives progress itself (wait_call): spinning here
            // as well would put a third busy thread on the cores (caller, us, the peer) and
            // stall whichever is descheduled. Stay out of its way, but remain wakeable.
            polls_at_nap = polls;
            napped_last = true;
            boost::this_fiber::sleep_for(nap);
            now = last_activity = Clock::now();
            continue;
        }
        napped_last = false;
        int n = 0;
        bool progressed = false;
        // The flag covers the whole time we may hold the lock, from before we take it until
        // after we let it go: a caller that finds the lock held and the flag down concludes
        // that another caller thread drives progress and sleeps until its call completes.
        // Set only while we held the lock, the gaps on either side (wide when this thread is
        // preempted there) could send a caller to sleep while nobody else drove progress.
        loop_polling_.store(true);
        if (progress_mutex_.try_lock()) {
            n = ep_->poll(64);
            ensure_posted(n == 0);
            progress_mutex_.unlock();
            progressed = true;
        }
        loop_polling_.store(false, std::memory_order_release);  // late is harmless: a caller retries
        bool yielded = false;
        if (n > 0 && xs->has_other_work()) {
            // A request was just handed to a handler of this xstream: run it before the
            // bookkeeping below, so that its response leaves sooner.
            boost::this_fiber::yield();
            yielded = true;
        }
        // An idle turn reads the clock every 4th time (a read costs about what an empty poll
        // does, so this shortens the turn and how late a new message is noticed); the
        // intervals below are milliseconds, so a reading a few turns old serves them as well.
        if (n > 0 || yielded || (++idle_turns & 3) == 0) now = Clock::now();
        if (yielded) last_yield = now;
        if (n > 0) last_activity = now;
        if (now - last_expiry > std::chrono::seconds(1)) {
            expire_large_responses();
            last_expiry = now;
        }
        if (xs->has_other_work()) {
            boost::this_fiber::yield();
            last_yield = now;
            continue;
        }
        // Fibers sleeping or in a timed wait become ready only when the scheduler runs, and a
        // loop that keeps polling never lets it: go through it once a millisecond (a handler's
        // engine.sleep(20) on this xstream never woke up before).
        if (now - last_yield >= kSchedulerTurn) {
            boost::this_fiber::yield();
            last_yield = now;
            if (xs->has_other_work()) continue;
        }
        if (n > 0 || now - last_activity < spindown) continue;
        if (!progressed) {
            // A caller thread is progressing for us; stay out of its way but remain wakeable.
            boost::this_fiber::sleep_for(std::chrono::microseconds(200));
            continue;
        }
        // Idle: block on the transport until a message, a wake-up, or the upper bound. Other
        // fibers of this xstream (besides this loop) may be sleeping with a deadline that only
        // the scheduler notices: then block in short slices and let it run between them.
        bool others = xs->task_fibers() > 1;
        ep_->wait(others ? 1 : block_ms);
        if (others) {
            boost::this_fiber::yield();
            now = last_yield = Clock::now();
        }
    }
    xs->set_idle_waker(nullptr);
    progress_stopped_.set();
}

void EngineImpl::sleep_ms(double ms) {
    auto d = std::chrono::microseconds(static_cast<int64_t>(ms * 1000));
    if (Xstream::current())
        boost::this_fiber::sleep_for(d);
    else
        std::this_thread::sleep_for(d);
}

// ---------------------------------------------------------------- finalize

void EngineImpl::push_prefinalize(std::function<void()> cb) {
    std::lock_guard<std::mutex> lock(state_mutex_);
    prefinalize_cbs_.push_back(std::move(cb));
}

void EngineImpl::push_finalize(std::function<void()> cb) {
    std::lock_guard<std::mutex> lock(state_mutex_);
    finalize_cbs_.push_back(std::move(cb));
}

void EngineImpl::finalize() {
    if (owns_current_thread()) {
        // Called from one of our own handlers: the xstreams cannot join themselves.
        auto self = shared_from_this();
        std::thread([self] { self->finalize(); }).detach();
        return;
    }
    finalize_now();
}

void EngineImpl::finalize_now() {
    int expected = kRunning;
    if (!state_.compare_exchange_strong(expected, kFinalizing)) {
        wait_for_finalize();
        return;
    }
    std::vector<std::function<void()>> pre, post;
    {
        std::lock_guard<std::mutex> lock(state_mutex_);
        pre.swap(prefinalize_cbs_);
    }
    for (auto it = pre.rbegin(); it != pre.rend(); ++it) {
        try { (*it)(); } catch (...) {}
    }
    stopping_.store(true);
    ep_->wake();
    cancel_all_pending();
    if (!xstreams_.empty()) progress_stopped_.wait_until(Clock::now() + std::chrono::seconds(10));
    for (auto& xs : xstreams_) xs->stop();
    {
        std::lock_guard<std::mutex> lock(state_mutex_);
        post.swap(finalize_cbs_);
    }
    for (auto it = post.rbegin(); it != post.rend(); ++it) {
        try { (*it)(); } catch (...) {}
    }
    // Other threads may still be inside a call that started before we began (a provider's
    // background thread sending a probe): let them out before the endpoint goes, then cancel
    // what they registered after the first sweep.
    gate_.close();
    cancel_all_pending();
    // Dropped before "finalized" is announced: a callback may own a reference into a language
    // runtime (a Python object) that must not be released after the waiter has moved on and
    // perhaps shut that runtime down.
    pre.clear();
    post.clear();
    {
        std::lock_guard<std::mutex> plock(progress_mutex_);
        std::lock_guard<std::mutex> lock(large_mutex_);
        large_responses_.clear();
        buffers_->detach_engine();
        {
            std::lock_guard<std::mutex> reg(registry_mutex_);
            registry_.clear();  // handlers may hold references back to their owners
        }
        ep_.reset();  // closes the endpoint; its posted receives will never complete
        posted_list_.delete_all();
    }
    {
        std::lock_guard<std::mutex> lock(state_mutex_);
        state_.store(kFinalized);
    }
    state_cv_.notify_all();
}

void EngineImpl::wait_for_finalize() {
    std::unique_lock<std::mutex> lock(state_mutex_);
    state_cv_.wait(lock, [&] { return state_.load() == kFinalized; });
}

void EngineImpl::cancel_all_pending() {
    std::unordered_map<uint64_t, std::shared_ptr<PendingCall>> pending;
    {
        std::lock_guard<std::mutex> lock(pending_mutex_);
        pending.swap(pending_);
    }
    for (auto& [seq, call] : pending) {
        call->status = Status::Canceled;
        call->done.set();
    }
}

// ---------------------------------------------------------------- logging

namespace {
std::mutex g_log_mutex;
LogSink g_log_sink;
std::atomic<LogLevel> g_log_level{LogLevel::Warning};
const char* level_name(LogLevel l) {
    static const char* names[] = {"external", "trace", "debug", "info", "warning", "error", "critical"};
    return names[static_cast<int>(l)];
}
}  // namespace

void EngineImpl::set_log_sink(LogSink sink) {
    std::lock_guard<std::mutex> lock(log_mutex_);
    log_sink_ = std::move(sink);
}

void EngineImpl::log(LogLevel level, const std::string& msg) {
    LogSink sink;
    {
        std::lock_guard<std::mutex> lock(log_mutex_);
        sink = log_sink_;
    }
    if (!sink) {
        log_global(level, msg);
        return;
    }
    if (level < log_level_.load()) return;
    sink(level, msg);
}

}  // namespace mochi::margo::detail

namespace mochi::margo {

void set_global_log_sink(LogSink sink) {
    std::lock_guard<std::mutex> lock(detail::g_log_mutex);
    detail::g_log_sink = std::move(sink);
}
void set_global_log_level(LogLevel level) { detail::g_log_level = level; }
void log_global(LogLevel level, const std::string& msg) {
    if (level < detail::g_log_level.load()) return;
    LogSink sink;
    {
        std::lock_guard<std::mutex> lock(detail::g_log_mutex);
        sink = detail::g_log_sink;
    }
    if (sink)
        sink(level, msg);
    else
        fprintf(stderr, "[kinako] [%s] %s\n", detail::level_name(level), msg.c_str());
}

}  // namespace mochi::margo
