// Jx9 lexer: turns a script into tokens with line:column positions.
#pragma once

#include "errors.hpp"

#include <string>
#include <vector>

namespace kinako::bedrock::jx9 {

enum class Tok {
    End,       // end of the script
    Number,    // text: the literal as written (123, 0x1f, 1.5e3)
    String,    // segments: literal text and, in double quotes, interpolated expressions
    Variable,  // text: the name without '$'
    Ident,     // text: identifier or keyword
    Op,        // text: punctuation or operator
};

// A piece of a string literal: plain text, or the source of an interpolated expression
// ("$name" or the inside of "{$...}") with the position where that source starts.
struct StringSegment {
    bool is_expression = false;
    std::string text;
    Position pos;
};

struct Token {
    Tok kind = Tok::End;
    std::string text;
    Position pos;
    std::vector<StringSegment> segments;  // String tokens only
};

// Throws a syntax error ("<source>:<line>:<column>: ...") on a malformed token. `start` is the
// position of the first character (not 1:1 when lexing an interpolated expression).
std::vector<Token> tokenize(const std::string& text, const std::string& source, Position start = {});

// How a token is named in error messages: "')'", "'foo'", "$x", "end of script"...
std::string describe(const Token& token);

}  // namespace kinako::bedrock::jx9
