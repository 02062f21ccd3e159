// WAIT/NOTIFY for every backend: a request waiting for a key parks its fiber on a condition
// variable of that key (no thread is held, so thousands can wait); a put with NOTIFY bumps
// the key's generation and wakes them all. A waiter takes a ticket *before* it checks the
// backend, so a put that lands between the check and the wait is never missed.
#pragma once

#include <boost/fiber/condition_variable.hpp>
#include <boost/fiber/mutex.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace mochi::yokan::detail {

class KeyWatcher {
  public:
    struct Entry {
        uint64_t generation = 0;
        size_t waiters = 0;
        boost::fibers::condition_variable_any cv;
    };
    struct Ticket {
        std::string key;
        std::shared_ptr<Entry> entry;
        uint64_t generation = 0;
    };
    enum class Outcome { Notified, TimedOut, Closed };

    Ticket prepare(std::string_view key) {
        std::lock_guard<boost::fibers::mutex> lock(mutex_);
        auto& e = entries_[std::string(key)];
        if (!e) e = std::make_shared<Entry>();
        e->waiters++;
        return Ticket{std::string(key), e, e->generation};
    }

    // Parks until the key is notified after the ticket was taken, the deadline passes
    // (timeout_ms <= 0: none) or the watcher is closed. Consumes the ticket.
    Outcome wait(Ticket& t, double timeout_ms) {
        std::unique_lock<boost::fibers::mutex> lock(mutex_);
        auto ready = [&] { return closed_ || t.entry->generation != t.generation; };
        bool ok = true;
        if (timeout_ms > 0) {
            auto deadline = std::chrono::steady_clock::now() +
                            std::chrono::microseconds(static_cast<int64_t>(timeout_ms * 1000));
            ok = t.entry->cv.wait_until(lock, deadline, ready);
        } else {
            t.entry->cv.wait(lock, ready);
        }
        Outcome o = closed_ ? Outcome::Closed : (ok ? Outcome::Notified : Outcome::TimedOut);
        release_locked(t);
        return o;
    }

    // Gives the ticket back without waiting (the key was there).
    void cancel(Ticket& t) {
        std::lock_guard<boost::fibers::mutex> lock(mutex_);
        release_locked(t);
    }

    void notify(std::string_view key) {
        std::lock_guard<boost::fibers::mutex> lock(mutex_);
        if (entries_.empty()) return;
        auto it = entries_.find(std::string(key));
        if (it == entries_.end()) return;
        it->second->generation++;
        it->second->cv.notify_all();
    }

    void close() {
        std::lock_guard<boost::fibers::mutex> lock(mutex_);
        closed_ = true;
        for (auto& [k, e] : entries_) e->cv.notify_all();
    }

  private:
    void release_locked(Ticket& t) {
        if (!t.entry) return;
        if (--t.entry->waiters == 0) {
            auto it = entries_.find(t.key);
            if (it != entries_.end() && it->second == t.entry) entries_.erase(it);
        }
        t.entry.reset();
    }

    boost::fibers::mutex mutex_;
    std::unordered_map<std::string, std::shared_ptr<Entry>> entries_;
    bool closed_ = false;
};

}  // namespace mochi::yokan::detail
