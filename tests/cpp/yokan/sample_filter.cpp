// A third-party filter library for the LIB_FILTER tests (libkinako-yokan-sample-filter.so):
//   length_between  args "min,max": key/value pairs whose value has min..max bytes;
//                   documents of min..max bytes
//   upper           every pair, keys returned upper-cased; with args "X", only keys
//                   containing X
//   throws          its check() throws, to test that the provider reports it
//   bad_args        its constructor always throws
#include <mochi/yokan/filter.hpp>

#include <cctype>
#include <stdexcept>
#include <string>

namespace {

using mochi::yokan::DocFilter;
using mochi::yokan::KeyValueFilter;

std::pair<size_t, size_t> parse_range(std::string_view args) {
    size_t comma = args.find(',');
    if (comma == std::string_view::npos) throw std::invalid_argument("length_between expects \"min,max\"");
    try {
        return {std::stoul(std::string(args.substr(0, comma))), std::stoul(std::string(args.substr(comma + 1)))};
    } catch (const std::logic_error&) {
        throw std::invalid_argument("length_between expects \"min,max\", got \"" + std::string(args) + "\"");
    }
}

class LengthBetween : public KeyValueFilter, public DocFilter {
  public:
    LengthBetween(int32_t mode, std::string_view args)
    : KeyValueFilter(mode, args), DocFilter(mode, args), range_(parse_range(args)) {}
    bool requires_value() const override { return true; }
    bool check(std::string_view, std::string_view value) override { return in_range(value.size()); }
    bool check(std::string_view, uint64_t, std::string_view doc) override { return in_range(doc.size()); }

  private:
    bool in_range(size_t n) const { return n >= range_.first && n <= range_.second; }
    std::pair<size_t, size_t> range_;
};

class Upper : public KeyValueFilter {
  public:
    using KeyValueFilter::KeyValueFilter;
    bool check(std::string_view key, std::string_view) override {
        return args().empty() || key.find(args()) != std::string_view::npos;
    }
    size_t key_copy(char* dst, size_t max, std::string_view key) const override {
        size_t n = std::min(max, key.size());
        for (size_t i = 0; i < n; ++i) dst[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(key[i])));
        return n;
    }
};

class Throws : public KeyValueFilter {
  public:
    using KeyValueFilter::KeyValueFilter;
    bool check(std::string_view key, std::string_view) override {
        throw std::runtime_error("sample filter refuses key " + std::string(key));
    }
};

class BadArgs : public KeyValueFilter {
  public:
    BadArgs(int32_t mode, std::string_view args) : KeyValueFilter(mode, args) {
        throw std::invalid_argument("bad_args never accepts \"" + std::string(args) + "\"");
    }
    bool check(std::string_view, std::string_view) override { return true; }
};

}  // namespace

KINAKO_YOKAN_REGISTER_FILTER(length_between, LengthBetween);
KINAKO_YOKAN_REGISTER_FILTER(upper, Upper);
KINAKO_YOKAN_REGISTER_FILTER(throws, Throws);
KINAKO_YOKAN_REGISTER_FILTER(bad_args, BadArgs);
