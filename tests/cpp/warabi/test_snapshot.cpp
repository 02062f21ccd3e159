// Provider snapshots: every region to one file and back, ids kept where the target can, and
// damaged files refused before anything changes.
#include <mochi/warabi/provider.hpp>
#include <mochi/warabi/target.hpp>

#include <gtest/gtest.h>

#include "../common/temp_dir.hpp"
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
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
