// Provider snapshots: every region to one file and back, ids kept where the target can, and
// damaged files refused before anything changes; restores that install a target into a
// provider without one.
#include <mochi/warabi/provider.hpp>
#include <mochi/warabi/target.hpp>

#include <gtest/gtest.h>

#include "../common/temp_dir.hpp"
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

using namespace mochi;
using nlohmann::json;
using warabi::ErrorCode;
namespace fs = std::filesystem;

namespace {


std::string provider_cfg(const std::string& type, const std::string& file) {
    json t = json::object();
    if (type == "abtio") t = {{"path", file}, {"create_if_missing", true}};
    if (type == "pmdk") t = {{"path", file}, {"create_if_missing_with_size", 64 << 20}};
    return json{{"target", {{"type", type}, {"config", t}}}}.dump();
}

std::string pattern(size_t n, char seed) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; i++) s[i] = char(seed + i * 7);
    return s;
}

std::map<std::string, std::string> contents(warabi::Target& t) {  // hex id -> bytes
    std::map<std::string, std::string> out;
    for (auto& r : t.list()) {
        std::string data(r.size, '\0');
        t.read(r.id, 0, data.data(), r.size);
        out[warabi::to_hex(r.id)] = data;
    }
    return out;
}

std::multiset<std::string> values(warabi::Target& t) {
    std::multiset<std::string> out;
    for (auto& [id, data] : contents(t)) out.insert(data);
    return out;
}


class SnapshotTest : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override { engine = margo::Engine("na+sm", margo::Mode::Server); }
    void TearDown() override { engine.finalize(); }
    margo::Engine engine;
    kinako::testing::TempDir dir{"kinako-warabi-snap"};
    uint16_t next_id = 1;
    std::unique_ptr<warabi::Provider> make(const std::string& type) {
        std::string file = dir.str() + "/target" + std::to_string(next_id);
        return std::make_unique<warabi::Provider>(engine, next_id++, provider_cfg(type, file));
    }
};

}  // namespace

TEST_P(SnapshotTest, RoundTripIntoEveryTargetType) {
    auto src = make(GetParam());
    auto& t = src->target();
    std::vector<warabi::RegionID> ids;
    for (size_t size : {size_t(0), size_t(1), size_t(4096), size_t(5 << 20) + 3, size_t(100)})
        ids.push_back(t.create(size));
    for (size_t i = 0; i < ids.size(); i++) {
        auto data = pattern(t.region_size(ids[i]), char('a' + i));
        t.write(ids[i], 0, data.data(), data.size());
    }
    t.erase(ids[2]);  // a hole: erased regions are not in the snapshot
    auto before = contents(t);
    ASSERT_EQ(before.size(), 4u);
    src->snapshot(dir.str() + "/snap");
    EXPECT_EQ(contents(t), before);  // the source is untouched without remove_source

    for (std::string type : {"memory", "abtio", "pmdk"}) {
        auto dst = make(type);
        auto mapping = dst->restore(dir.str() + "/snap");
        ASSERT_EQ(mapping.size(), 4u) << type;
        EXPECT_EQ(values(dst->target()), values(t)) << type;
        for (auto& [old_id, new_id] : mapping) {
            std::string a(t.region_size(old_id), '\0'), b(dst->target().region_size(new_id), '\0');
            t.read(old_id, 0, a.data(), a.size());
            dst->target().read(new_id, 0, b.data(), b.size());
            EXPECT_EQ(a, b) << type;
            if (type == "memory" && GetParam() == "memory") EXPECT_EQ(old_id, new_id);  // ids kept
        }
    }
}

TEST_P(SnapshotTest, RemoveSourceErasesAfterWriting) {
    auto src = make(GetParam());
    auto id = src->target().create(10);
    src->target().write(id, 0, "0123456789", 10);
    src->snapshot(dir.str() + "/snap", /*remove_source=*/true);
    EXPECT_TRUE(src->target().list().empty());
    auto dst = make("memory");
    dst->restore(dir.str() + "/snap");
    ASSERT_EQ(dst->target().list().size(), 1u);
    EXPECT_EQ(contents(dst->target()).begin()->second, "0123456789");
}

INSTANTIATE_TEST_SUITE_P(Targets, SnapshotTest, ::testing::Values("memory", "abtio", "pmdk"));

TEST(WarabiSnapshot, TakenIdsGetNewOnesInMemory) {
    margo::Engine engine("na+sm", margo::Mode::Server);
    kinako::testing::TempDir dir{"kinako-warabi-snap"};
    {
        warabi::Provider a(engine, 1, provider_cfg("memory", ""));
        auto id = a.target().create(3);
        a.target().write(id, 0, "abc", 3);
        a.snapshot(dir.str());
        auto mapping = a.restore(dir.str());  // restoring into itself: the id is taken
        ASSERT_EQ(mapping.size(), 1u);
        EXPECT_NE(mapping[0].second, id);
        EXPECT_EQ(a.target().list().size(), 2u);
        std::string got(3, '\0');
        a.target().read(mapping[0].second, 0, got.data(), 3);
        EXPECT_EQ(got, "abc");
    }
    engine.finalize();
}

TEST(WarabiSnapshot, DamagedFilesChangeNothing) {
    margo::Engine engine("na+sm", margo::Mode::Server);
    kinako::testing::TempDir dir{"kinako-warabi-snap"};
    {
        warabi::Provider src(engine, 1, provider_cfg("memory", ""));
        for (int i = 0; i < 3; i++) {
            auto id = src.target().create(1000);
            auto data = pattern(1000, char(i));
            src.target().write(id, 0, data.data(), data.size());
        }
        src.snapshot(dir.str() + "/good");
        std::string file = dir.str() + "/good/warabi.snapshot";
        auto size = fs::file_size(file);
        warabi::Provider dst(engine, 2, provider_cfg("memory", ""));

        auto variant = [&](const std::string& name, auto&& edit) {
            fs::create_directories(dir.str() + "/" + name);
            std::string copy = dir.str() + "/" + name + "/warabi.snapshot";
            fs::copy_file(file, copy);
            edit(copy);
            return dir.str() + "/" + name;
        };
        auto flipped = variant("flipped", [&](const std::string& p) {
            std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
            f.seekp(std::streamoff(size / 2));
            char c;
            f.read(&c, 1);
            f.seekp(std::streamoff(size / 2));
            c ^= 0x20;
            f.write(&c, 1);
        });
        auto truncated = variant("truncated", [&](const std::string& p) { fs::resize_file(p, size - 5); });
        auto no_end = variant("no_end", [&](const std::string& p) { fs::resize_file(p, size - 9); });
        auto garbage = variant("garbage", [&](const std::string& p) { std::ofstream(p) << "not a snapshot"; });
        for (auto& bad : {flipped, truncated, no_end, garbage}) {
            try {
                dst.restore(bad);
                ADD_FAILURE() << bad << " was accepted";
            } catch (const warabi::Exception& e) {
                EXPECT_EQ(e.code(), ErrorCode::InvalidArgument) << bad;
                EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
            }
            EXPECT_TRUE(dst.target().list().empty()) << bad;  // nothing was restored
        }
        try {
            dst.restore(dir.str() + "/missing");
            ADD_FAILURE() << "a missing snapshot was accepted";
        } catch (const warabi::Exception& e) {
            EXPECT_EQ(e.code(), ErrorCode::IoError) << e.what();
        }
        EXPECT_EQ(dst.restore(dir.str() + "/good").size(), 3u);  // the intact file still works
    }
    engine.finalize();
}

// ---------------------------------------------------------------- restore into a provider
// without a target: a target like the snapshot's source is installed first, placed by
// new_root / merge_config as a migration places it.

namespace {

template <typename F>
warabi::Exception error_of(F f) {
    try {
        f();
    } catch (const warabi::Exception& e) {
        return e;
    }
    return warabi::Exception(ErrorCode::Success, "no error");
}

bool has_target(const warabi::Provider& p) { return json::parse(p.get_config()).contains("target"); }

// The same snapshot in the version-1 layout: regions and end record are unchanged, the header
// holds only the type.
void rewrite_as_version_1(const std::string& from, const std::string& to, const std::string& type) {
    std::ifstream in(from, std::ios::binary);
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    uint64_t header_len;
    std::memcpy(&header_len, all.data() + 16, 8);
    std::string rest = all.substr(16 + 8 + header_len + 8);
    std::string out = all.substr(0, 8);
    uint32_t version = 1, zero = 0;
    uint64_t type_len = type.size();
    out.append(reinterpret_cast<const char*>(&version), 4).append(reinterpret_cast<const char*>(&zero), 4);
    out.append(reinterpret_cast<const char*>(&type_len), 8).append(type).append(rest);
    fs::create_directories(fs::path(to).parent_path());
    std::ofstream(to, std::ios::binary) << out;
}

}  // namespace

TEST_P(SnapshotTest, RestoreInstallsATargetLikeTheSource) {
    const std::string type = GetParam();
    auto src = make(type);
    auto& t = src->target();
    for (size_t size : {size_t(0), size_t(7), size_t(5 << 20) + 1}) {
        auto id = t.create(size);
        auto data = pattern(size, char('k' + size % 5));
        t.write(id, 0, data.data(), data.size());
    }
    src->snapshot(dir.str() + "/snap");
    const std::string source_file = json::parse(src->get_config())["target"]["config"].value("path", "");

    warabi::Provider dst(engine, next_id++, "{}");
    if (type != "memory") {
        // The source is alive on this host: its own file is refused, even with override_if_exists.
        warabi::RestoreOptions over;
        over.merge_config = {{"override_if_exists", true}};
        auto e = error_of([&] { dst.restore(dir.str() + "/snap", over); });
        EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
        EXPECT_NE(std::string(e.what()).find("is the source target's own file: give new_root"), std::string::npos)
            << e.what();
        EXPECT_FALSE(has_target(dst));
        EXPECT_EQ(contents(t).size(), 3u);  // the source is untouched
    }
    fs::create_directories(dir.str() + "/dst");
    warabi::RestoreOptions opt;
    opt.new_root = dir.str() + "/dst";
    if (type == "abtio") opt.merge_config = {{"alignment", 4096}};
    auto mapping = dst.restore(dir.str() + "/snap", opt);
    ASSERT_EQ(mapping.size(), 3u);
    auto cfg = json::parse(dst.get_config())["target"];
    EXPECT_EQ(cfg["type"], type);
    EXPECT_EQ(values(dst.target()), values(t));
    for (auto& [old_id, new_id] : mapping)
        if (type == "memory") EXPECT_EQ(old_id, new_id);  // a fresh memory target keeps every id
    if (type == "memory") {
        EXPECT_EQ(cfg["config"], json::object());
    } else {
        std::string placed = dir.str() + "/dst/" + fs::path(source_file).filename().string();
        EXPECT_EQ(cfg["config"]["path"], placed);
        EXPECT_TRUE(fs::exists(placed));
        EXPECT_EQ(cfg["config"]["override_if_exists"], false);
        if (type == "abtio") EXPECT_EQ(cfg["config"]["alignment"], 4096);
        if (type == "pmdk") EXPECT_GE(cfg["config"]["create_if_missing_with_size"].get<uint64_t>(), uint64_t(64) << 20);
    }
    // It has a target now: a second restore adds to it as restores always did; install options
    // are refused there, since nothing is installed.
    EXPECT_EQ(dst.restore(dir.str() + "/snap").size(), 3u);
    EXPECT_EQ(dst.target().list().size(), 6u);
    auto e = error_of([&] { dst.restore(dir.str() + "/snap", opt); });
    EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("already has a \"" + type + "\" target: new_root and merge_config only apply"),
              std::string::npos)
        << e.what();
    EXPECT_EQ(dst.target().list().size(), 6u);
}

TEST(WarabiSnapshot, FailedRestoresLeaveTheProviderWithoutATarget) {
    margo::Engine engine("na+sm", margo::Mode::Server);
    kinako::testing::TempDir dir{"kinako-warabi-snap"};
    {
        warabi::Provider src(engine, 1, provider_cfg("abtio", dir.str() + "/src.abtio"));
        auto id = src.target().create(4000);
        auto data = pattern(4000, 'q');
        src.target().write(id, 0, data.data(), data.size());
        src.snapshot(dir.str() + "/good");
        warabi::Provider dst(engine, 2, "{}");
        fs::create_directories(dir.str() + "/dst");
        warabi::RestoreOptions opt;
        opt.new_root = dir.str() + "/dst";
        const std::string placed = dir.str() + "/dst/src.abtio";

        // A damaged header (the recorded config) or region: refused before anything is installed.
        std::string file = dir.str() + "/good/warabi.snapshot";
        for (auto [name, at] : {std::pair<std::string, size_t>{"header", 40}, {"data", fs::file_size(file) - 100}}) {
            std::string bad = dir.str() + "/bad-" + name;
            fs::create_directories(bad);
            fs::copy_file(file, bad + "/warabi.snapshot");
            std::fstream f(bad + "/warabi.snapshot", std::ios::in | std::ios::out | std::ios::binary);
            f.seekg(std::streamoff(at));
            char c;
            f.read(&c, 1);
            c ^= 0x01;
            f.seekp(std::streamoff(at));
            f.write(&c, 1);
            f.close();
            auto e = error_of([&] { dst.restore(bad, opt); });
            EXPECT_EQ(e.code(), ErrorCode::InvalidArgument) << name;
            EXPECT_NE(std::string(e.what()).find(bad + "/warabi.snapshot\" is damaged"), std::string::npos) << e.what();
            EXPECT_FALSE(has_target(dst)) << name;
            EXPECT_FALSE(fs::exists(placed)) << name;
        }
        // new_root must exist.
        warabi::RestoreOptions missing;
        missing.new_root = dir.str() + "/no/such/dir";
        auto e = error_of([&] { dst.restore(dir.str() + "/good", missing); });
        EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
        EXPECT_NE(std::string(e.what()).find("directory \"" + missing.new_root + "\" does not exist"), std::string::npos)
            << e.what();
        EXPECT_NE(std::string(e.what()).find("cannot install a \"abtio\" target into warabi provider 2 to restore"),
                  std::string::npos)
            << e.what();
        EXPECT_FALSE(has_target(dst));
        EXPECT_FALSE(fs::exists(missing.new_root));
        // merge_config must be an object.
        warabi::RestoreOptions list;
        list.merge_config = json::array({1});
        EXPECT_EQ(error_of([&] { dst.restore(dir.str() + "/good", list); }).code(), ErrorCode::InvalidArgument);
        // A file already there is never replaced unless asked.
        std::ofstream(placed) << "someone else's";
        e = error_of([&] { dst.restore(dir.str() + "/good", opt); });
        EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
        EXPECT_NE(std::string(e.what()).find("already exists"), std::string::npos) << e.what();
        EXPECT_EQ(fs::file_size(placed), 14u);
        EXPECT_FALSE(has_target(dst));
        fs::remove(placed);
        // The provider still takes a good snapshot afterwards.
        EXPECT_EQ(dst.restore(dir.str() + "/good", opt).size(), 1u);
        EXPECT_EQ(values(dst.target()), values(src.target()));
    }
    engine.finalize();
}

// Filling the installed target fails (its pool is too small): no target, no pool file left.
TEST(WarabiSnapshot, RestoreThatCannotFillItsTargetRemovesIt) {
    margo::Engine engine("na+sm", margo::Mode::Server);
    kinako::testing::TempDir dir{"kinako-warabi-snap"};
    {
        warabi::Provider src(engine, 1, provider_cfg("memory", ""));
        for (int i = 0; i < 3; i++) {
            auto id = src.target().create(4 << 20);
            auto data = pattern(4 << 20, char(i));
            src.target().write(id, 0, data.data(), data.size());
        }
        src.snapshot(dir.str() + "/snap");
        warabi::Provider dst(engine, 2, "{}");
        warabi::RestoreOptions opt;
        std::string pool = dir.str() + "/small.pmem";
        // A pmdk snapshot of 12 MiB restored into a pool that merge_config makes 8 MiB.
        warabi::Provider pm(engine, 3, provider_cfg("pmdk", dir.str() + "/big.pmem"));
        for (int i = 0; i < 3; i++) {
            auto id = pm.target().create(4 << 20);
            auto data = pattern(4 << 20, char(i));
            pm.target().write(id, 0, data.data(), data.size());
        }
        pm.snapshot(dir.str() + "/pmsnap");
        opt.merge_config = {{"path", pool}, {"create_if_missing_with_size", 8 << 20}};
        auto e = error_of([&] { dst.restore(dir.str() + "/pmsnap", opt); });
        EXPECT_EQ(e.code(), ErrorCode::OutOfSpace) << e.what();
        EXPECT_NE(std::string(e.what()).find("to restore \"" + dir.str() + "/pmsnap/warabi.snapshot\""), std::string::npos)
            << e.what();
        EXPECT_FALSE(has_target(dst));
        EXPECT_FALSE(fs::exists(pool));
        EXPECT_EQ(error_of([&] { dst.target(); }).code(), ErrorCode::NoTarget);
        EXPECT_EQ(dst.restore(dir.str() + "/snap").size(), 3u);  // memory: fits
    }
    engine.finalize();
}

// Version-1 files (type only) still restore: into a target as before, into a target-less
// provider with the config from merge_config (memory needs none).
TEST(WarabiSnapshot, Version1FilesStillRestore) {
    margo::Engine engine("na+sm", margo::Mode::Server);
    kinako::testing::TempDir dir{"kinako-warabi-snap"};
    {
        warabi::Provider src(engine, 1, provider_cfg("abtio", dir.str() + "/src.abtio"));
        auto id = src.target().create(10);
        src.target().write(id, 0, "0123456789", 10);
        src.snapshot(dir.str() + "/v2");
        rewrite_as_version_1(dir.str() + "/v2/warabi.snapshot", dir.str() + "/v1/warabi.snapshot", "abtio");
        rewrite_as_version_1(dir.str() + "/v2/warabi.snapshot", dir.str() + "/v1mem/warabi.snapshot", "memory");

        warabi::Provider full(engine, 2, provider_cfg("memory", ""));
        EXPECT_EQ(full.restore(dir.str() + "/v1").size(), 1u);
        EXPECT_EQ(contents(full.target()).begin()->second, "0123456789");

        warabi::Provider mem(engine, 3, "{}");
        EXPECT_EQ(mem.restore(dir.str() + "/v1mem").size(), 1u);
        EXPECT_EQ(json::parse(mem.get_config())["target"]["type"], "memory");

        warabi::Provider empty(engine, 4, "{}");
        auto e = error_of([&] { empty.restore(dir.str() + "/v1"); });
        EXPECT_EQ(e.code(), ErrorCode::InvalidConfig);
        EXPECT_NE(std::string(e.what()).find("version-1 snapshot does not record its target's config"), std::string::npos)
            << e.what();
        EXPECT_FALSE(has_target(empty));
        warabi::RestoreOptions opt;
        opt.merge_config = {{"path", dir.str() + "/from-v1.abtio"}, {"create_if_missing", true}};
        EXPECT_EQ(empty.restore(dir.str() + "/v1", opt).size(), 1u);
        EXPECT_EQ(json::parse(empty.get_config())["target"]["config"]["path"], dir.str() + "/from-v1.abtio");
        EXPECT_EQ(contents(empty.target()).begin()->second, "0123456789");
    }
    engine.finalize();
}
