#pragma once

#include <mochi/bedrock/component.hpp>

#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace mochi::bedrock {
std::mutex& registry_mutex();
std::map<std::string, ComponentType>& registry();
}

namespace kinako::bedrock {
// Throws Exception when no component registered that type.
mochi::bedrock::ComponentType find_component_type(const std::string& type);
std::vector<std::string> known_component_types();
// dlopen()s a component library (names of kinako's built-in modules are accepted and skipped).
void load_library(const std::string& path);
bool is_builtin_library(const std::string& path);
}  // namespace kinako::bedrock
