// The xstream scheduler's cross-thread wake-ups (src/margo/scheduler.hpp): work handed to a
// sleeping xstream from a foreign thread, and DeferredWakes, which holds the OS-level wake of
// readied xstreams until Boost.Fiber has released its condition-variable spinlock.
#include "../../src/margo/eventual.hpp"
#include "../../src/margo/scheduler.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

using kinako::margo::DeferredWakes;
using kinako::margo::Eventual;
using kinako::margo::Pool;
using kinako::margo::Xstream;
using Clock = std::chrono::steady_clock;

namespace {

struct Stream {
    std::shared_ptr<Pool> pool = std::make_shared<Pool>("p", "fifo_wait", "mpmc");
    std::unique_ptr<Xstream> xs;
    Stream() {
        xs = std::make_unique<Xstream>("x", std::vector<std::shared_ptr<Pool>>{pool}, 64 * 1024);
        xs->start();
    }
    ~Stream() { xs->stop(); }
};

bool eventually(const std::function<bool()>& cond, std::chrono::seconds limit = std::chrono::seconds(10)) {
    auto end = Clock::now() + limit;
    while (!cond()) {
        if (Clock::now() > end) return false;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return true;
}

}  // namespace

// A foreign thread hands one task at a time to an xstream that goes back to sleep in
// between (the progress loop handing requests to a handler xstream): no wake-up is lost.
TEST(Scheduler, HandOffsToASleepingXstreamAreNeverLost) {
    Stream s;
    for (int i = 0; i < 2000; i++) {
        Eventual done;
        s.pool->push([&] { done.set(); });
        ASSERT_TRUE(done.wait_until(Clock::now() + std::chrono::seconds(10))) << "task " << i << " never ran";
    }
}

// Fibers of more xstreams than a scope keeps track of, readied inside nested scopes, all run
// once the scopes end.
TEST(Scheduler, FibersReadiedInsideNestedDeferredWakesAllRunAfterwards) {
    constexpr int kStreams = 6;  // more than DeferredWakes holds: the extra ones wake at once
    std::vector<std::unique_ptr<Stream>> streams;
    std::vector<Eventual> go(kStreams);
    std::atomic<int> waiting{0}, finished{0};
    for (int i = 0; i < kStreams; i++) {
        streams.push_back(std::make_unique<Stream>());
        streams.back()->pool->push([&, i] {
            waiting++;
            go[i].wait();
            finished++;
        });
    }
    ASSERT_TRUE(eventually([&] { return waiting.load() == kStreams; }));
    {
        DeferredWakes outer;
        for (int i = 0; i < kStreams / 2; i++) go[i].set();
        DeferredWakes inner;
        for (int i = kStreams / 2; i < kStreams; i++) go[i].set();
    }
    EXPECT_TRUE(eventually([&] { return finished.load() == kStreams; })) << finished.load() << " of " << kStreams;
}

// Worker fibers park between tasks and are handed the next one: tasks that block (here on a
// fiber-aware Eventual) still run concurrently, a spike of blocked tasks is served by extra
// workers, what a finished task captured is released at once (not when its worker is reused),
// and stop() ends parked workers instead of hanging the thread's exit.
TEST(Scheduler, ParkedWorkersRunLaterTasksAndEndOnStop) {
    Stream s;
    constexpr int kBlocked = 40;  // more than the idle workers kept
    for (int round = 0; round < 3; round++) {
        Eventual release;
        std::atomic<int> started{0}, finished{0};
        for (int i = 0; i < kBlocked; i++)
            s.pool->push([&] {
                started++;
                release.wait();
                finished++;
            });
        ASSERT_TRUE(eventually([&] { return started.load() == kBlocked; })) << "round " << round;
        EXPECT_EQ(s.xs->task_fibers(), kBlocked);
        release.set();
        ASSERT_TRUE(eventually([&] { return finished.load() == kBlocked; })) << "round " << round;
        ASSERT_TRUE(eventually([&] { return s.xs->task_fibers() == 0; }));
    }
    auto held = std::make_shared<int>(7);
    Eventual ran;
    s.pool->push([held, &ran] { ran.set(); });
    ASSERT_TRUE(ran.wait_until(Clock::now() + std::chrono::seconds(10)));
    EXPECT_TRUE(eventually([&] { return held.use_count() == 1; })) << "a parked worker kept its task's captures";
    auto t0 = Clock::now();
    s.xs->stop();
    EXPECT_LT(Clock::now() - t0, std::chrono::seconds(5));
}

// Fibers in timed waits whose deadline races a set() from another thread, then park as idle
// workers: a stale wake-up from either side must never resume a parked worker (it would leave
// a dangling entry among the idle workers), and every task finishes.
TEST(Scheduler, TimedWaitsRacingRemoteSetsNeverResumeAParkedWorker) {
    Stream s;
    const uint64_t stray_before = Xstream::stray_wakeups();
    constexpr int kRounds = 3000, kTasks = 4;
    std::atomic<int> finished{0};
    uint32_t seed = 12345;
    auto next = [&] { return seed = seed * 1664525u + 1013904223u; };
    for (int round = 0; round < kRounds; round++) {
        std::vector<std::shared_ptr<Eventual>> evs;
        for (int i = 0; i < kTasks; i++) {
            auto ev = std::make_shared<Eventual>();
            evs.push_back(ev);
            auto wait = std::chrono::microseconds(next() % 60);
            s.pool->push([ev, wait, &finished] {
                ev->wait_until(Clock::now() + wait);
                finished++;
            });
        }
        // Set them about when the waits expire, from this (foreign) thread.
        auto until = Clock::now() + std::chrono::microseconds(next() % 60);
        while (Clock::now() < until) {
        }
        for (auto& ev : evs) ev->set();
        ASSERT_TRUE(eventually([&] { return finished.load() == (round + 1) * kTasks; })) << "round " << round;
    }
    EXPECT_EQ(Xstream::stray_wakeups() - stray_before, 0u);
    auto t0 = Clock::now();
    s.xs->stop();
    EXPECT_LT(Clock::now() - t0, std::chrono::seconds(5));
}
