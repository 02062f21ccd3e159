// Expression evaluation for bedrock queries and "__if__" conditions (see expr.cpp).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace kinako::bedrock {

// "return <expr>;" (or a bare expression); variables are the members of `vars` ($name).
nlohmann::json evaluate_script(const std::string& script, const nlohmann::json& vars);
nlohmann::json evaluate_expression(const std::string& expression, const nlohmann::json& vars);
bool truthy(const nlohmann::json& v);

}  // namespace kinako::bedrock
