// "__default__" transfer manager: zero-copy RDMA for byte-addressable targets; files stage
// through a few registered 4 MiB buffers (created on first use), double-buffered.
#include "../config_check.hpp"
#include "staging.hpp"

#include <mutex>

namespace mochi::warabi::detail {
namespace {

using mochi::margo::BulkAccess;
using mochi::margo::BulkOp;

class DefaultTransferManager : public TransferManager {
  public:
    DefaultTransferManager(const nlohmann::json& c, const mochi::margo::Engine& engine) : engine_(engine) {
        if (!c.is_null()) {
            cfg::require_object(c, "__default__ transfer manager");
            cfg::only_keys(c, {}, "__default__ transfer manager");
        }
    }
    nlohmann::json config() const override { return nlohmann::json::object(); }

    void pull(Target& t, const RegionID& id, size_t offset, size_t size, const RemoteBuffer& src) override {
        if (size == 0) return;
        if (auto mem = t.map(id, offset, size)) {
            auto local = engine_.expose(mem.get(), size, BulkAccess::WriteOnly);
            engine_.transfer(BulkOp::Pull, src.origin, src.bulk, src.offset, local, 0, size);
            return;
        }
        staged_pull(engine_, staging(t), t, id, offset, size, src);
    }

    void push(Target& t, const RegionID& id, size_t offset, size_t size, const RemoteBuffer& dst) override {
        if (size == 0) return;
        if (auto mem = t.map(id, offset, size)) {
            auto local = engine_.expose(mem.get(), size, BulkAccess::ReadOnly);
            engine_.transfer(BulkOp::Push, dst.origin, dst.bulk, dst.offset, local, 0, size);
            return;
        }
        staged_push(engine_, staging(t), t, id, offset, size, dst);
    }

  private:
    StagingPool& staging(Target& t) {
        std::call_once(once_, [&] {
            pool_ = std::make_unique<StagingPool>(engine_, std::vector<size_t>{kChunk}, kBuffers, t.buffer_alignment());
        });
        return *pool_;
    }
    static constexpr size_t kChunk = 4 << 20;
    static constexpr size_t kBuffers = 8;
    mochi::margo::Engine engine_;
    std::once_flag once_;
    std::unique_ptr<StagingPool> pool_;
};

}  // namespace

std::unique_ptr<TransferManager> make_default_transfer_manager(const nlohmann::json& c, const mochi::margo::Engine& e) {
    return std::make_unique<DefaultTransferManager>(c, e);
}

}  // namespace mochi::warabi::detail
