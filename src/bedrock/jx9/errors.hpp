// Positions and error reporting shared by the Jx9 lexer, parser, interpreter and built-ins.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace kinako::bedrock::jx9 {

struct Position {
    int line = 1;
    int column = 1;
};

// A problem with a value (wrong type, division by zero...) found where no position is known;
// the interpreter catches it and reports it at the expression being evaluated.
class ValueError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Measures how much native stack is used since it was made, so that deep recursion (nested
// parentheses, recursive user functions) ends in an error rather than a stack overflow.
class StackProbe {
  public:
    explicit StackProbe(std::size_t budget)
    : base_(reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0))), budget_(budget) {}
    bool exceeded() const {
        auto here = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
        std::uintptr_t used = here > base_ ? here - base_ : base_ - here;
        return used > budget_;
    }

  private:
    std::uintptr_t base_;
    std::size_t budget_;
};

// Throws mochi::bedrock::Exception("<source>:<line>:<column>: <kind> error: <what>").
[[noreturn]] void raise(const std::string& source, Position pos, const char* kind, const std::string& what);

}  // namespace kinako::bedrock::jx9
