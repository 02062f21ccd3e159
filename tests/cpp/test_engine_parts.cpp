// Small building blocks of the engine's request path (src/margo/): Task, the pool's work item
// that keeps small callables inline; OutMessage, a message built on the stack that spills to
// the heap when it outgrows its buffer; SourceCache, the recent-peer table; and Eventual's
// fast set() when nobody sleeps on it.
#include "../../src/margo/eventual.hpp"
#include "../../src/margo/handler_cache.hpp"
#include "../../src/margo/out_message.hpp"
#include "../../src/margo/source_cache.hpp"
#include "../../src/margo/task.hpp"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

using kinako::margo::Eventual;
using kinako::margo::HandlerCache;
using kinako::margo::MsgHeader;
using kinako::margo::OutMessage;
using kinako::margo::SourceCache;
using kinako::margo::Task;

namespace {

TEST(EngineTask, RunsAnInlineCallableAndReleasesWhatItCapturedOnce) {
    auto token = std::make_shared<int>(7);
    int seen = 0;
    {
        Task t([token, &seen] { seen = *token; });
        EXPECT_EQ(token.use_count(), 2);
        Task moved(std::move(t));
        EXPECT_FALSE(t);
        EXPECT_TRUE(moved);
        EXPECT_EQ(token.use_count(), 2);  // moved, not copied
        moved();
        EXPECT_EQ(seen, 7);
        moved = nullptr;
        EXPECT_FALSE(moved);
        EXPECT_EQ(token.use_count(), 1);
    }
    EXPECT_EQ(token.use_count(), 1);
}

TEST(EngineTask, KeepsACallableTooBigForItsBufferOnTheHeap) {
    auto token = std::make_shared<int>(1);
    std::array<char, 200> big{};
    big[199] = 'z';
    char seen = 0;
    Task t([token, big, &seen] { seen = big[199]; });
    EXPECT_EQ(token.use_count(), 2);
    Task other;
    other = std::move(t);
    other();
    EXPECT_EQ(seen, 'z');
    other.reset();
    EXPECT_EQ(token.use_count(), 1);
}

TEST(EngineTask, MoveAssignmentDropsTheOldCallable) {
    auto a = std::make_shared<int>(1), b = std::make_shared<int>(2);
    Task ta([a] {}), tb([b] {});
    ta = std::move(tb);
    EXPECT_EQ(a.use_count(), 1);
    EXPECT_EQ(b.use_count(), 2);
}

MsgHeader header_with(uint64_t seq) {
    MsgHeader h{};
    h.magic = kinako::margo::kMagic;
    h.seq = seq;
    return h;
}

TEST(EngineOutMessage, BuildsASmallMessageInPlace) {
    OutMessage m(header_with(42), 10);
    m.append("hello");
    m.append(std::string_view("12345"));
    ASSERT_EQ(m.size(), sizeof(MsgHeader) + 10);
    EXPECT_EQ(m.header()->seq, 42u);
    EXPECT_EQ(std::string(m.data() + sizeof(MsgHeader), 10), "hello12345");
    std::string owned = m.take();
    EXPECT_EQ(owned.size(), m.size());
    EXPECT_EQ(reinterpret_cast<const MsgHeader*>(owned.data())->seq, 42u);
}

TEST(EngineOutMessage, SpillsToTheHeapWithoutLosingBytes) {
    // Announced small, then grown past the inline buffer: the bytes so far move over.
    OutMessage m(header_with(5), 8);
    std::string a(100, 'a'), b(OutMessage::kInline, 'b');
    m.append(a);
    m.header()->rpc_id = 99;  // written before the spill, read after it
    m.append(b);
    ASSERT_EQ(m.size(), sizeof(MsgHeader) + a.size() + b.size());
    EXPECT_EQ(m.header()->seq, 5u);
    EXPECT_EQ(m.header()->rpc_id, 99u);
    EXPECT_EQ(std::string(m.data() + sizeof(MsgHeader), a.size()), a);
    EXPECT_EQ(std::string(m.data() + sizeof(MsgHeader) + a.size(), b.size()), b);
    const char* before = m.data();
    std::string owned = m.take();
    EXPECT_EQ(owned.data(), before);  // a heap message is handed over, not copied
}

TEST(EngineOutMessage, ABigMessageAnnouncedUpFrontStartsOnTheHeap) {
    std::string payload(4 * OutMessage::kInline, 'p');
    OutMessage m(header_with(1), payload.size());
    m.append(payload);
    EXPECT_EQ(std::string(m.data() + sizeof(MsgHeader), payload.size()), payload);
}

TEST(EngineSourceCache, FindsByBytesAndForgetsOlderGenerations) {
    SourceCache cache;
    auto raw = std::make_shared<const std::string>("peer-address-1234567890");
    EXPECT_EQ(cache.find(*raw, 0), nullptr);
    cache.add(raw, 17, 0);
    std::string same_bytes = *raw;  // another buffer holding the same address
    const SourceCache::Entry* e = cache.find(same_bytes, 0);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->fi, 17u);
    EXPECT_EQ(e->raw, raw);  // the shared string, not a copy
    EXPECT_EQ(cache.find(same_bytes, 1), nullptr);  // the endpoint forgot an address since
    EXPECT_EQ(cache.find("peer-address-1234567899", 0), nullptr);
    EXPECT_EQ(cache.find("peer-address", 0), nullptr);
}

TEST(EngineSourceCache, ReplacesTheOldestEntryWhenFull) {
    SourceCache cache;
    std::vector<std::shared_ptr<const std::string>> peers;
    for (int i = 0; i < 9; i++) {
        peers.push_back(std::make_shared<const std::string>("peer-" + std::to_string(i)));
        cache.add(peers.back(), i, 0);
    }
    EXPECT_EQ(cache.find("peer-0", 0), nullptr);  // the first one made room for the ninth
    for (int i = 1; i < 9; i++) {
        auto* e = cache.find("peer-" + std::to_string(i), 0);
        ASSERT_NE(e, nullptr) << i;
        EXPECT_EQ(e->fi, uint64_t(i));
    }
}

TEST(EngineHandlerCache, HitsOnlyTheSameRpcProviderAndGeneration) {
    HandlerCache<std::string> cache;
    auto echo = std::make_shared<std::string>("echo");
    EXPECT_EQ(cache.find(1, 0, 0), nullptr);
    cache.add(1, 0, 0, echo);
    ASSERT_EQ(cache.find(1, 0, 0), echo);
    EXPECT_EQ(cache.find(1, 1, 0), nullptr);  // another provider id
    EXPECT_EQ(cache.find(2, 0, 0), nullptr);  // another RPC
    EXPECT_EQ(cache.find(1, 0, 1), nullptr);  // the registry changed since
}

TEST(EngineHandlerCache, DoesNotKeepADeregisteredEntryAlive) {
    HandlerCache<std::string> cache;
    auto entry = std::make_shared<std::string>("handler");
    std::weak_ptr<std::string> watch = entry;
    cache.add(7, 3, 5, entry);
    entry.reset();  // the registry let it go
    EXPECT_TRUE(watch.expired());
    EXPECT_EQ(cache.find(7, 3, 5), nullptr);
}

TEST(EngineEventual, WakesAThreadThatSleepsOnIt) {
    // Many rounds so that set() lands on each side of the sleeper's registration.
    for (int round = 0; round < 2000; round++) {
        Eventual ev;
        std::thread setter([&] { ev.set(); });
        EXPECT_TRUE(ev.wait_until(std::chrono::steady_clock::now() + std::chrono::seconds(10))) << "round " << round;
        setter.join();
    }
}

TEST(EngineEventual, WaitUntilTimesOutWhenNeverSet) {
    Eventual ev;
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_FALSE(ev.wait_until(t0 + std::chrono::milliseconds(20)));
    EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(20));
    ev.set();
    EXPECT_TRUE(ev.ready());
    EXPECT_TRUE(ev.wait_until(t0));
}

}  // namespace
