// bedrock-shutdown: asks bedrock servers (given by address or by group file) to stop.
#include "group_tools.hpp"

#include <mochi/bedrock/client.hpp>

#include <thread>

namespace {
const char* kUsage =
    "usage: bedrock-shutdown <protocol> [-a ADDR ...] [-f GROUP_FILE ...] [-t TIMEOUT_MS]\n"
    "  Stops every listed server; unreachable ones are reported and skipped.\n";
}

int main(int argc, char** argv) {
    using namespace kinako::bedrock::cli;
    auto args = parse(argc, argv, {"--address", "--flock", "--verbose", "--timeout"}, {"--pretty"},
                      {{"-a", "--address"}, {"-f", "--flock"}, {"-p", "--pretty"}, {"-v", "--verbose"},
                       {"-t", "--timeout"}},
                      kUsage);
    if (args.positional.size() != 1) {
        std::cerr << "error: expected exactly one protocol argument\n" << kUsage;
        return 2;
    }
    int status = 0;
    try {
        auto targets = target_addresses(args);
        if (targets.empty()) {
            std::cerr << "error: no server given (use -a ADDRESS or -f GROUP_FILE)\n";
            return 2;
        }
        mochi::margo::Engine engine(args.positional[0], mochi::margo::Mode::Client);
        // All at once: the ranks of a group stop together (a rank that stops early must not
        // leave the others to the process manager's cleanup before they were asked).
        double timeout = std::stod(args.get("--timeout", "10000"));
        std::vector<std::string> errors(targets.size());
        std::vector<std::thread> threads;
        for (size_t i = 0; i < targets.size(); ++i)
            threads.emplace_back([&, i] {
                try {
                    mochi::bedrock::ServiceHandle(engine, targets[i], 0, timeout).shutdown();
                } catch (const std::exception& e) {
                    errors[i] = e.what();
                }
            });
        for (auto& t : threads) t.join();
        for (auto& e : errors)
            if (!e.empty()) {
                std::cerr << "warning: " << e << "\n";
                status = 1;
            }
        engine.finalize();
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
    return status;
}
