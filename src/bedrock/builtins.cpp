// The components built into kinako's bedrock: yokan, warabi (when built) and flock.
#include <mochi/bedrock/component.hpp>
#include <mochi/yokan/provider.hpp>
#ifdef KINAKO_BEDROCK_HAS_WARABI
#include <mochi/warabi/provider.hpp>
#endif
#include <mochi/flock/provider.hpp>

#include <nlohmann/json.hpp>

#include <mutex>

namespace kinako::bedrock {

using namespace mochi::bedrock;

namespace {

// The pool dependency every built-in declares (optional, updatable: change_pool moves the
// provider's handlers there).
const Dependency kPoolDependency{"pool", "pool", false, false, true};

// Applies a new "pool" dependency; the providers' own exceptions become bedrock ones.
template <typename Move>
void change_pool(const std::vector<ResolvedDependency>& value, Move&& move) {
    if (value.size() != 1) throw Exception("the pool dependency takes exactly one pool");
    try {
        move(value[0].name);
    } catch (const Exception&) {
        throw;
    } catch (const std::exception& e) {
        throw Exception(e.what());
    }
}

#ifdef KINAKO_BEDROCK_HAS_WARABI
// Warabi's migrate/snapshot/restore options: a JSON object (or ""); Yokan checks its own.
nlohmann::json warabi_options(const std::string& text, const char* op) {
    if (text.empty()) return nlohmann::json::object();
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception&) {
        throw Exception(std::string("warabi ") + op + ": options are not valid JSON: " + text);
    }
    if (!j.is_object()) throw Exception(std::string("warabi ") + op + ": options must be a JSON object, got " + text);
    return j;
}

// "new_root" and "merge_config", the options of a migrate or restore that installs a target
// into a provider without one.
void warabi_install_options(const nlohmann::json& given, const char* op, std::string& new_root,
                            nlohmann::json& merge_config) {
    if (given.contains("new_root")) {
        const auto& r = given["new_root"];
        if (!r.is_string() || r.get<std::string>().empty())
            throw Exception(std::string("warabi ") + op + ": \"new_root\" must be a non-empty string, got " + r.dump());
        new_root = r.get<std::string>();
    }
    if (given.contains("merge_config")) {
        const auto& m = given["merge_config"];
        if (!m.is_object() && !m.is_null())
            throw Exception(std::string("warabi ") + op + ": \"merge_config\" must be a JSON object, got " + m.dump());
        if (m.is_object()) merge_config = m;
    }
}
#endif

class YokanComponent : public AbstractComponent {
  public:
    static std::vector<Dependency> GetDependencies(const ComponentArgs&) {
        return {kPoolDependency,
                {"remi_sender", "remi_sender", false, false, false},
                {"remi_receiver", "remi_receiver", false, false, false}};
    }
    static std::shared_ptr<AbstractComponent> Register(const ComponentArgs& args) {
        auto c = std::make_shared<YokanComponent>();
        c->provider_ = std::make_unique<mochi::yokan::Provider>(args.engine, args.provider_id, args.config, args.pool());
        return c;
    }
    std::string getConfig() override { return provider_->config(); }
    void changeDependency(const std::string& name, const std::vector<ResolvedDependency>& value) override {
        if (name != "pool") return AbstractComponent::changeDependency(name, value);
        change_pool(value, [&](const std::string& pool) { provider_->change_pool(pool); });
    }
    void migrate(const std::string& dest_address, uint16_t dest_provider_id, const std::string& options_json,
                 bool remove_source) override {
        provider_->migrate(dest_address, dest_provider_id, options_json, remove_source);
    }
    void snapshot(const std::string& dest_path, const std::string& options_json, bool remove_source) override {
        provider_->snapshot(dest_path, options_json, remove_source);
    }
    void restore(const std::string& src_path, const std::string& options_json) override {
        provider_->restore(src_path, options_json);
    }

  private:
    std::unique_ptr<mochi::yokan::Provider> provider_;
};

#ifdef KINAKO_BEDROCK_HAS_WARABI
class WarabiComponent : public AbstractComponent {
  public:
    static std::vector<Dependency> GetDependencies(const ComponentArgs&) {
        return {kPoolDependency,
                {"remi_sender", "remi_sender", false, false, false},
                {"remi_receiver", "remi_receiver", false, false, false}};
    }
    static std::shared_ptr<AbstractComponent> Register(const ComponentArgs& args) {
        auto c = std::make_shared<WarabiComponent>();
        c->engine_ = args.engine;
        c->provider_ = std::make_unique<mochi::warabi::Provider>(args.engine, args.provider_id, args.config, args.pool());
        return c;
    }
    std::string getConfig() override { return provider_->get_config(); }
    void changeDependency(const std::string& name, const std::vector<ResolvedDependency>& value) override {
        if (name != "pool") return AbstractComponent::changeDependency(name, value);
        change_pool(value, [&](const std::string& pool) { provider_->change_pool(pool); });
    }
    void migrate(const std::string& dest_address, uint16_t dest_provider_id, const std::string& options_json,
                 bool remove_source) override {
        auto given = warabi_options(options_json, "migrate");
        mochi::warabi::MigrationOptions opts;
        opts.remove_source = remove_source;
        if (given.contains("transfer_size")) {
            const auto& t = given["transfer_size"];
            if (!t.is_number_unsigned() || t.get<uint64_t>() == 0)
                throw Exception("warabi migrate: \"transfer_size\" must be a positive integer, got " + t.dump());
            opts.transfer_size = t.get<uint64_t>();
        }
        // Used when the destination has no target yet and one is installed there.
        warabi_install_options(given, "migrate", opts.new_root, opts.merge_config);
        provider_->migrate(dest_address, dest_provider_id, opts);
    }
    void snapshot(const std::string& dest_path, const std::string& options_json, bool remove_source) override {
        warabi_options(options_json, "snapshot");
        provider_->snapshot(dest_path, remove_source);
    }
    void restore(const std::string& src_path, const std::string& options_json) override {
        // new_root / merge_config: used when the provider has no target and one like the
        // snapshot's source is installed.
        mochi::warabi::RestoreOptions opts;
        warabi_install_options(warabi_options(options_json, "restore"), "restore", opts.new_root, opts.merge_config);
        // Memory targets keep every id; other targets give restored regions new ids, which
        // only the C++ API returns, so say how many moved.
        size_t moved = 0;
        for (auto& [before, now] : provider_->restore(src_path, opts)) moved += before != now;
        if (moved)
            engine_.log(mochi::margo::LogLevel::Warning,
                        "warabi restore from \"" + src_path + "\": " + std::to_string(moved) +
                            " region(s) got new ids (their ids were taken or the target cannot keep ids)");
    }

  private:
    mochi::margo::Engine engine_;
    std::unique_ptr<mochi::warabi::Provider> provider_;
};
#endif

class FlockComponent : public AbstractComponent {
  public:
    static std::vector<Dependency> GetDependencies(const ComponentArgs&) {
        return {kPoolDependency};
    }
    static std::shared_ptr<AbstractComponent> Register(const ComponentArgs& args) {
        auto c = std::make_shared<FlockComponent>();
        mochi::flock::BootstrapContext ctx;
        ctx.rank = args.rank;
        ctx.size = args.size;
        ctx.allgather = args.allgather;
        c->provider_ = mochi::flock::Provider::bootstrap(args.engine, args.provider_id, args.config, ctx, args.pool());
        return c;
    }
    std::string getConfig() override { return provider_->config(); }
    void changeDependency(const std::string& name, const std::vector<ResolvedDependency>& value) override {
        if (name != "pool") return AbstractComponent::changeDependency(name, value);
        change_pool(value, [&](const std::string& pool) { provider_->change_pool(pool); });
    }

  private:
    std::unique_ptr<mochi::flock::Provider> provider_;
};

}  // namespace

void register_builtin_components() {
    static std::once_flag once;
    std::call_once(once, [] {
        register_component_type("yokan", ComponentType{&YokanComponent::GetDependencies, &YokanComponent::Register});
#ifdef KINAKO_BEDROCK_HAS_WARABI
        register_component_type("warabi", ComponentType{&WarabiComponent::GetDependencies, &WarabiComponent::Register});
#endif
        register_component_type("flock", ComponentType{&FlockComponent::GetDependencies, &FlockComponent::Register});
    });
}

}  // namespace kinako::bedrock
