// Jx9 syntax tree: expressions and statements built by the parser, walked by the interpreter.
#pragma once

#include "errors.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace kinako::bedrock::jx9 {

enum class ExprKind {
    Literal,    // value
    Interp,     // items: the parts of an interpolated string, concatenated
    Var,        // name
    Member,     // a.name         ($a.b)
    Index,      // a[b]           ($a["b"], $a[0])
    Append,     // a[]            (assignment target only)
    ArrayLit,   // items
    ObjectLit,  // items: key, value, key, value...
    Unary,      // name (op: "!", "-", "+") a
    Binary,     // a name b       (arithmetic, comparison, "..")
    And,        // a && b
    Or,         // a || b
    Ternary,    // a ? b : c      (b null for "a ?: c")
    Assign,     // a name b       ("=", "+=", "..="...)
    IncDec,     // name "++"/"--", prefix
    Call,       // name(items)
    Cast,       // (name) a       (int, float, string, bool)
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
    ExprKind kind;
    Position pos;
    nlohmann::json value;
    std::string name;
    std::vector<ExprPtr> items;
    ExprPtr a, b, c;
    bool prefix = false;

    Expr(ExprKind k, Position p) : kind(k), pos(p) {}
};

enum class StmtKind {
    Expr,      // expr;
    Echo,      // echo/print exprs;
    If,        // if (expr) body[0] else orelse
    While,     // while (expr) body
    DoWhile,   // do body while (expr);
    For,       // for (init; cond; step) body
    Foreach,   // foreach (expr as $key, $value) body
    Switch,    // switch (expr) { cases }
    Break,
    Continue,
    Return,    // return [expr];
    Block,     // { body }
    Function,  // function name(params) { body }
    Unset,     // unset(exprs);
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;

struct Param {
    std::string name;
    ExprPtr default_value;  // null: required
};

struct FunctionDef {
    std::string name;
    Position pos;
    std::vector<Param> params;
    std::vector<StmtPtr> body;
};

struct SwitchCase {
    ExprPtr match;  // null: default
    Position pos;
    std::vector<StmtPtr> body;
};

struct Stmt {
    StmtKind kind;
    Position pos;
    ExprPtr expr;
    std::vector<ExprPtr> init, cond, step;  // For; Echo and Unset use init
    std::vector<StmtPtr> body;
    StmtPtr orelse;
    std::string key_var, value_var;  // Foreach (key_var empty when absent)
    std::vector<SwitchCase> cases;
    std::shared_ptr<const FunctionDef> function;

    Stmt(StmtKind k, Position p) : kind(k), pos(p) {}
};

struct Program {
    std::vector<StmtPtr> body;
};

}  // namespace kinako::bedrock::jx9
