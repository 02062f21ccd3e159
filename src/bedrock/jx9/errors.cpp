#include "errors.hpp"

#include <mochi/bedrock/component.hpp>

namespace kinako::bedrock::jx9 {

void raise(const std::string& source, Position pos, const char* kind, const std::string& what) {
    throw mochi::bedrock::Exception(source + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column) + ": " +
                                    kind + " error: " + what);
}

}  // namespace kinako::bedrock::jx9
