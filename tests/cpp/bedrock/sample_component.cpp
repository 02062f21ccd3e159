// A third-party bedrock component used by the tests: type "sample", listed in "libraries".
// It needs one yokan provider ("db", required), takes an optional array of yokan providers
// ("extra") and an optional pool; its config echo reports what it received.
#include <mochi/bedrock/component.hpp>

#include <nlohmann/json.hpp>

namespace {

class SampleComponent : public mochi::bedrock::AbstractComponent {
  public:
    static std::vector<mochi::bedrock::Dependency> GetDependencies(const mochi::bedrock::ComponentArgs&) {
        return {{"db", "yokan", true, false, false},
                {"extra", "yokan", false, true, false},
                {"pool", "pool", false, false, true}};
    }
    static std::shared_ptr<mochi::bedrock::AbstractComponent> Register(const mochi::bedrock::ComponentArgs& args) {
        auto cfg = nlohmann::json::parse(args.config);
        if (cfg.value("fail", false)) throw std::runtime_error("asked to fail");
        auto c = std::make_shared<SampleComponent>();
        c->echo_ = cfg;
        nlohmann::json deps = nlohmann::json::object();
        for (auto& kv : args.dependencies) {
            auto& arr = deps[kv.first] = nlohmann::json::array();
            for (auto& r : kv.second)
                arr.push_back({{"name", r.name}, {"type", r.type}, {"provider_id", r.provider_id},
                               {"address", r.address}, {"local", r.component != nullptr}});
        }
        c->echo_["received"] = deps;
        return c;
    }
    std::string getConfig() override { return echo_.dump(); }
    void changeDependency(const std::string& name, const std::vector<mochi::bedrock::ResolvedDependency>& v) override {
        if (name != "pool") AbstractComponent::changeDependency(name, v);
        echo_["received"]["pool"] = nlohmann::json::array({{{"name", v.at(0).name}, {"type", "pool"}}});
    }

  private:
    nlohmann::json echo_;
};

}  // namespace

BEDROCK_REGISTER_COMPONENT_TYPE(sample, SampleComponent)
