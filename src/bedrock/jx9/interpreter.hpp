// Jx9 tree-walking interpreter: runs a parsed Program over JSON variables, with step, call
// depth, stack and string-size limits.
#pragma once

#include "ast.hpp"
#include "builtins.hpp"
#include "jx9.hpp"

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace kinako::bedrock::jx9 {

class Interpreter {
  public:
    // `variables`: name -> value, visible as globals and (read-only) inside functions.
    Interpreter(const json& variables, const Options& options);

    json run(const Program& program);
    json evaluate(const Expr& expression);

  private:
    enum class Flow { Normal, Break, Continue, Return };
    using Scope = std::unordered_map<std::string, json>;

    // An assignment target with its keys already evaluated: $var followed by steps.
    struct Step {
        bool append = false;  // $x[]
        json key;
        Position pos;
    };
    struct Target {
        const Expr* root = nullptr;
        std::vector<Step> steps;
    };

    Flow exec(const Stmt& s);
    Flow exec_block(const std::vector<StmtPtr>& body);
    Flow exec_loop_body(const Stmt& s, bool& stop);
    void define(const std::shared_ptr<const FunctionDef>& f);

    json eval(const Expr& e);
    void eval_discard(const Expr& e);
    const json* peek(const Expr& e, json& tmp);
    json assign(const Expr& e, bool want_result);
    json incdec(const Expr& e);
    json call(const Expr& e);
    json call_user(const FunctionDef& f, std::vector<json>& args, Position pos);
    json binary(const Expr& e, const json& a, const json& b);

    Target resolve(const Expr& e);
    json& walk(Target& t);       // creates what is missing
    json* find(Target& t);       // nullptr when missing
    const json* lookup(const std::string& name) const;
    json& variable_for_write(const std::string& name);
    void unset(const Expr& e);

    void tick(Position pos);
    [[noreturn]] void fail(Position pos, const std::string& what) const;
    void check_length(std::size_t n, Position pos) const;

    const json& injected_;
    Options opts_;
    BuiltinContext builtin_ctx_;
    std::vector<std::unique_ptr<Scope>> scopes_;
    std::unordered_map<std::string, std::shared_ptr<const FunctionDef>> functions_;
    std::uint64_t steps_ = 0;
    int depth_ = 0;
    json return_value_;
    StackProbe probe_;
};

}  // namespace kinako::bedrock::jx9
