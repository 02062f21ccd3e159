// The default filters: a key prefix (or, with SUFFIX, a key suffix) that NO_PREFIX strips from
// the returned keys, and a document prefix.
#include "filter.hpp"

namespace mochi::yokan::detail {

namespace {

class AffixFilter final : public KeyValueFilter {
  public:
    AffixFilter(int32_t mode, std::string_view affix)
    : KeyValueFilter(mode, {}),
      affix_(affix),
      suffix_(mode & YOKAN_MODE_SUFFIX),
      strip_(mode & YOKAN_MODE_NO_PREFIX) {}

    bool check(std::string_view key, std::string_view) override {
        if (key.size() < affix_.size()) return false;
        size_t at = suffix_ ? key.size() - affix_.size() : 0;
        return key.compare(at, affix_.size(), affix_) == 0;
    }
    std::string_view key_prefix() const override { return suffix_ ? std::string_view() : affix_; }
    size_t key_size_from(std::string_view key) const override { return returned(key).size(); }
    size_t key_copy(char* dst, size_t max, std::string_view key) const override {
        return KeyValueFilter::key_copy(dst, max, returned(key));
    }

  private:
    std::string_view returned(std::string_view key) const {
        if (!strip_ || affix_.empty() || key.size() < affix_.size()) return key;
        return suffix_ ? key.substr(0, key.size() - affix_.size()) : key.substr(affix_.size());
    }
    std::string affix_;
    bool suffix_, strip_;
};

class DocPrefixFilter final : public DocFilter {
  public:
    DocPrefixFilter(int32_t mode, std::string_view prefix) : DocFilter(mode, {}), prefix_(prefix) {}
    bool check(std::string_view, uint64_t, std::string_view doc) override {
        return doc.size() >= prefix_.size() && doc.compare(0, prefix_.size(), prefix_) == 0;
    }

  private:
    std::string prefix_;
};

}  // namespace

std::unique_ptr<KeyValueFilter> make_affix_filter(int32_t mode, std::string_view affix) {
    return std::make_unique<AffixFilter>(mode, affix);
}

std::unique_ptr<DocFilter> make_doc_prefix_filter(int32_t mode, std::string_view prefix) {
    return std::make_unique<DocPrefixFilter>(mode, prefix);
}

}  // namespace mochi::yokan::detail
