// Bedrock queries and "__if__" conditions, evaluated by the Jx9 interpreter (src/bedrock/jx9/).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace kinako::bedrock {

// A Jx9 script ("return <expr>;", loops, functions...; a lone bare expression gives its value);
// variables are the members of `vars` ($name). Errors name line:column.
nlohmann::json evaluate_script(const std::string& script, const nlohmann::json& vars);
nlohmann::json evaluate_expression(const std::string& expression, const nlohmann::json& vars);
bool truthy(const nlohmann::json& v);

}  // namespace kinako::bedrock
