// A tiny command-line parser shared by bedrock, bedrock-query and bedrock-shutdown.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace kinako::bedrock::cli {

struct Args {
    std::vector<std::string> positional;
    std::map<std::string, std::vector<std::string>> values;  // option -> values (repeatable)
    std::set<std::string> flags;

    bool has(const std::string& o) const { return flags.count(o) || values.count(o); }
    std::string get(const std::string& o, const std::string& def = "") const {
        auto it = values.find(o);
        return it == values.end() || it->second.empty() ? def : it->second.back();
    }
    std::vector<std::string> all(const std::string& o) const {
        auto it = values.find(o);
        return it == values.end() ? std::vector<std::string>() : it->second;
    }
};

// `with_value`: long names of options taking a value; `aliases`: short -> long.
inline Args parse(int argc, char** argv, const std::set<std::string>& with_value, const std::set<std::string>& flags,
                  const std::map<std::string, std::string>& aliases, const char* usage) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        std::string s = argv[i];
        if (s == "-h" || s == "--help") {
            std::printf("%s", usage);
            std::exit(0);
        }
        if (s.size() > 1 && s[0] == '-') {
            std::string value;
            bool inline_value = false;
            auto eq = s.find('=');
            if (s.rfind("--", 0) == 0 && eq != std::string::npos) {
                value = s.substr(eq + 1);
                s = s.substr(0, eq);
                inline_value = true;
            }
            auto al = aliases.find(s);
            std::string name = al == aliases.end() ? s : al->second;
            if (with_value.count(name)) {
                if (!inline_value) {
                    if (i + 1 >= argc) {
                        std::fprintf(stderr, "error: %s needs a value\n%s", s.c_str(), usage);
                        std::exit(2);
                    }
                    value = argv[++i];
                }
                a.values[name].push_back(value);
            } else if (flags.count(name)) {
                a.flags.insert(name);
            } else {
                std::fprintf(stderr, "error: unknown option %s\n%s", s.c_str(), usage);
                std::exit(2);
            }
        } else {
            a.positional.push_back(s);
        }
    }
    return a;
}

}  // namespace kinako::bedrock::cli
