// Jx9 parser: tokens -> syntax tree (recursive descent, with a nesting limit).
#pragma once

#include "ast.hpp"

#include <string>

namespace kinako::bedrock::jx9 {

// Both throw "<source>:<line>:<column>: syntax error: ..." naming the offending token.
Program parse_program(const std::string& text, const std::string& source);
ExprPtr parse_expression(const std::string& text, const std::string& source);

}  // namespace kinako::bedrock::jx9
