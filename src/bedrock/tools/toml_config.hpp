// `bedrock -t`: a TOML config turned into the JSON config bedrock processes (tables become
// objects, arrays arrays, dates and times their TOML text). Built only when toml++ is found.
#pragma once

#include <string>

namespace kinako::bedrock::tools {

// Throws std::runtime_error "<source>:<line>:<column>: <what is wrong>" for bad TOML.
std::string toml_to_json(const std::string& text, const std::string& source);

}  // namespace kinako::bedrock::tools
