// Client side: encodes requests, exposes user buffers for RDMA, decodes responses.
// Every operation is an AsyncState; the blocking forms start one and wait on it.
#include <mochi/warabi/client.hpp>

#include "protocol.hpp"
#include "remote_target.hpp"

#include <cstring>
#include <functional>
#include <mutex>

namespace mochi::warabi {

using mochi::margo::BulkAccess;

namespace detail {

struct HandleState {
    mochi::margo::Engine engine;
    mochi::margo::Address address;
    std::string address_str;
    uint16_t provider_id = 0;
    size_t eager_write = TargetHandle::kDefaultEagerThreshold;
    size_t eager_read = TargetHandle::kDefaultEagerThreshold;
};

struct AsyncState {
    mochi::margo::AsyncResponse response;
    std::string input;         // must outlive the forward
    mochi::margo::Bulk bulk;   // the exposed user buffer, kept registered until the end
    std::function<void(wire::Reader&)> finish;  // decodes the payload of a success
    std::shared_ptr<HandleState> handle;
    std::mutex mutex;
    bool waited = false;
    std::exception_ptr error;
    RegionID region{};
    std::string rpc_name;

    void wait() {
        std::lock_guard<std::mutex> lock(mutex);
        if (!waited) {
            waited = true;
            try {
                mochi::margo::Response r = response.wait();
                wire::Reader in(r.output());
                rpc::check_response(in);
                if (finish) finish(in);
            } catch (const Exception&) {
                error = std::current_exception();
            } catch (const mochi::margo::Exception& e) {
                if (e.status() == mochi::margo::Status::NoEntry)
                    error = std::make_exception_ptr(Exception(
                        ErrorCode::NoProvider, "no warabi provider with id " + std::to_string(handle->provider_id) +
                                                   " at " + handle->address_str));
                else
                    error = std::make_exception_ptr(
                        Exception(ErrorCode::RpcError, rpc_name + " to " + handle->address_str + " failed: " + e.what()));
            }
            bulk = {};
            input.clear();
            finish = nullptr;
        }
        if (error) std::rethrow_exception(error);
    }
};

}  // namespace detail

namespace {

using detail::AsyncState;
using detail::HandleState;

std::shared_ptr<AsyncState> start(const std::shared_ptr<HandleState>& h, const char* name, std::string input,
                                  mochi::margo::Bulk bulk = {}, std::function<void(wire::Reader&)> finish = nullptr) {
    if (!h) throw Exception(ErrorCode::InvalidArgument, "invalid TargetHandle");
    auto st = std::make_shared<AsyncState>();
    st->handle = h;
    st->rpc_name = name;
    st->input = std::move(input);
    st->bulk = std::move(bulk);
    st->finish = std::move(finish);
    try {
        st->response = h->engine.iforward(h->address, mochi::margo::rpc_id_of(name), st->input, h->provider_id);
    } catch (const mochi::margo::Exception& e) {
        throw Exception(ErrorCode::RpcError, std::string(name) + " to " + h->address_str + " failed: " + e.what());
    }
    return st;
}

mochi::margo::Bulk expose(const HandleState& h, const char* data, size_t size, BulkAccess access) {
    try {
        return h.engine.expose(const_cast<char*>(data), size, access);
    } catch (const mochi::margo::Exception& e) {
        throw Exception(ErrorCode::RpcError, std::string("cannot expose the buffer for RDMA: ") + e.what());
    }
}

void check_buffer(const void* data, size_t size) {
    if (!data && size) throw Exception(ErrorCode::InvalidArgument, "null buffer of " + std::to_string(size) + " bytes");
}

}  // namespace

// ---------------------------------------------------------------- requests

void AsyncRequest::wait() const {
    if (state_) state_->wait();
}

bool AsyncRequest::completed() const {
    if (!state_) return true;
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->waited || state_->response.test();
}

RegionID AsyncCreateRequest::wait() const {
    if (!state_) throw Exception(ErrorCode::InvalidArgument, "empty AsyncCreateRequest");
    state_->wait();
    return state_->region;
}

// ---------------------------------------------------------------- target handle

std::string TargetHandle::address() const { return state_ ? state_->address_str : std::string(); }
uint16_t TargetHandle::provider_id() const { return state_ ? state_->provider_id : 0; }

void TargetHandle::set_eager_write_threshold(size_t size) {
    if (state_) state_->eager_write = size;
}
void TargetHandle::set_eager_read_threshold(size_t size) {
    if (state_) state_->eager_read = size;
}
size_t TargetHandle::eager_write_threshold() const { return state_ ? state_->eager_write : 0; }
size_t TargetHandle::eager_read_threshold() const { return state_ ? state_->eager_read : 0; }

AsyncCreateRequest TargetHandle::create_async(size_t size) const {
    wire::Writer w;
    w.u<uint64_t>(size);
    auto st = start(state_, rpc::kCreate, std::move(w.str()));
    AsyncState* raw = st.get();
    st->finish = [raw](wire::Reader& in) { raw->region = in.id(); };
    return AsyncCreateRequest(st);
}
RegionID TargetHandle::create(size_t size) const { return create_async(size).wait(); }

AsyncRequest TargetHandle::write_async(const RegionID& region, size_t offset, const char* data, size_t size,
                                       bool persist) const {
    check_buffer(data, size);
    wire::Writer w(64 + (size <= eager_write_threshold() ? size : 0));
    w.id(region).u<uint64_t>(offset);
    if (size <= eager_write_threshold() || size == 0) {
        w.u<uint8_t>(persist).bytes(std::string_view(data, size));
        return AsyncRequest(start(state_, rpc::kWriteEager, std::move(w.str())));
    }
    auto bulk = expose(*state_, data, size, BulkAccess::ReadOnly);
    w.u<uint64_t>(size).bytes(bulk.serialize()).u<uint8_t>(persist);
    return AsyncRequest(start(state_, rpc::kWrite, std::move(w.str()), bulk));
}
void TargetHandle::write(const RegionID& region, size_t offset, const char* data, size_t size, bool persist) const {
    write_async(region, offset, data, size, persist).wait();
}

AsyncRequest TargetHandle::read_async(const RegionID& region, size_t offset, char* data, size_t size) const {
    check_buffer(data, size);
    wire::Writer w;
    w.id(region).u<uint64_t>(offset).u<uint64_t>(size);
    if (size <= eager_read_threshold() || size == 0) {
        return AsyncRequest(start(state_, rpc::kReadEager, std::move(w.str()), {}, [data, size](wire::Reader& in) {
            uint64_t n = in.u<uint64_t>();
            auto bytes = in.rest();
            if (n != size || bytes.size() != size)
                throw Exception(ErrorCode::MalformedRequest, "eager read returned " + std::to_string(bytes.size()) +
                                                                 " bytes instead of " + std::to_string(size));
            memcpy(data, bytes.data(), size);
        }));
    }
    auto bulk = expose(*state_, data, size, BulkAccess::WriteOnly);
    w.bytes(bulk.serialize());
    return AsyncRequest(start(state_, rpc::kRead, std::move(w.str()), bulk));
}
void TargetHandle::read(const RegionID& region, size_t offset, char* data, size_t size) const {
    read_async(region, offset, data, size).wait();
}

AsyncRequest TargetHandle::persist_async(const RegionID& region, size_t offset, size_t size) const {
    wire::Writer w;
    w.id(region).u<uint64_t>(offset).u<uint64_t>(size);
    return AsyncRequest(start(state_, rpc::kPersist, std::move(w.str())));
}
void TargetHandle::persist(const RegionID& region, size_t offset, size_t size) const {
    persist_async(region, offset, size).wait();
}

AsyncRequest TargetHandle::erase_async(const RegionID& region) const {
    wire::Writer w;
    w.id(region);
    return AsyncRequest(start(state_, rpc::kErase, std::move(w.str())));
}
void TargetHandle::erase(const RegionID& region) const { erase_async(region).wait(); }

AsyncCreateRequest TargetHandle::create_and_write_async(const char* data, size_t size, bool persist) const {
    check_buffer(data, size);
    wire::Writer w(64 + (size <= eager_write_threshold() ? size : 0));
    std::shared_ptr<AsyncState> st;
    if (size <= eager_write_threshold() || size == 0) {
        w.u<uint8_t>(persist).bytes(std::string_view(data, size));
        st = start(state_, rpc::kCreateWriteEager, std::move(w.str()));
    } else {
        auto bulk = expose(*state_, data, size, BulkAccess::ReadOnly);
        w.u<uint64_t>(size).bytes(bulk.serialize()).u<uint8_t>(persist);
        st = start(state_, rpc::kCreateWrite, std::move(w.str()), bulk);
    }
    AsyncState* raw = st.get();
    st->finish = [raw](wire::Reader& in) { raw->region = in.id(); };
    return AsyncCreateRequest(st);
}
RegionID TargetHandle::create_and_write(const char* data, size_t size, bool persist) const {
    return create_and_write_async(data, size, persist).wait();
}

MigrationResult TargetHandle::migrate(const std::string& dest_address, uint16_t dest_provider_id,
                                      const MigrationOptions& options) const {
    if (options.transfer_size == 0) throw Exception(ErrorCode::InvalidArgument, "transfer_size must be at least 1");
    if (!options.merge_config.is_null() && !options.merge_config.is_object())
        throw Exception(ErrorCode::InvalidArgument, "merge_config must be a JSON object, got " + options.merge_config.dump());
    wire::Writer w;
    w.bytes(dest_address).u<uint16_t>(dest_provider_id).u<uint8_t>(options.remove_source).u<uint64_t>(options.transfer_size);
    w.bytes(options.new_root).bytes(options.merge_config.is_null() ? std::string() : options.merge_config.dump());
    MigrationResult result;
    auto st = start(state_, rpc::kMigrate, std::move(w.str()), {}, [&result](wire::Reader& in) {
        uint64_t n = in.u<uint64_t>();
        for (uint64_t i = 0; i < n; i++) {
            RegionID from = in.id();
            result.emplace_back(from, in.id());
        }
    });
    st->wait();
    return result;
}

// ---------------------------------------------------------------- migration admin RPCs

namespace detail {

struct HandleAccess {
    static const std::shared_ptr<HandleState>& state(const TargetHandle& h) { return h.state_; }
};

std::optional<std::string> remote_target_type(const TargetHandle& dest) {
    std::optional<std::string> type;
    auto st = start(HandleAccess::state(dest), rpc::kTargetInfo, std::string(), {}, [&type](wire::Reader& in) {
        if (in.flag()) type = std::string(in.bytes());
    });
    st->wait();
    return type;
}

void remote_install_target(const TargetHandle& dest, const std::string& type, const nlohmann::json& config,
                           std::optional<FileIdentity> source_file) {
    wire::Writer w;
    w.bytes(type).bytes(config.dump()).u<uint8_t>(source_file.has_value());
    if (source_file) w.u<uint64_t>(source_file->dev).u<uint64_t>(source_file->ino);
    start(HandleAccess::state(dest), rpc::kInstallTarget, std::move(w.str()))->wait();
}

}  // namespace detail

// ---------------------------------------------------------------- client

Client::Client(const mochi::margo::Engine& engine) : engine_(engine) {
    if (!engine_) throw Exception(ErrorCode::InvalidArgument, "the engine is not valid");
}

TargetHandle Client::make_target_handle(const std::string& address, uint16_t provider_id, bool check) const {
    mochi::margo::Address a;
    try {
        a = engine_.lookup(address);
    } catch (const std::exception& e) {
        throw Exception(ErrorCode::InvalidArgument, "cannot resolve address \"" + address + "\": " + e.what());
    }
    return make_target_handle(a, provider_id, check);
}

TargetHandle Client::make_target_handle(const mochi::margo::Address& address, uint16_t provider_id, bool check) const {
    if (!engine_) throw Exception(ErrorCode::InvalidArgument, "invalid Client");
    auto h = std::make_shared<HandleState>();
    h->engine = engine_;
    h->address = address;
    h->address_str = address.to_string();
    h->provider_id = provider_id;
    if (check) {
        std::string identity;
        try {
            identity = engine_.provider_identity(address, provider_id);
        } catch (const mochi::margo::Exception& e) {
            throw Exception(ErrorCode::RpcError, "cannot reach " + h->address_str + ": " + e.what());
        }
        if (identity != rpc::kIdentity)
            throw Exception(ErrorCode::NoProvider, "no warabi provider with id " + std::to_string(provider_id) + " at " +
                                                       h->address_str +
                                                       (identity.empty() ? "" : " (a \"" + identity + "\" provider is there)"));
    }
    return TargetHandle(h);
}

std::string Client::get_config() const { return "{}"; }

}  // namespace mochi::warabi
