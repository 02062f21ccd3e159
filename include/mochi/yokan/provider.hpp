// Yokan provider: one database (a Backend) served under a provider id on an engine.
// The JSON config is Yokan's: {"database": {"type": "map", "config": {...}}, ...}.
//
//   mochi::yokan::Provider provider(engine, 42, R"({"database":{"type":"map"}})");
#pragma once

#include <mochi/margo/engine.hpp>
#include <mochi/yokan/common.hpp>

#include <memory>
#include <string>

namespace mochi::yokan {

namespace detail {
class ProviderImpl;
}

class Provider {
  public:
    // Throws Exception: InvalidConfig ("missing configuration string", bad JSON, bad key),
    // InvalidBackend (unknown type), InvalidProvider (provider id already used on that engine).
    // pool: the engine pool the handlers run in ("" = the engine's rpc pool).
    Provider(const margo::Engine& engine, uint16_t provider_id, const std::string& config,
             const std::string& pool = "");
    ~Provider();  // deregisters the RPCs; parked WAIT requests get Timeout
    Provider(Provider&&) noexcept;
    Provider& operator=(Provider&&) noexcept;

    uint16_t provider_id() const;
    std::string config() const;  // effective JSON, backend defaults filled in

  private:
    std::shared_ptr<detail::ProviderImpl> impl_;
};

}  // namespace mochi::yokan
