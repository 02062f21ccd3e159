// Shared by bedrock-query and bedrock-shutdown: the list of target addresses.
#pragma once

#include "cli.hpp"

#include <mochi/flock/view.hpp>

#include <iostream>

namespace kinako::bedrock::cli {

inline std::vector<std::string> target_addresses(const Args& args) {
    std::vector<std::string> out = args.all("--address");
    for (auto& f : args.all("--flock")) {
        auto view = mochi::flock::GroupView::load(f);
        for (auto& m : view.members) {
            bool dup = false;
            for (auto& a : out) dup |= a == m.address;
            if (!dup) out.push_back(m.address);
        }
    }
    return out;
}

}  // namespace kinako::bedrock::cli
