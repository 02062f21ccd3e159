// The bedrock command: starts one server process from a config; under mpirun the ranks share
// one MPI_Allgather of their addresses at startup (rank-indexed configs, "@rank" references,
// flock's mpi bootstrap) and then run without MPI.
#include "cli.hpp"
#include "rank_sentinel.hpp"
#ifdef KINAKO_BEDROCK_WITH_TOML
#include "toml_config.hpp"
#endif

#include "../jx9/jx9.hpp"

#include <mochi/bedrock/server.hpp>

#ifdef KINAKO_BEDROCK_WITH_MPI
#include <mpi.h>
#endif
#include <nlohmann/json.hpp>

#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <pthread.h>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace {

const char* kUsage =
    "usage: bedrock [address] [-c FILE | --stdin] [-t | -j [--jx9-context a=1,b=x]] [-v LEVEL] [-o OUT.json]\n"
    "  address            protocol (tcp, na+sm, ofi+tcp...) or full address; optional when the\n"
    "                     config sets margo.mercury.address\n"
    "  -c, --config FILE  JSON config (an array is indexed by MPI rank), or TOML / Jx9 with -t / -j\n"
    "  -t, --toml         the config is TOML (tables become JSON objects)\n"
    "  -j, --jx9          the config is a Jx9 script whose `return {...};` gives the JSON config\n"
    "      --jx9-context a=1,b=hello  variables of the Jx9 script (numbers, true/false/null,\n"
    "                     otherwise strings); $MPI_COMM_WORLD is {\"rank\": r, \"size\": n}\n"
    "      --stdin        read the config from standard input\n"
    "  -v, --verbose LVL  trace, debug, info (default), warning, error, critical, off\n"
    "  -o, --output-config FILE  write the effective config after startup (FILE.<rank> on ranks > 0)\n"
    "Under mpirun the ranks bootstrap together. Stop with Ctrl-C, SIGTERM or bedrock-shutdown.\n";

mochi::margo::LogLevel parse_level(const std::string& v, bool& off) {
    using L = mochi::margo::LogLevel;
    off = false;
    if (v == "trace") return L::Trace;
    if (v == "debug") return L::Debug;
    if (v == "info") return L::Info;
    if (v == "warning" || v == "warn") return L::Warning;
    if (v == "error") return L::Error;
    if (v == "critical") return L::Critical;
    if (v == "off") { off = true; return L::Critical; }
    std::cerr << "error: unknown log level \"" << v << "\" (expected trace, debug, info, warning, error, critical, off)\n";
    std::exit(2);
}

// Set when MPICH's hydra reports a dead rank (SIGUSR1, sent under -disable-auto-cleanup).
volatile std::sig_atomic_t g_peer_failed = 0;
extern "C" void on_peer_failure(int) { g_peer_failed = 1; }

// One write per line, so that the lines of several ranks sharing mpirun's output never mix.
void say(const std::string& line) {
    std::string text = line + "\n";
    std::cout.flush();
    ssize_t rc = ::write(1, text.data(), text.size());
    (void)rc;
}

bool launched_by_mpi() {
    for (const char* v : {"PMI_RANK", "PMI_SIZE", "PMI_FD", "PMIX_RANK", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS"})
        if (std::getenv(v)) return true;
    return false;
}

// "a=1,b=hello,c=true" -> {"a": 1, "b": "hello", "c": true}: integers, floats, true/false/null,
// anything else a string.
bool parse_jx9_context(const std::string& text, nlohmann::json& vars, std::string& problem) {
    size_t b = 0;
    while (b <= text.size()) {
        size_t e = text.find(',', b);
        if (e == std::string::npos) e = text.size();
        std::string item = text.substr(b, e - b);
        b = e + 1;
        if (item.empty()) continue;
        auto eq = item.find('=');
        if (eq == std::string::npos || eq == 0) {
            problem = "expected NAME=VALUE, got \"" + item + "\"";
            return false;
        }
        std::string name = item.substr(0, eq), value = item.substr(eq + 1);
        for (size_t i = 0; i < name.size(); ++i) {
            char c = name[i];
            if (!(std::isalpha(static_cast<unsigned char>(c)) || c == '_' || (i > 0 && std::isdigit(static_cast<unsigned char>(c))))) {
                problem = "\"" + name + "\" is not a valid variable name";
                return false;
            }
        }
        nlohmann::json v = value;
        if (value == "true") v = true;
        else if (value == "false") v = false;
        else if (value == "null") v = nullptr;
        else if (!value.empty() && value.find_first_not_of("+-0123456789.eE") == std::string::npos) {
            nlohmann::json n = nlohmann::json::parse(value[0] == '+' ? value.substr(1) : value, nullptr, false);
            if (!n.is_discarded() && n.is_number()) v = n;
        }
        vars[name] = v;
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    auto args = kinako::bedrock::cli::parse(
        argc, argv, {"--config", "--verbose", "--output-config", "--jx9-context"}, {"--stdin", "--jx9", "--toml"},
        {{"-c", "--config"}, {"-v", "--verbose"}, {"-o", "--output-config"}, {"-j", "--jx9"}, {"-t", "--toml"}}, kUsage);
    if (args.has("--jx9") && args.has("--toml")) {
        std::cerr << "error: -j/--jx9 and -t/--toml cannot be used together\n" << kUsage;
        return 2;
    }
    if (args.has("--jx9-context") && !args.has("--jx9")) {
        std::cerr << "error: --jx9-context is only valid with -j/--jx9\n" << kUsage;
        return 2;
    }
    if (args.has("--jx9") && !args.has("--config") && !args.has("--stdin")) {
        std::cerr << "error: -j/--jx9 needs a script (-c FILE or --stdin)\n" << kUsage;
        return 2;
    }
    nlohmann::json jx9_vars = nlohmann::json::object();
    for (const auto& ctx : args.all("--jx9-context")) {
        std::string problem;
        if (!parse_jx9_context(ctx, jx9_vars, problem)) {
            std::cerr << "error: --jx9-context: " << problem << "\n";
            return 2;
        }
    }
#ifndef KINAKO_BEDROCK_WITH_TOML
    if (args.has("--toml")) {
        std::cerr << "error: this bedrock was built without toml++, so TOML configs are not supported; use JSON\n";
        return 2;
    }
#endif
    if (args.has("--stdin") && args.has("--config")) {
        std::cerr << "error: --stdin and --config cannot be used together\n" << kUsage;
        return 2;
    }
    if (args.positional.size() > 1) {
        std::cerr << "error: too many positional arguments\n" << kUsage;
        return 2;
    }
    std::string address = args.positional.empty() ? "" : args.positional[0];
    std::string config = "{}";
    if (args.has("--stdin")) {
        config.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else if (args.has("--config")) {
        std::ifstream in(args.get("--config"));
        if (!in) {
            std::cerr << "error: cannot read config file \"" << args.get("--config") << "\"\n";
            return 1;
        }
        std::stringstream ss;
        ss << in.rdbuf();
        config = ss.str();
    }
#ifdef KINAKO_BEDROCK_WITH_TOML
    if (args.has("--toml")) {
        try {
            config = kinako::bedrock::tools::toml_to_json(config, args.has("--config") ? args.get("--config") : "<stdin>");
        } catch (const std::exception& e) {
            std::cerr << "error: " << e.what() << "\n";
            return 1;
        }
    }
#endif
#ifdef KINAKO_BEDROCK_WITH_MPI
    if (launched_by_mpi()) kinako::bedrock::tools::run_rank_sentinel();
#endif
    bool log_off = false;
    auto level = parse_level(args.get("--verbose", "info"), log_off);
    mochi::margo::set_global_log_level(level);

    // Signals go to one thread that asks the server to finalize; block them everywhere else
    // (before any other thread exists, MPI's included).
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
    // With `mpirun -disable-auto-cleanup`, MPICH's hydra tells the surviving ranks that one
    // died with SIGUSR1, whose default action would kill them too: the service must go on.
    std::signal(SIGUSR1, SIG_IGN);

    mochi::bedrock::ServerOptions opts;
    bool mpi = false;
#ifdef KINAKO_BEDROCK_WITH_MPI
    if (launched_by_mpi()) {
        MPI_Init(&argc, &argv);
        mpi = true;
        MPI_Comm_rank(MPI_COMM_WORLD, &opts.rank);
        MPI_Comm_size(MPI_COMM_WORLD, &opts.size);
        if (opts.size > 1) {
            opts.allgather = [](const std::string& mine) {
                int size = 0;
                MPI_Comm_size(MPI_COMM_WORLD, &size);
                int len = static_cast<int>(mine.size());
                std::vector<int> lens(size), offs(size);
                MPI_Allgather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, MPI_COMM_WORLD);
                int total = 0;
                for (int i = 0; i < size; ++i) { offs[i] = total; total += lens[i]; }
                std::string all(static_cast<size_t>(total), '\0');
                MPI_Allgatherv(mine.data(), len, MPI_CHAR, all.data(), lens.data(), offs.data(), MPI_CHAR, MPI_COMM_WORLD);
                std::vector<std::string> out;
                for (int i = 0; i < size; ++i) out.push_back(all.substr(offs[i], lens[i]));
                return out;
            };
        }
    }
#endif
    std::string prefix = opts.size > 1 ? "[rank " + std::to_string(opts.rank) + "] " : "";
    if (args.has("--jx9")) {
        // The script's variables: the --jx9-context ones and $MPI_COMM_WORLD (also seen by the
        // config's "__if__" conditions).
        std::string problem;
        try {
            jx9_vars["MPI_COMM_WORLD"] = {{"rank", opts.rank}, {"size", opts.size}};
            kinako::bedrock::jx9::Options jo;
            jo.source_name = args.has("--config") ? args.get("--config") : "<stdin>";
            nlohmann::json result = kinako::bedrock::jx9::run(config, jx9_vars, jo);
            if (result.is_object()) {
                config = result.dump();
                nlohmann::json ctx = jx9_vars;
                ctx.erase("MPI_COMM_WORLD");
                opts.context_json = ctx.dump();
            } else {
                problem = jo.source_name + ": the Jx9 script must return an object (the config), but it returned " +
                          (result.is_null() ? std::string("null (no return statement?)") : result.dump());
            }
        } catch (const std::exception& e) {
            problem = e.what();
        }
        if (!problem.empty()) {
            std::cerr << prefix << "error: " << problem << std::endl;
#ifdef KINAKO_BEDROCK_WITH_MPI
            if (mpi && opts.size > 1) MPI_Abort(MPI_COMM_WORLD, 1);
#endif
            return 1;
        }
    }
    std::unique_ptr<mochi::bedrock::Server> server;
    try {
        server = std::make_unique<mochi::bedrock::Server>(address, config, opts);
    } catch (const std::exception& e) {
        std::cerr << prefix << "error: " << e.what() << std::endl;
#ifdef KINAKO_BEDROCK_WITH_MPI
        if (mpi && opts.size > 1) MPI_Abort(MPI_COMM_WORLD, 1);
#endif
        return 1;
    }
#ifdef KINAKO_BEDROCK_WITH_MPI
    // MPI is only needed to bootstrap, but it is finalized only at exit: MPICH's process
    // manager treats the death of a rank that already finalized, and a rank leaving without
    // finalizing, as fatal for the whole job.
    if (mpi) {
        MPI_Barrier(MPI_COMM_WORLD);
        std::signal(SIGUSR1, on_peer_failure);  // replaces whatever MPI_Init installed
    }
#endif
    auto engine = server->engine();
    if (!log_off) engine.set_log_level(level);
    if (args.has("--output-config")) {
        std::string out = args.get("--output-config");
        if (opts.rank > 0) out += "." + std::to_string(opts.rank);
        std::ofstream f(out, std::ios::trunc);
        f << nlohmann::json::parse(server->config()).dump(4) << "\n";
        if (!f) std::cerr << prefix << "warning: could not write " << out << std::endl;
    }
    std::thread([&server, sigs]() mutable {
        int sig = 0;
        if (sigwait(&sigs, &sig) == 0) server->finalize();
    }).detach();
    bool talk = level <= mochi::margo::LogLevel::Info && !log_off;
    if (talk) say(prefix + "Bedrock daemon now running at " + engine.self().to_string());
    server->wait_for_finalize();
    if (talk) say(prefix + "Bedrock daemon stopped");
#ifdef KINAKO_BEDROCK_WITH_MPI
    if (mpi && !g_peer_failed) {
        // MPI_Finalize waits for every rank (and fails when one died, hence the flag above);
        // do not wait forever for a rank that never stops.
        double limit = 30;
        if (const char* t = std::getenv("KINAKO_BEDROCK_FINALIZE_TIMEOUT")) limit = std::atof(t);
        std::thread([limit] {
            std::this_thread::sleep_for(std::chrono::duration<double>(limit));
            std::_Exit(0);
        }).detach();
        MPI_Finalize();
    }
#endif
    // The signal thread may still sit in sigwait(); leave without destroying what it references.
    std::_Exit(0);
}
