// Jx9 value semantics over JSON: conversions, comparisons and arithmetic (PHP-like).
// Functions that can fail throw ValueError (the interpreter adds the position).
#pragma once

#include "errors.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace kinako::bedrock::jx9 {

using nlohmann::json;

bool truthy(const json& v);
std::string type_name(const json& v);   // null, bool, int, float, string, array, object
std::string show(const json& v);        // "string \"abc\"", "int 3"... for error messages
std::string to_text(const json& v);     // string conversion: null -> "", true -> "1", 1.5 -> "1.5"

// Numeric strings ("12", " -1.5e3 ") become numbers; `whole` = false accepts a numeric prefix
// ("12abc" -> 12). Returns false when there is no number.
bool parse_numeric(const std::string& s, json& out, bool whole = true);
// Numbers, bools, null and numeric strings as a number; false for anything else.
bool to_number(const json& v, json& out);
long long to_int(const json& v);  // intval(): never fails (non-numeric -> 0)
double to_double(const json& v);  // floatval()

bool loose_equal(const json& a, const json& b);   // ==
bool strict_equal(const json& a, const json& b);  // === (same type and value)
// <0, 0, >0; throws ValueError for values that cannot be ordered (arrays, objects...).
int compare(const json& a, const json& b, const std::string& op);

// op: + - * / % ; ints stay ints (overflow goes to float), / gives a float unless exact.
json arithmetic(char op, const json& a, const json& b);
json negate(const json& v);

}  // namespace kinako::bedrock::jx9
