// "pipeline" transfer manager: every transfer goes through bounded pools of pre-registered
// staging buffers (Warabi's bulk poolset). All four keys are required, as in Warabi.
#include "../config_check.hpp"
#include "staging.hpp"

#include <cmath>

namespace mochi::warabi::detail {
namespace {

class PipelineTransferManager : public TransferManager {
  public:
    PipelineTransferManager(const nlohmann::json& c, const mochi::margo::Engine& engine) : engine_(engine) {
        const std::string where = "pipeline transfer manager";
        cfg::require_object(c, where);
        cfg::only_keys(c, {"num_pools", "num_buffers_per_pool", "first_buffer_size", "buffer_size_multiplier"}, where);
        for (const char* k : {"num_pools", "num_buffers_per_pool", "first_buffer_size", "buffer_size_multiplier"})
            if (!c.contains(k)) cfg::fail(where, std::string("missing required key \"") + k + "\"");
        num_pools_ = cfg::get_uint(c, "num_pools", 1, where);
        per_pool_ = cfg::get_uint(c, "num_buffers_per_pool", 1, where);
        first_ = cfg::get_uint(c, "first_buffer_size", 1, where);
        mult_ = cfg::get_number(c, "buffer_size_multiplier", 2, where);
        if (num_pools_ < 1 || num_pools_ > 64) cfg::fail(where, "\"num_pools\" must be in [1, 64], got " + std::to_string(num_pools_));
        if (per_pool_ < 1) cfg::fail(where, "\"num_buffers_per_pool\" must be at least 1, got 0");
        if (first_ < 1) cfg::fail(where, "\"first_buffer_size\" must be at least 1, got 0");
        if (!(mult_ > 1)) cfg::fail(where, "\"buffer_size_multiplier\" must be greater than 1, got " + c.at("buffer_size_multiplier").dump());
        std::vector<size_t> sizes;
        double s = first_;
        uint64_t total = 0;
        for (uint64_t i = 0; i < num_pools_; i++, s *= mult_) {
            sizes.push_back(static_cast<size_t>(std::llround(s)));
            total += sizes.back() * per_pool_;
            if (s > double(uint64_t(1) << 34) || total > (uint64_t(1) << 34))
                cfg::fail(where, "the buffer pools would need more than 16 GiB");
        }
        config_ = c;
        // File targets with directio need 4096-aligned staging memory; align for all.
        pool_ = std::make_unique<StagingPool>(engine_, sizes, per_pool_, 4096);
    }
    nlohmann::json config() const override { return config_; }

    void pull(Target& t, const RegionID& id, size_t offset, size_t size, const RemoteBuffer& src) override {
        staged_pull(engine_, *pool_, t, id, offset, size, src);
    }
    void push(Target& t, const RegionID& id, size_t offset, size_t size, const RemoteBuffer& dst) override {
        staged_push(engine_, *pool_, t, id, offset, size, dst);
    }

  private:
    mochi::margo::Engine engine_;
    uint64_t num_pools_ = 1, per_pool_ = 1, first_ = 1;
    double mult_ = 2;
    nlohmann::json config_;
    std::unique_ptr<StagingPool> pool_;
};

}  // namespace

std::unique_ptr<TransferManager> make_pipeline_transfer_manager(const nlohmann::json& c, const mochi::margo::Engine& e) {
    return std::make_unique<PipelineTransferManager>(c, e);
}

}  // namespace mochi::warabi::detail
