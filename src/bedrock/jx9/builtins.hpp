// Jx9 built-in functions (count, strlen, json_encode, sprintf...). See builtins.cpp for the list.
#pragma once

#include "values.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace kinako::bedrock::jx9 {

struct BuiltinContext {
    std::size_t max_string_bytes;
};

// Built-ins throw ValueError; the interpreter reports it as "name(): what" at the call.
using BuiltinFn = json (*)(std::vector<json>& args, const BuiltinContext& ctx);

struct Builtin {
    const char* name;
    int min_args;
    int max_args;         // -1: any number
    bool modifies_first;  // array_push & co: args[0] is written back to the variable passed
    BuiltinFn fn;
};

const Builtin* find_builtin(const std::string& name);
std::vector<std::string> builtin_names();

// Throws ValueError when a string would be longer than the limit.
void check_length(std::size_t n, const BuiltinContext& ctx);

}  // namespace kinako::bedrock::jx9
