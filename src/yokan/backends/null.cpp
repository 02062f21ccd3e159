// The null backend: accepts every write and stores nothing (for measuring the RPC path).
#include <mochi/yokan/backend.hpp>
#include <mochi/yokan/config_check.hpp>

namespace mochi::yokan::backends {

namespace {
class NullBackend : public Backend {
  public:
    static std::unique_ptr<Backend> create(const nlohmann::json& c) {
        config::object_or_empty("null", c);
        return std::make_unique<NullBackend>();
    }
    std::string type() const override { return "null"; }
    nlohmann::json config() const override { return nlohmann::json::object(); }
    bool is_sorted() const override { return true; }
    bool supports_documents() const override { return false; }
    Status count(uint64_t& n) override { n = 0; return Status::Success; }
    Status exists(KeySpan, std::vector<uint8_t>& found) override {
        std::fill(found.begin(), found.end(), 0);
        return Status::Success;
    }
    Status length(KeySpan, std::vector<uint64_t>& sizes) override {
        std::fill(sizes.begin(), sizes.end(), YOKAN_KEY_NOT_FOUND);
        return Status::Success;
    }
    Status put(int32_t, KeySpan, KeySpan) override { return Status::Success; }
    Status get(int32_t, KeySpan, const GetVisitor&) override { return Status::Success; }
    Status erase(KeySpan) override { return Status::Success; }
    Status list(std::string_view, bool, std::string_view, bool, const ListVisitor&) override {
        return Status::Success;
    }
    Status visit_all(const ListVisitor&) override { return Status::Success; }
};
}  // namespace

YOKAN_REGISTER_BACKEND(null, NullBackend);

}  // namespace mochi::yokan::backends
