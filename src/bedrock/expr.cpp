// Queries and "__if__" conditions run on kinako's Jx9 interpreter (src/bedrock/jx9/).
#include "expr.hpp"

#include "jx9/jx9.hpp"

namespace kinako::bedrock {

using nlohmann::json;

bool truthy(const json& v) {
    if (v.is_boolean()) return v.get<bool>();
    if (v.is_null()) return false;
    if (v.is_number()) return v.get<double>() != 0;
    if (v.is_string()) return !v.get<std::string>().empty() && v.get<std::string>() != "false" && v.get<std::string>() != "0";
    return !v.empty();
}

json evaluate_script(const std::string& script, const json& vars) {
    jx9::Options o;
    o.source_name = "query";
    o.bare_expression_value = true;  // `$__config__.providers` alone, as kinako accepted before Jx9
    return jx9::run(script, vars, o);
}

json evaluate_expression(const std::string& expression, const json& vars) {
    jx9::Options o;
    o.source_name = "expression";
    return jx9::evaluate(expression, vars, o);
}

}  // namespace kinako::bedrock
