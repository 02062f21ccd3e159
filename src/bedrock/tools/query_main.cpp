// bedrock-query: prints the effective config of bedrock servers, or the result of a query.
#include "group_tools.hpp"

#include <mochi/bedrock/client.hpp>

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace {
const char* kUsage =
    "usage: bedrock-query <protocol> [-a ADDR ...] [-f GROUP_FILE ...] [-i PROVIDER_ID]\n"
    "                     [-j SCRIPT_FILE | -q SCRIPT] [-p] [-t TIMEOUT_MS]\n"
    "  Prints {address: config} for every server, or {address: result} of a query script\n"
    "  such as 'return $__config__.providers;'. -p pretty-prints.\n";
}

int main(int argc, char** argv) {
    using namespace kinako::bedrock::cli;
    auto args = parse(argc, argv, {"--address", "--flock", "--provider-id", "--jx9", "--query", "--verbose", "--timeout"},
                      {"--pretty"},
                      {{"-a", "--address"}, {"-f", "--flock"}, {"-i", "--provider-id"}, {"-j", "--jx9"},
                       {"-q", "--query"}, {"-p", "--pretty"}, {"-v", "--verbose"}, {"-t", "--timeout"}},
                      kUsage);
    if (args.positional.size() != 1) {
        std::cerr << "error: expected exactly one protocol argument\n" << kUsage;
        return 2;
    }
    std::string script = args.get("--query");
    if (args.has("--jx9")) {
        std::ifstream in(args.get("--jx9"));
        if (!in) {
            std::cerr << "error: cannot read " << args.get("--jx9") << "\n";
            return 1;
        }
        std::stringstream ss;
        ss << in.rdbuf();
        script = ss.str();
    }
    int status = 0;
    try {
        auto targets = target_addresses(args);
        if (targets.empty()) {
            std::cerr << "error: no server given (use -a ADDRESS or -f GROUP_FILE)\n";
            return 2;
        }
        mochi::margo::Engine engine(args.positional[0], mochi::margo::Mode::Client);
        uint16_t pid = static_cast<uint16_t>(std::stoi(args.get("--provider-id", "0")));
        double timeout = std::stod(args.get("--timeout", "10000"));
        nlohmann::json out = nlohmann::json::object();
        for (auto& a : targets) {
            try {
                mochi::bedrock::ServiceHandle sh(engine, a, pid, timeout);
                out[a] = nlohmann::json::parse(script.empty() ? sh.get_config() : sh.query(script));
            } catch (const std::exception& e) {
                std::cerr << "error: " << e.what() << "\n";
                status = 1;
            }
        }
        std::cout << out.dump(args.has("--pretty") ? 4 : -1) << std::endl;
        engine.finalize();
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
    return status;
}
