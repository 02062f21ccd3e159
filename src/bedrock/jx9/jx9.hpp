// kinako's Jx9 interpreter: the subset of the UnQLite scripting language that Bedrock uses for
// configs (`bedrock -j`) and queries (`bedrock-query -j`, ServiceHandle.query). Scripts are
// PHP-like statements over JSON values; `return <expr>;` gives the result. See docs/config.md
// ("Jx9 configs") for the supported subset and built-ins.
//
// Every syntax or runtime error throws mochi::bedrock::Exception with a message of the form
// "<source>:<line>:<column>: syntax error: ..." or "...: runtime error: ...".
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace kinako::bedrock::jx9 {

struct Options {
    std::string source_name = "jx9";          // prefix of error messages
    std::uint64_t max_steps = 10'000'000;      // statements + expression nodes evaluated
    int max_call_depth = 200;                   // nested user function calls
    std::size_t max_stack_bytes = 512 * 1024;  // native stack the interpreter may use
    std::size_t max_string_bytes = 64u << 20;  // longest string a script may build
    std::string* output = nullptr;              // print/echo text goes here (dropped when null)
    // When the script is one bare expression statement (no `return`), yield its value instead of
    // null: kinako's earlier query language accepted `$__config__.providers` alone.
    bool bare_expression_value = false;
};

// Runs `script`; `variables` is an object of name -> value (names without `$`). Returns the
// value of the first `return` executed at top level, or null when the script ends without one.
nlohmann::json run(const std::string& script, const nlohmann::json& variables);
nlohmann::json run(const std::string& script, const nlohmann::json& variables, const Options& options);

// Evaluates one expression (no statements), e.g. an "__if__" condition.
nlohmann::json evaluate(const std::string& expression, const nlohmann::json& variables,
                        const Options& options = Options());

// Jx9's notion of truth: false, null, 0, 0.0, "", "0", [] and {} are false.
bool truthy(const nlohmann::json& value);

}  // namespace kinako::bedrock::jx9
