// Transfer manager types by name.
#include "transfer_manager.hpp"

namespace mochi::warabi::detail {

std::unique_ptr<TransferManager> make_default_transfer_manager(const nlohmann::json&, const mochi::margo::Engine&);
std::unique_ptr<TransferManager> make_pipeline_transfer_manager(const nlohmann::json&, const mochi::margo::Engine&);

std::unique_ptr<TransferManager> make_transfer_manager(const std::string& type, const nlohmann::json& config,
                                                       const mochi::margo::Engine& engine) {
    if (type == "__default__") return make_default_transfer_manager(config, engine);
    if (type == "pipeline") return make_pipeline_transfer_manager(config, engine);
    throw Exception(ErrorCode::InvalidConfig, "invalid transfer_manager configuration: unknown type \"" + type +
                                                  "\" (known: __default__, pipeline)");
}

}  // namespace mochi::warabi::detail
