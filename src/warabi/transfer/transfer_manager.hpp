// Transfer managers move bulk data between a client's exposed memory and a target.
//   "__default__": one RDMA straight into/out of the target's memory when the target is
//                  byte-addressable; otherwise double-buffered staging through a few
//                  registered buffers, overlapping the RDMA of one chunk with the I/O of the
//                  previous one.
//   "pipeline":    always stages through bounded pools of pre-registered buffers
//                  (num_pools pools of num_buffers_per_pool buffers, sizes
//                  first_buffer_size * buffer_size_multiplier^i).
#pragma once

#include <mochi/margo/engine.hpp>
#include <mochi/warabi/target.hpp>

#include <memory>
#include <string>

namespace mochi::warabi::detail {

// The client side of a transfer: its bulk handle and where in it the data starts.
struct RemoteBuffer {
    mochi::margo::Address origin;
    mochi::margo::Bulk bulk;
    size_t offset = 0;
};

class TransferManager {
  public:
    virtual ~TransferManager() = default;
    virtual nlohmann::json config() const = 0;
    // Client memory -> region [offset, offset+size).
    virtual void pull(Target& target, const RegionID& id, size_t offset, size_t size, const RemoteBuffer& src) = 0;
    // Region [offset, offset+size) -> client memory.
    virtual void push(Target& target, const RegionID& id, size_t offset, size_t size, const RemoteBuffer& dst) = 0;
};

// Throws Exception(InvalidConfig) for an unknown type or a bad config.
std::unique_ptr<TransferManager> make_transfer_manager(const std::string& type, const nlohmann::json& config,
                                                       const mochi::margo::Engine& engine);

}  // namespace mochi::warabi::detail
