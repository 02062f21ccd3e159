// KeyLess (the sorted in-memory backends' key order) must agree with std::less on every pair:
// listing order, prefix scans and range erases all depend on it.
#include "../../../src/yokan/backends/key_order.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <string>
#include <vector>

using mochi::yokan::backends::KeyLess;

namespace {

void expect_same_order(const std::string& a, const std::string& b) {
    std::less<std::string_view> ref;
    EXPECT_EQ(KeyLess()(a, b), ref(a, b)) << "a=\"" << a << "\" b=\"" << b << "\"";
    EXPECT_EQ(KeyLess()(b, a), ref(b, a)) << "a=\"" << b << "\" b=\"" << a << "\"";
}

}  // namespace

TEST(YokanKeyOrder, EdgeCases) {
    const std::vector<std::string> keys = {
        "", "a", "b", "ab", "abcdefgh", "abcdefgi", "abcdefghi", "abcdefgh\x01", "key-000000001234",
        "key-000000001235", "key-00000000123", std::string("\x80", 1), std::string("\xff\x00", 2),
        std::string("\x7f", 1), std::string(8, '\0'), std::string(9, '\0'), std::string(16, '\xff'),
        "abcdefgh" + std::string("\x80"), "abcdefgh" + std::string("\x7f"),
    };
    for (const auto& a : keys)
        for (const auto& b : keys) expect_same_order(a, b);
}

TEST(YokanKeyOrder, RandomKeysWithSharedPrefixesAndHighBytes) {
    std::mt19937 rng(12345);
    std::uniform_int_distribution<int> len(0, 40), byte(0, 255), pick(0, 3);
    auto make = [&](const std::string& base) {
        std::string s = pick(rng) ? base.substr(0, std::min<size_t>(base.size(), len(rng))) : std::string();
        for (int n = len(rng) % 12; n > 0; --n) s.push_back(static_cast<char>(pick(rng) ? 'a' + byte(rng) % 3 : byte(rng)));
        return s;
    };
    std::string base = "shared/prefix/of-some-length/";
    for (int i = 0; i < 20000; ++i) expect_same_order(make(base), make(base));
}
