// Entry points of the Jx9 interpreter: parse, then run with limits.
#include "jx9.hpp"

#include "interpreter.hpp"
#include "parser.hpp"
#include "values.hpp"

namespace kinako::bedrock::jx9 {

json run(const std::string& script, const json& variables) { return run(script, variables, Options()); }

json run(const std::string& script, const json& variables, const Options& options) {
    Program program = parse_program(script, options.source_name);
    Interpreter interpreter(variables, options);
    return interpreter.run(program);
}

json evaluate(const std::string& expression, const json& variables, const Options& options) {
    ExprPtr e = parse_expression(expression, options.source_name);
    Interpreter interpreter(variables, options);
    return interpreter.evaluate(*e);
}

}  // namespace kinako::bedrock::jx9
