// Unit tests of Warabi internals: the wire reader, targets used directly, the I/O pool,
// malformed requests over RPC, and the pipeline transfer manager under contention.
#include <mochi/warabi/client.hpp>
#include <mochi/warabi/provider.hpp>
#include <mochi/warabi/target.hpp>

#include "../../../src/warabi/io_pool.hpp"
#include "../../../src/warabi/protocol.hpp"
#include "../../../src/warabi/remote_target.hpp"

#include <gtest/gtest.h>

#include "../common/temp_dir.hpp"
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

using namespace mochi;
using nlohmann::json;
using warabi::ErrorCode;

namespace {


std::string tmpdir() {
    static kinako::testing::TempDir dir("kinako-warabi-gtest");  // one per test process
    return dir.str();
}

template <typename F>
ErrorCode code_of(F f) {
    try {
        f();
    } catch (const warabi::Exception& e) {
        return e.code();
    }
    return ErrorCode::Success;
}

json target_cfg(const std::string& type, const std::string& name) {
    if (type == "memory") return json::object();
    if (type == "abtio") return {{"path", tmpdir() + "/" + name}, {"create_if_missing", true}};
    return {{"path", tmpdir() + "/" + name}, {"create_if_missing_with_size", 16 << 20}};
}

}  // namespace

TEST(WarabiWire, ReaderChecksBounds) {
    warabi::wire::Writer w;
    w.u<uint32_t>(7).bytes("abc");
    std::string s = w.str();
    warabi::wire::Reader ok(s);
    EXPECT_EQ(ok.u<uint32_t>(), 7u);
    EXPECT_EQ(ok.bytes(), "abc");
    for (size_t cut = 0; cut < s.size(); cut++) {
        warabi::wire::Reader r(std::string_view(s).substr(0, cut));
        EXPECT_EQ(code_of([&] { r.u<uint32_t>(); r.bytes(); }), ErrorCode::MalformedRequest) << cut;
    }
    // A length prefix larger than the message.
    warabi::wire::Writer big;
    big.u<uint64_t>(~0ull);
    warabi::wire::Reader r(big.str());
    EXPECT_EQ(code_of([&] { r.bytes(); }), ErrorCode::MalformedRequest);
}

TEST(WarabiIoPool, RunsJobsAndPropagatesErrors) {
    warabi::detail::IoPool pool(2);
    int x = 0;
    pool.run([&] { x = 42; });
    EXPECT_EQ(x, 42);
    EXPECT_THROW(pool.run([] { throw std::runtime_error("boom"); }), std::runtime_error);
    std::vector<std::thread> ts;
    std::atomic<int> n{0};
    for (int i = 0; i < 8; i++)
        ts.emplace_back([&] {
            for (int k = 0; k < 100; k++) pool.run([&] { n++; });
        });
    for (auto& t : ts) t.join();
    EXPECT_EQ(n.load(), 800);
}

class TargetTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TargetTest, CreateWriteReadEraseList) {
    static int counter = 0;
    std::string name = GetParam() + std::to_string(counter++);
    auto t = warabi::TargetRegistry::create(GetParam(), target_cfg(GetParam(), name));
    auto a = t->create(1000), b = t->create(0), c = t->create(5 << 20);
    EXPECT_EQ(t->region_size(a), 1000u);
    EXPECT_EQ(t->region_size(b), 0u);
    std::string data(5 << 20, 'q');
    t->write(c, 0, data.data(), data.size());
    t->write(a, 990, "0123456789", 10);
    char out[10];
    t->read(a, 990, out, 10);
    EXPECT_EQ(std::string(out, 10), "0123456789");
    std::string back(data.size(), 0);
    t->read(c, 0, back.data(), back.size());
    EXPECT_EQ(back, data);
    t->persist(c, 0, data.size());
    EXPECT_EQ(t->list().size(), 3u);
    t->erase(b);
    EXPECT_EQ(t->list().size(), 2u);
    EXPECT_EQ(code_of([&] { t->region_size(b); }), ErrorCode::InvalidRegion);
    warabi::RegionID junk;
    junk.fill(0xee);
    EXPECT_EQ(code_of([&] { t->read(junk, 0, out, 1); }), ErrorCode::InvalidRegion);
    EXPECT_EQ(code_of([&] { t->erase(junk); }), ErrorCode::InvalidRegion);
    EXPECT_EQ(code_of([&] { t->read(a, 995, out, 10); }), ErrorCode::OutOfRange);
}

INSTANTIATE_TEST_SUITE_P(AllTargets, TargetTest, ::testing::Values("memory", "abtio", "pmdk"));

TEST(WarabiTargets, PersistentTargetsReopen) {
    for (std::string type : {"abtio", "pmdk"}) {
        json cfg = target_cfg(type, "reopen-" + type);
        warabi::RegionID keep, dropped;
        {
            auto t = warabi::TargetRegistry::create(type, cfg);
            keep = t->create(100);
            t->write(keep, 0, "persisted!", 10);
            t->persist(keep, 0, 10);
            dropped = t->create(50);
            t->erase(dropped);
        }
        auto t = warabi::TargetRegistry::create(type, cfg);
        ASSERT_EQ(t->list().size(), 1u) << type;
        EXPECT_EQ(t->list()[0].id, keep);
        char out[10];
        t->read(keep, 0, out, 10);
        EXPECT_EQ(std::string(out, 10), "persisted!");
        EXPECT_EQ(code_of([&] { t->region_size(dropped); }), ErrorCode::InvalidRegion);
    }
}

TEST(WarabiTargets, AbtioStopsAtACorruptRecord) {
    json cfg = target_cfg("abtio", "corrupt");
    warabi::RegionID first, second;
    {
        auto t = warabi::TargetRegistry::create("abtio", cfg);
        first = t->create(10);
        second = t->create(10);
    }
    // Flip a byte of the second record (right after the first region's data): it is dropped,
    // the first region is kept, and new regions reuse the space.
    std::fstream f(cfg["path"].get<std::string>(), std::ios::in | std::ios::out | std::ios::binary);
    uint64_t data_offset;
    memcpy(&data_offset, first.data(), 8);
    uint64_t second_record = (data_offset + 10 + 63) / 64 * 64;
    f.seekp(second_record + 9);
    f.put('\x5a');
    f.close();
    auto t = warabi::TargetRegistry::create("abtio", cfg);
    EXPECT_EQ(t->list().size(), 1u);
    EXPECT_NO_THROW(t->region_size(first));
    EXPECT_EQ(code_of([&] { t->region_size(second); }), ErrorCode::InvalidRegion);
    auto third = t->create(10);
    EXPECT_NO_THROW(t->region_size(third));
}

TEST(WarabiTargets, RegistryKnowsAllTypes) {
    auto types = warabi::TargetRegistry::types();
    for (const char* t : {"memory", "abtio", "pmdk", "pmem"})
        EXPECT_NE(std::find(types.begin(), types.end(), t), types.end()) << t;
    EXPECT_EQ(code_of([] { warabi::TargetRegistry::create("nope", json::object()); }), ErrorCode::InvalidConfig);
}

class WarabiRpc : public ::testing::Test {
  protected:
    void SetUp() override {
        setenv("FI_TCP_IFACE", "lo", 0);
        engine = margo::Engine("na+sm", margo::Mode::Server, R"({"rpc_thread_count": 2})");
    }
    void TearDown() override { engine.finalize(); }
    margo::Engine engine;
};

TEST_F(WarabiRpc, MalformedRequestsGetErrorsAndTheServerKeepsServing) {
    warabi::Provider provider(engine, 3, R"({"target":{"type":"memory"}})");
    auto self = engine.self();
    for (const char* name : {"warabi_create", "warabi_write", "warabi_write_eager", "warabi_persist",
                             "warabi_create_write", "warabi_create_write_eager", "warabi_read", "warabi_read_eager",
                             "warabi_erase", "warabi_migrate", "warabi_install_target"}) {
        for (std::string junk : {std::string(), std::string("x"), std::string(100, '\xff')}) {
            auto resp = engine.forward(self, name, junk, 3);
            warabi::wire::Reader r(resp.output());
            auto code = static_cast<ErrorCode>(r.u<uint8_t>());
            EXPECT_NE(code, ErrorCode::Success) << name;
        }
    }
    // A write whose bulk handle is garbage.
    warabi::wire::Writer w;
    w.id(warabi::RegionID{}).u<uint64_t>(0).u<uint64_t>(10).bytes("not a bulk").u<uint8_t>(0);
    warabi::Client client(engine);
    auto t = client.make_target_handle(self.to_string(), 3);
    auto region = t.create(10);
    w = warabi::wire::Writer();
    w.id(region).u<uint64_t>(0).u<uint64_t>(10).bytes("not a bulk").u<uint8_t>(0);
    auto resp = engine.forward(self, "warabi_write", w.str(), 3);
    warabi::wire::Reader r(resp.output());
    EXPECT_EQ(static_cast<ErrorCode>(r.u<uint8_t>()), ErrorCode::MalformedRequest);
    t.write(region, 0, "still fine", 10);
    char out[10];
    t.read(region, 0, out, 10);
    EXPECT_EQ(std::string(out, 10), "still fine");
}

TEST_F(WarabiRpc, PipelineWithOneBufferServesConcurrentRequests) {
    warabi::Provider provider(engine, 4, R"({"target":{"type":"memory"},"transfer_manager":{"type":"pipeline",
        "config":{"num_pools":1,"num_buffers_per_pool":1,"first_buffer_size":4096,"buffer_size_multiplier":2}}})");
    warabi::Client client(engine);
    auto t = client.make_target_handle(engine.self(), 4);
    std::vector<std::string> data;
    std::vector<warabi::RegionID> regions;
    for (int i = 0; i < 16; i++) {
        data.push_back(std::string(100000 + i, char('a' + i)));
        regions.push_back(t.create(data.back().size()));
    }
    std::vector<warabi::AsyncRequest> reqs;
    for (int i = 0; i < 16; i++) reqs.push_back(t.write_async(regions[i], 0, data[i].data(), data[i].size()));
    for (auto& r : reqs) r.wait();
    std::vector<std::string> outs(16);
    reqs.clear();
    for (int i = 0; i < 16; i++) {
        outs[i].resize(data[i].size());
        reqs.push_back(t.read_async(regions[i], 0, outs[i].data(), outs[i].size()));
    }
    for (auto& r : reqs) r.wait();
    EXPECT_EQ(outs, data);
    auto cfg = json::parse(provider.get_config());
    EXPECT_EQ(cfg["transfer_manager"]["config"]["num_buffers_per_pool"], 1);
}

TEST_F(WarabiRpc, ClientErrors) {
    warabi::Provider provider(engine, 5, R"({"target":{"type":"memory"}})");
    warabi::Client client(engine);
    EXPECT_EQ(code_of([&] { client.make_target_handle(engine.self(), 6); }), ErrorCode::NoProvider);
    auto t = client.make_target_handle(engine.self(), 5);
    auto region = t.create_and_write("abc", 3, true);
    char buf[8];
    EXPECT_EQ(code_of([&] { t.read(region, 1, buf, 8); }), ErrorCode::OutOfRange);
    warabi::AsyncCreateRequest none;
    EXPECT_EQ(code_of([&] { none.wait(); }), ErrorCode::InvalidArgument);
    EXPECT_EQ(code_of([] { warabi::TargetHandle().create(1); }), ErrorCode::InvalidArgument);
    EXPECT_EQ(code_of([&] { warabi::Provider(engine, 7, "{not json"); }), ErrorCode::InvalidConfig);
}

// A provider started without a target: data requests get NoTarget, the provider keeps serving.
TEST_F(WarabiRpc, TargetlessProviderAnswersNoTarget) {
    warabi::Provider provider(engine, 8, "{}");
    EXPECT_FALSE(json::parse(provider.get_config()).contains("target"));
    EXPECT_EQ(code_of([&] { provider.target(); }), ErrorCode::NoTarget);
    EXPECT_EQ(code_of([&] { provider.snapshot(tmpdir() + "/never"); }), ErrorCode::NoTarget);
    EXPECT_FALSE(std::filesystem::exists(tmpdir() + "/never"));
    warabi::Client client(engine);
    auto t = client.make_target_handle(engine.self(), 8);
    for (int i = 0; i < 3; i++) {
        try {
            t.create(10);
            ADD_FAILURE() << "create on a target-less provider succeeded";
        } catch (const warabi::Exception& e) {
            EXPECT_EQ(e.code(), ErrorCode::NoTarget);
            EXPECT_STREQ(warabi::error_name(e.code()), "no target");
            EXPECT_NE(std::string(e.what()).find("warabi provider 8 has no target"), std::string::npos) << e.what();
        }
    }
    EXPECT_EQ(code_of([&] { t.create_and_write(std::string(5000, 'x').data(), 5000); }), ErrorCode::NoTarget);
}

// The install RPC, as a migration's source sends it: refused into a provider with a target,
// accepted once into a target-less one, even when two installs race.
TEST_F(WarabiRpc, InstallTargetOnlyIntoATargetlessProvider) {
    warabi::Provider full(engine, 9, R"({"target":{"type":"memory"}})");
    warabi::Provider empty(engine, 10, "{}");
    warabi::Client client(engine);
    auto to_full = client.make_target_handle(engine.self(), 9), to_empty = client.make_target_handle(engine.self(), 10);
    EXPECT_EQ(warabi::detail::remote_target_type(to_full), std::optional<std::string>("memory"));
    EXPECT_EQ(warabi::detail::remote_target_type(to_empty), std::nullopt);
    try {
        warabi::detail::remote_install_target(to_full, "memory", json::object(), std::nullopt);
        ADD_FAILURE() << "installed over an existing target";
    } catch (const warabi::Exception& e) {
        EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
        EXPECT_NE(std::string(e.what()).find("warabi provider 9 already has a \"memory\" target"), std::string::npos)
            << e.what();
    }
    // A bad config is the registry's error, and leaves the provider installable.
    EXPECT_EQ(code_of([&] { warabi::detail::remote_install_target(to_empty, "abtio", json::object(), std::nullopt); }),
              ErrorCode::InvalidConfig);
    static int run = 0;  // fresh pool files under --gtest_repeat
    run++;
    std::atomic<int> ok{0}, refused{0};
    std::vector<std::thread> racers;
    for (int i = 0; i < 2; i++)
        racers.emplace_back([&, i] {
            json cfg = target_cfg("pmdk", "install-race-" + std::to_string(run) + "-" + std::to_string(i));
            ErrorCode c = code_of([&] { warabi::detail::remote_install_target(to_empty, "pmdk", cfg, std::nullopt); });
            (c == ErrorCode::Success ? ok : refused)++;
            EXPECT_TRUE(c == ErrorCode::Success || c == ErrorCode::InvalidArgument) << warabi::error_name(c);
        });
    for (auto& r : racers) r.join();
    EXPECT_EQ(ok.load(), 1);
    EXPECT_EQ(refused.load(), 1);
    EXPECT_EQ(json::parse(empty.get_config())["target"]["type"], "pmdk");
    auto region = to_empty.create_and_write("installed", 9, true);
    char out[9];
    to_empty.read(region, 0, out, 9);
    EXPECT_EQ(std::string(out, 9), "installed");
}

// Provider::migrate into a target-less provider: an abtio target is installed under new_root
// with merge_config applied; remove_source leaves the source without a target or file.
TEST_F(WarabiRpc, MigrateInstallsAFileTargetUnderNewRoot) {
    namespace fs = std::filesystem;
    static int run = 0;  // fresh directories under --gtest_repeat
    std::string tag = std::to_string(run++);
    std::string src_dir = tmpdir() + "/mig-src" + tag, dst_dir = tmpdir() + "/mig-dst" + tag;
    fs::create_directories(src_dir);
    fs::create_directories(dst_dir);
    json src_cfg = {{"target", {{"type", "abtio"}, {"config", {{"path", src_dir + "/data.abtio"}, {"create_if_missing", true}}}}}};
    warabi::Provider src(engine, 11, src_cfg.dump());
    warabi::Provider dst(engine, 12, R"({"transfer_manager":{"type":"__default__"}})");
    std::vector<std::string> data = {std::string(), std::string(100, 'a'), std::string(3 << 20, 'b')};
    std::vector<warabi::RegionID> ids;
    for (auto& d : data) {
        ids.push_back(src.target().create(d.size()));
        src.target().write(ids.back(), 0, d.data(), d.size());
    }
    warabi::MigrationOptions opt;
    opt.transfer_size = 1 << 20;
    opt.new_root = dst_dir + "/missing";
    EXPECT_EQ(code_of([&] { src.migrate(engine.self().to_string(), 12, opt); }), ErrorCode::InvalidArgument);
    EXPECT_EQ(src.target().list().size(), data.size());  // nothing moved, nothing erased
    opt.new_root = dst_dir;
    opt.merge_config = {{"alignment", 4096}};
    auto result = src.migrate(engine.self().to_string(), 12, opt);
    ASSERT_EQ(result.size(), data.size());
    auto cfg = json::parse(dst.get_config())["target"];
    EXPECT_EQ(cfg["type"], "abtio");
    EXPECT_EQ(cfg["config"]["path"], dst_dir + "/data.abtio");
    EXPECT_EQ(cfg["config"]["alignment"], 4096);
    for (auto& [from, to] : result) {
        size_t i = std::find(ids.begin(), ids.end(), from) - ids.begin();
        ASSERT_LT(i, ids.size());
        std::string back(data[i].size(), '\0');
        dst.target().read(to, 0, back.data(), back.size());
        EXPECT_EQ(back, data[i]) << i;
    }
    EXPECT_EQ(code_of([&] { src.target(); }), ErrorCode::NoTarget);
    EXPECT_FALSE(json::parse(src.get_config()).contains("target"));
    EXPECT_FALSE(fs::exists(src_dir + "/data.abtio"));
    EXPECT_TRUE(fs::exists(dst_dir + "/data.abtio"));
}
