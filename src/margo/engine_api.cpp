// The public C++ API (engine.hpp): thin forwards onto EngineImpl.
#include "engine_impl.hpp"

namespace mochi::margo {

using detail::EngineImpl;

const char* status_name(Status s) {
    static const char* names[] = {"HG_SUCCESS",       "HG_PERMISSION",  "HG_NOENTRY",       "HG_INTERRUPT",
                                  "HG_AGAIN",         "HG_NOMEM",       "HG_ACCESS",        "HG_FAULT",
                                  "HG_BUSY",          "HG_EXIST",       "HG_NODEV",         "HG_INVALID_ARG",
                                  "HG_PROTOCOL_ERROR", "HG_OVERFLOW",   "HG_MSGSIZE",       "HG_PROTONOSUPPORT",
                                  "HG_OPNOTSUPPORTED", "HG_ADDRINUSE",  "HG_ADDRNOTAVAIL",  "HG_HOSTUNREACH",
                                  "HG_TIMEOUT",       "HG_CANCELED",    "HG_IO_ERROR",      "HG_NA_ERROR",
                                  "HG_OTHER_ERROR"};
    int i = static_cast<int>(s);
    return i >= 0 && i <= 24 ? names[i] : "HG_UNKNOWN";
}

Engine::Engine(const std::string& address, Mode mode, const std::string& json_config) {
    std::shared_ptr<EngineImpl> impl;
    try {
        impl = std::make_shared<EngineImpl>(address, mode, json_config);
    } catch (const std::invalid_argument&) {
        throw;
    } catch (const Exception&) {
        throw;
    } catch (const std::exception& e) {
        throw Exception("margo_init", Status::NaError, e.what());
    }
    impl->start();
    impl_ = std::move(impl);
}

std::string Address::to_string() const { return engine_ ? engine_->address_string(raw()) : std::string(); }

const std::string& Address::empty_raw() {
    static const std::string empty;
    return empty;
}

void Address::shutdown() const {
    if (!engine_) throw Exception("margo_shutdown_remote_instance", Status::InvalidArg, "null address");
    static const uint64_t id = rpc_id_of("__kinako_remote_shutdown__");
    auto call = engine_->start_forward(*this, id, {}, 0, 10000, false);
    engine_->wait_call(call);
    if (call->status != Status::Success) throw Exception("margo_shutdown_remote_instance", call->status);
}

std::string_view Request::input() const { return impl_ ? impl_->input : std::string_view(); }
const Address& Request::source() const { return impl_->source; }
uint64_t Request::rpc_id() const { return impl_->rpc_id; }
uint16_t Request::provider_id() const { return impl_->provider_id; }
bool Request::response_disabled() const { return impl_->no_response; }

void Request::respond(std::string_view output) const {
    auto e = impl_->engine.lock();
    if (!e) throw Exception("margo_respond", Status::Canceled, "engine is gone");
    e->respond(*impl_, output, Status::Success);
}

void Request::respond_error(Status status) const {
    auto e = impl_->engine.lock();
    if (!e) throw Exception("margo_respond", Status::Canceled, "engine is gone");
    e->respond(*impl_, {}, status);
}

std::string_view Response::output() const { return impl_ ? impl_->output : std::string_view(); }
Status Response::status() const { return impl_ ? impl_->status : Status::InvalidArg; }

Response AsyncResponse::wait() const {
    if (!impl_) throw Exception("margo_wait", Status::InvalidArg, "empty request");
    if (impl_->waited.exchange(true)) throw Exception("margo_wait", Status::InvalidArg, "Request already waited on");
    if (auto e = impl_->engine.lock()) e->wait_call(impl_);
    else impl_->done.wait();
    if (impl_->status != Status::Success) throw Exception("margo_provider_forward_timed", impl_->status);
    return Response(impl_);
}

bool AsyncResponse::test() const { return !impl_ || impl_->done.ready(); }

Address Engine::self() const { return impl_->self(); }
Address Engine::lookup(const std::string& address) const { return impl_->lookup(address); }
bool Engine::listening() const { return impl_->listening(); }
std::string Engine::config() const { return impl_->config(); }

uint64_t Engine::define(const std::string& name, Handler handler, uint16_t provider_id, const std::string& pool) {
    return impl_->define(name, std::move(handler), provider_id, pool);
}
uint64_t Engine::declare(const std::string& name, uint16_t provider_id) {
    uint64_t id = rpc_id_of(name);
    if (!impl_->find_entry(id, provider_id)) impl_->define(name, Handler(), provider_id, "");
    return id;
}
void Engine::deregister(uint64_t rpc_id, uint16_t provider_id) { impl_->deregister(rpc_id, provider_id); }
void Engine::set_rpc_pool(uint64_t rpc_id, uint16_t provider_id, const std::string& pool) const {
    impl_->set_rpc_pool(rpc_id, provider_id, pool);
}
std::string Engine::rpc_pool(uint64_t rpc_id, uint16_t provider_id) const {
    auto e = impl_->find_entry(rpc_id, provider_id);
    if (!e || !e->pool)
        throw Exception("margo_rpc_get_pool", Status::InvalidArg,
                        "no RPC id " + std::to_string(rpc_id) + " with provider id " + std::to_string(provider_id));
    return e->pool->name();
}
bool Engine::is_registered(uint64_t rpc_id, uint16_t provider_id) const {
    return impl_->find_entry(rpc_id, provider_id) != nullptr;
}
void Engine::disable_response(uint64_t rpc_id, uint16_t provider_id, bool disable) {
    impl_->disable_response(rpc_id, provider_id, disable);
}
bool Engine::response_disabled(uint64_t rpc_id, uint16_t provider_id) const {
    auto e = impl_->find_entry(rpc_id, provider_id);
    return e && e->disable_response;
}

Response Engine::forward(const Address& target, uint64_t rpc_id, std::string_view input, uint16_t provider_id,
                         double timeout_ms) const {
    auto call = impl_->start_forward(target, rpc_id, input, provider_id, timeout_ms, false);
    impl_->wait_call(call);
    if (call->status != Status::Success) throw Exception("margo_provider_forward_timed", call->status);
    return Response(call);
}

AsyncResponse Engine::iforward(const Address& target, uint64_t rpc_id, std::string_view input, uint16_t provider_id,
                               double timeout_ms) const {
    return AsyncResponse(impl_->start_forward(target, rpc_id, input, provider_id, timeout_ms, false));
}

Bulk Engine::expose(void* data, size_t size, BulkAccess access) const { return impl_->expose(data, size, access); }
Bulk Engine::deserialize_bulk(std::string_view data) const { return impl_->deserialize_bulk(data); }

void Engine::transfer(BulkOp op, const Address& origin, const Bulk& remote, size_t remote_offset, const Bulk& local,
                      size_t local_offset, size_t size) const {
    itransfer(op, origin, remote, remote_offset, local, local_offset, size).wait();
}

AsyncTransfer Engine::itransfer(BulkOp op, const Address& origin, const Bulk& remote, size_t remote_offset,
                                const Bulk& local, size_t local_offset, size_t size) const {
    if (remote.is_null() || local.is_null()) throw Exception("margo_bulk_transfer", Status::InvalidArg, "null bulk handle");
    return AsyncTransfer(impl_->start_transfer(op, origin, *remote.impl_, remote_offset, *local.impl_, local_offset, size));
}

void Engine::enable_remote_shutdown() const { impl_->enable_remote_shutdown(); }
void Engine::add_pool(const std::string& pool_json) const { impl_->add_pool(pool_json); }
void Engine::remove_pool(const std::string& name) const { impl_->remove_pool(name); }
void Engine::add_xstream(const std::string& xstream_json) const { impl_->add_xstream(xstream_json); }
void Engine::remove_xstream(const std::string& name) const { impl_->remove_xstream(name); }

void Engine::register_identity(uint16_t provider_id, const std::string& identity) const {
    impl_->set_identity(provider_id, identity);
}

std::string Engine::provider_identity(const Address& target, uint16_t provider_id, double timeout_ms) const {
    static const uint64_t id = rpc_id_of("__kinako_provider_identity__");
    char in[2] = {char(provider_id & 0xff), char(provider_id >> 8)};
    auto call = impl_->start_forward(target, id, std::string_view(in, 2), 0, timeout_ms, true);
    impl_->wait_call(call);
    if (call->status == Status::NoEntry) return std::string();
    if (call->status != Status::Success) throw Exception("margo_provider_get_identity", call->status);
    return std::string(Response(call).output());
}
void Engine::push_prefinalize_callback(std::function<void()> cb) const { impl_->push_prefinalize(std::move(cb)); }
void Engine::push_finalize_callback(std::function<void()> cb) const { impl_->push_finalize(std::move(cb)); }
void Engine::finalize() const { impl_->finalize(); }
void Engine::wait_for_finalize() const { impl_->wait_for_finalize(); }
bool Engine::finalized() const { return impl_->finalized(); }
void Engine::sleep(double ms) const { impl_->sleep_ms(ms); }
void Engine::set_log_sink(LogSink sink) const { impl_->set_log_sink(std::move(sink)); }
void Engine::set_log_level(LogLevel level) const { impl_->set_log_level(level); }
void Engine::log(LogLevel level, const std::string& msg) const { impl_->log(level, msg); }

}  // namespace mochi::margo
