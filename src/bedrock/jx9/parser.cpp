// Jx9 parser (recursive descent). Operator precedence, loosest first:
//   = += -= *= /= %= .= ..=   (right)
//   ?: and ?:                 (right)
//   || or
//   && and
//   == != === !== <>
//   < <= > >=
//   ..                        (string concatenation, below + - as in PHP 8)
//   + -
//   * / %
//   ! not - + ++ -- (casts)   (prefix)
//   .name [index] () ++ --    (postfix)
#include "parser.hpp"

#include "lexer.hpp"

#include <cerrno>
#include <cstdlib>

namespace kinako::bedrock::jx9 {

using nlohmann::json;

namespace {

constexpr int kMaxNesting = 256;
constexpr std::size_t kMaxParserStack = 512 * 1024;

bool is_keyword(const std::string& s) {
    static const char* const kws[] = {"if",     "else",   "elseif",  "while",  "do",    "for",  "foreach",
                                      "as",     "switch", "case",    "default", "break", "continue", "return",
                                      "function", "echo", "print",   "unset",  "true",  "false", "null",
                                      "and",    "or",     "not"};
    for (const char* k : kws)
        if (s == k) return true;
    return false;
}

bool iequals(const std::string& a, const char* b) {
    size_t n = std::char_traits<char>::length(b);
    if (a.size() != n) return false;
    for (size_t i = 0; i < n; ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != b[i]) return false;
    return true;
}

class Parser {
  public:
    Parser(std::vector<Token> tokens, const std::string& source) : t_(std::move(tokens)), source_(source), probe_(kMaxParserStack) {}

    Program program() {
        Program p;
        while (cur().kind != Tok::End) p.body.push_back(statement(true));
        return p;
    }

    ExprPtr whole_expression() {
        ExprPtr e = expression();
        if (cur().kind != Tok::End) fail(cur(), "unexpected " + describe(cur()) + " after the expression");
        return e;
    }

  private:
    // ---- token helpers
    const Token& cur() const { return t_[i_]; }
    const Token& next() const { return t_[i_ + 1 < t_.size() ? i_ + 1 : i_]; }
    void bump() {
        if (i_ + 1 < t_.size()) ++i_;
    }
    bool is_op(const char* op) const { return cur().kind == Tok::Op && cur().text == op; }
    bool is_word(const char* w) const { return cur().kind == Tok::Ident && cur().text == w; }
    bool accept(const char* op) {
        if (!is_op(op)) return false;
        bump();
        return true;
    }
    bool accept_word(const char* w) {
        if (!is_word(w)) return false;
        bump();
        return true;
    }
    void expect(const char* op, const char* context) {
        if (!accept(op)) fail(cur(), std::string("expected '") + op + "' " + context + ", found " + describe(cur()));
    }
    [[noreturn]] void fail(const Token& at, const std::string& what) const { raise(source_, at.pos, "syntax", what); }

    // Statements end with ';'; the script's last statement may omit it.
    void end_statement(const char* what) {
        if (accept(";")) return;
        if (cur().kind == Tok::End) return;
        fail(cur(), std::string("expected ';' after ") + what + ", found " + describe(cur()));
    }

    struct Nest {
        Parser& p;
        Nest(Parser& parser, const Token& at) : p(parser) {
            if (++p.depth_ > kMaxNesting || p.probe_.exceeded())
                p.fail(at, "the script is nested too deeply (more than " + std::to_string(kMaxNesting) + " levels)");
        }
        ~Nest() { --p.depth_; }
    };

    // ---- statements
    StmtPtr statement(bool top_level = false) {
        Nest nest(*this, cur());
        const Token& tok = cur();
        Position pos = tok.pos;
        if (accept("{")) {
            auto s = std::make_unique<Stmt>(StmtKind::Block, pos);
            while (!is_op("}")) {
                if (cur().kind == Tok::End) fail(cur(), "expected '}' to close the block opened at " + where(pos) + ", found end of script");
                s->body.push_back(statement());
            }
            bump();
            return s;
        }
        if (accept(";")) return std::make_unique<Stmt>(StmtKind::Block, pos);
        if (tok.kind == Tok::Ident) {
            const std::string& w = tok.text;
            if (w == "if") return if_statement();
            if (w == "while") {
                bump();
                auto s = std::make_unique<Stmt>(StmtKind::While, pos);
                s->expr = condition("while");
                s->body.push_back(loop_body());
                return s;
            }
            if (w == "do") {
                bump();
                auto s = std::make_unique<Stmt>(StmtKind::DoWhile, pos);
                s->body.push_back(loop_body());
                if (!accept_word("while")) fail(cur(), "expected 'while' after the body of 'do', found " + describe(cur()));
                s->expr = condition("do ... while");
                end_statement("do ... while (...)");
                return s;
            }
            if (w == "for") return for_statement();
            if (w == "foreach") return foreach_statement();
            if (w == "switch") return switch_statement();
            if (w == "break" || w == "continue") {
                if (loops_ == 0) fail(tok, "'" + w + "' outside of a loop or switch");
                bump();
                auto s = std::make_unique<Stmt>(w == "break" ? StmtKind::Break : StmtKind::Continue, pos);
                end_statement(w == "break" ? "'break'" : "'continue'");
                return s;
            }
            if (w == "return") {
                bump();
                auto s = std::make_unique<Stmt>(StmtKind::Return, pos);
                if (!is_op(";") && cur().kind != Tok::End) s->expr = expression();
                end_statement("the returned value");
                return s;
            }
            if (w == "function" && next().kind == Tok::Ident) return function_definition(top_level);
            if (w == "echo" || w == "print") {
                bump();
                auto s = std::make_unique<Stmt>(StmtKind::Echo, pos);
                s->init.push_back(expression());
                while (accept(",")) s->init.push_back(expression());
                end_statement(("'" + w + "'").c_str());
                return s;
            }
            if (w == "unset") {
                bump();
                auto s = std::make_unique<Stmt>(StmtKind::Unset, pos);
                expect("(", "after 'unset'");
                do {
                    const Token& at = cur();
                    ExprPtr e = expression();
                    if (e->kind != ExprKind::Var && e->kind != ExprKind::Member && e->kind != ExprKind::Index)
                        fail(at, "unset() takes variables or members, not " + describe(at));
                    s->init.push_back(std::move(e));
                } while (accept(","));
                expect(")", "to close 'unset('");
                end_statement("'unset(...)'");
                return s;
            }
            if (w == "else" || w == "elseif" || w == "case" || w == "default" || w == "as")
                fail(tok, "unexpected " + describe(tok));
        }
        auto s = std::make_unique<Stmt>(StmtKind::Expr, pos);
        s->expr = expression();
        end_statement("the expression");
        return s;
    }

    StmtPtr loop_body() {
        ++loops_;
        StmtPtr body = statement();
        --loops_;
        return body;
    }

    static std::string where(Position p) { return std::to_string(p.line) + ":" + std::to_string(p.column); }

    ExprPtr condition(const char* what) {
        expect("(", (std::string("after '") + what + "'").c_str());
        ExprPtr e = expression();
        expect(")", (std::string("to close the condition of '") + what + "'").c_str());
        return e;
    }

    StmtPtr if_statement() {
        Position pos = cur().pos;
        bump();  // if / elseif
        auto s = std::make_unique<Stmt>(StmtKind::If, pos);
        s->expr = condition("if");
        s->body.push_back(statement());
        if (is_word("elseif")) {
            s->orelse = if_statement();
        } else if (is_word("else")) {
            bump();
            if (is_word("if")) s->orelse = if_statement();
            else s->orelse = statement();
        }
        return s;
    }

    void expression_list(std::vector<ExprPtr>& out, const char* stop) {
        if (is_op(stop)) return;
        out.push_back(expression());
        while (accept(",")) out.push_back(expression());
    }

    StmtPtr for_statement() {
        Position pos = cur().pos;
        bump();
        auto s = std::make_unique<Stmt>(StmtKind::For, pos);
        expect("(", "after 'for'");
        expression_list(s->init, ";");
        expect(";", "after the initialization of 'for'");
        expression_list(s->cond, ";");
        expect(";", "after the condition of 'for'");
        expression_list(s->step, ")");
        expect(")", "to close 'for (...)'");
        s->body.push_back(loop_body());
        return s;
    }

    StmtPtr foreach_statement() {
        Position pos = cur().pos;
        bump();
        auto s = std::make_unique<Stmt>(StmtKind::Foreach, pos);
        expect("(", "after 'foreach'");
        s->expr = expression();
        if (!accept_word("as")) fail(cur(), "expected 'as' in 'foreach', found " + describe(cur()));
        if (cur().kind != Tok::Variable) fail(cur(), "expected a variable after 'as', found " + describe(cur()));
        s->value_var = cur().text;
        bump();
        if (accept(",") || accept("=>")) {
            if (cur().kind != Tok::Variable) fail(cur(), "expected the value variable of 'foreach', found " + describe(cur()));
            s->key_var = s->value_var;
            s->value_var = cur().text;
            bump();
        }
        expect(")", "to close 'foreach (...)'");
        s->body.push_back(loop_body());
        return s;
    }

    StmtPtr switch_statement() {
        Position pos = cur().pos;
        bump();
        auto s = std::make_unique<Stmt>(StmtKind::Switch, pos);
        s->expr = condition("switch");
        expect("{", "to open the body of 'switch'");
        bool seen_default = false;
        while (!accept("}")) {
            SwitchCase c;
            c.pos = cur().pos;
            if (accept_word("case")) {
                c.match = expression();
            } else if (is_word("default")) {
                if (seen_default) fail(cur(), "'switch' has more than one 'default'");
                seen_default = true;
                bump();
            } else {
                fail(cur(), "expected 'case', 'default' or '}' in 'switch', found " + describe(cur()));
            }
            if (!accept(":") && !accept(";")) fail(cur(), "expected ':' after the case, found " + describe(cur()));
            while (!is_word("case") && !is_word("default") && !is_op("}")) {
                if (cur().kind == Tok::End) fail(cur(), "expected '}' to close 'switch', found end of script");
                ++loops_;
                c.body.push_back(statement());
                --loops_;
            }
            s->cases.push_back(std::move(c));
        }
        return s;
    }

    StmtPtr function_definition(bool top_level) {
        Position pos = cur().pos;
        bump();  // function
        auto def = std::make_shared<FunctionDef>();
        def->pos = pos;
        def->name = cur().text;
        if (is_keyword(def->name)) fail(cur(), "cannot name a function '" + def->name + "'");
        bump();
        expect("(", "after the function name");
        if (!is_op(")")) {
            do {
                if (cur().kind != Tok::Variable) fail(cur(), "expected a parameter ($name), found " + describe(cur()));
                Param p;
                p.name = cur().text;
                for (auto& q : def->params)
                    if (q.name == p.name) fail(cur(), "duplicate parameter $" + p.name);
                bump();
                if (accept("=")) p.default_value = ternary();
                def->params.push_back(std::move(p));
            } while (accept(","));
        }
        expect(")", "to close the parameter list");
        if (!is_op("{")) fail(cur(), "expected '{' to open the body of function " + def->name + "(), found " + describe(cur()));
        bump();
        int outer_loops = loops_;
        loops_ = 0;
        while (!is_op("}")) {
            if (cur().kind == Tok::End) fail(cur(), "expected '}' to close function " + def->name + "(), found end of script");
            def->body.push_back(statement());
        }
        loops_ = outer_loops;
        bump();
        (void)top_level;
        auto s = std::make_unique<Stmt>(StmtKind::Function, pos);
        s->function = std::move(def);
        return s;
    }

    // ---- expressions
    ExprPtr expression() { return assignment(); }

    static bool assignable(const Expr& e) {
        return e.kind == ExprKind::Var || e.kind == ExprKind::Member || e.kind == ExprKind::Index || e.kind == ExprKind::Append;
    }

    ExprPtr assignment() {
        const Token& start = cur();
        Nest nest(*this, start);
        ExprPtr lhs = ternary();
        static const char* const ops[] = {"=", "+=", "-=", "*=", "/=", "%=", ".=", "..="};
        for (const char* op : ops) {
            if (is_op(op)) {
                const Token& at = cur();
                if (!assignable(*lhs)) fail(at, std::string("cannot assign to this expression (the left of '") + op + "' must be a variable, member or element)");
                auto e = std::make_unique<Expr>(ExprKind::Assign, at.pos);
                e->name = op;
                if (e->name == ".=") e->name = "..=";
                bump();
                e->a = std::move(lhs);
                e->b = assignment();
                return e;
            }
        }
        return lhs;
    }

    ExprPtr ternary() {
        ExprPtr cond = logical_or();
        if (!is_op("?")) return cond;
        auto e = std::make_unique<Expr>(ExprKind::Ternary, cur().pos);
        bump();
        e->a = std::move(cond);
        if (!accept(":")) {
            e->b = assignment();
            expect(":", "in the '?:' expression");
        }
        e->c = assignment();
        return e;
    }

    ExprPtr logical_or() {
        ExprPtr lhs = logical_and();
        while (is_op("||") || is_word("or")) {
            auto e = std::make_unique<Expr>(ExprKind::Or, cur().pos);
            bump();
            e->a = std::move(lhs);
            e->b = logical_and();
            lhs = std::move(e);
        }
        return lhs;
    }

    ExprPtr logical_and() {
        ExprPtr lhs = equality();
        while (is_op("&&") || is_word("and")) {
            auto e = std::make_unique<Expr>(ExprKind::And, cur().pos);
            bump();
            e->a = std::move(lhs);
            e->b = equality();
            lhs = std::move(e);
        }
        return lhs;
    }

    ExprPtr binary_level(ExprPtr (Parser::*operand)(), std::initializer_list<const char*> ops) {
        ExprPtr lhs = (this->*operand)();
        for (;;) {
            const char* found = nullptr;
            for (const char* op : ops)
                if (is_op(op)) found = op;
            if (!found) return lhs;
            auto e = std::make_unique<Expr>(ExprKind::Binary, cur().pos);
            e->name = std::string(found) == "<>" ? "!=" : found;
            bump();
            e->a = std::move(lhs);
            e->b = (this->*operand)();
            lhs = std::move(e);
        }
    }
    ExprPtr equality() { return binary_level(&Parser::relational, {"==", "!=", "===", "!==", "<>"}); }
    ExprPtr relational() { return binary_level(&Parser::concatenation, {"<", "<=", ">", ">="}); }
    ExprPtr concatenation() { return binary_level(&Parser::additive, {".."}); }
    ExprPtr additive() { return binary_level(&Parser::multiplicative, {"+", "-"}); }
    ExprPtr multiplicative() { return binary_level(&Parser::unary, {"*", "/", "%"}); }

    ExprPtr unary() {
        const Token& tok = cur();
        Nest nest(*this, tok);
        if (is_op("!") || is_op("-") || is_op("+") || is_word("not")) {
            auto e = std::make_unique<Expr>(ExprKind::Unary, tok.pos);
            e->name = tok.text == "not" ? "!" : tok.text;
            bump();
            e->a = unary();
            return e;
        }
        if (is_op("++") || is_op("--")) {
            auto e = std::make_unique<Expr>(ExprKind::IncDec, tok.pos);
            e->name = tok.text;
            e->prefix = true;
            bump();
            const Token& at = cur();
            e->a = postfix();
            if (!assignable(*e->a) || e->a->kind == ExprKind::Append) fail(at, "'" + e->name + "' needs a variable, member or element");
            return e;
        }
        // casts: (int) (integer) (float) (double) (string) (bool) (boolean)
        if (is_op("(") && next().kind == Tok::Ident && i_ + 2 < t_.size() && t_[i_ + 2].kind == Tok::Op && t_[i_ + 2].text == ")") {
            const std::string& w = next().text;
            std::string to;
            if (w == "int" || w == "integer") to = "int";
            else if (w == "float" || w == "double" || w == "real") to = "float";
            else if (w == "string") to = "string";
            else if (w == "bool" || w == "boolean") to = "bool";
            if (!to.empty()) {
                auto e = std::make_unique<Expr>(ExprKind::Cast, tok.pos);
                e->name = to;
                bump();
                bump();
                bump();
                e->a = unary();
                return e;
            }
        }
        return postfix();
    }

    ExprPtr postfix() {
        ExprPtr e = primary();
        for (;;) {
            const Token& tok = cur();
            if (is_op(".")) {
                bump();
                const Token& k = cur();
                auto m = std::make_unique<Expr>(ExprKind::Member, tok.pos);
                if (k.kind == Tok::Ident) {
                    m->name = k.text;
                } else if (k.kind == Tok::Number && k.text.find_first_not_of("0123456789") == std::string::npos) {
                    m->kind = ExprKind::Index;
                    m->b = literal(integer_or_double(k), k.pos);
                } else if (k.kind == Tok::Variable) {
                    m->kind = ExprKind::Index;
                    m->b = std::make_unique<Expr>(ExprKind::Var, k.pos);
                    m->b->name = k.text;
                } else {
                    fail(k, "expected a member name after '.', found " + describe(k));
                }
                bump();
                m->a = std::move(e);
                e = std::move(m);
            } else if (is_op("[")) {
                bump();
                if (accept("]")) {
                    auto m = std::make_unique<Expr>(ExprKind::Append, tok.pos);
                    m->a = std::move(e);
                    e = std::move(m);
                    continue;
                }
                auto m = std::make_unique<Expr>(ExprKind::Index, tok.pos);
                m->a = std::move(e);
                m->b = expression();
                expect("]", "to close the index");
                e = std::move(m);
            } else if ((is_op("++") || is_op("--")) && assignable(*e) && e->kind != ExprKind::Append) {
                auto m = std::make_unique<Expr>(ExprKind::IncDec, tok.pos);
                m->name = tok.text;
                m->prefix = false;
                m->a = std::move(e);
                bump();
                e = std::move(m);
            } else {
                return e;
            }
        }
    }

    ExprPtr literal(json v, Position p) {
        auto e = std::make_unique<Expr>(ExprKind::Literal, p);
        e->value = std::move(v);
        return e;
    }

    json integer_or_double(const Token& t) {
        const std::string& s = t.text;
        errno = 0;
        if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
            unsigned long long v = std::strtoull(s.c_str() + 2, nullptr, 16);
            if (errno == ERANGE || v > static_cast<unsigned long long>(INT64_MAX)) fail(t, "number " + s + " is too large");
            return static_cast<long long>(v);
        }
        if (s.find_first_of(".eE") != std::string::npos) return std::strtod(s.c_str(), nullptr);
        long long v = std::strtoll(s.c_str(), nullptr, 10);
        if (errno == ERANGE) return std::strtod(s.c_str(), nullptr);
        return v;
    }

    ExprPtr string_literal(const Token& t) {
        if (t.segments.size() == 1 && !t.segments[0].is_expression) return literal(t.segments[0].text, t.pos);
        auto e = std::make_unique<Expr>(ExprKind::Interp, t.pos);
        for (auto& seg : t.segments) {
            if (!seg.is_expression) {
                if (!seg.text.empty()) e->items.push_back(literal(seg.text, seg.pos));
                continue;
            }
            Parser sub(tokenize(seg.text, source_, seg.pos), source_);
            sub.depth_ = depth_;
            e->items.push_back(sub.whole_expression());
        }
        return e;
    }

    ExprPtr primary() {
        const Token& tok = cur();
        Position pos = tok.pos;
        switch (tok.kind) {
            case Tok::Number: {
                bump();
                return literal(integer_or_double(tok), pos);
            }
            case Tok::String: {
                bump();
                return string_literal(tok);
            }
            case Tok::Variable: {
                auto e = std::make_unique<Expr>(ExprKind::Var, pos);
                e->name = tok.text;
                bump();
                return e;
            }
            case Tok::Ident: {
                if (iequals(tok.text, "true")) { bump(); return literal(true, pos); }
                if (iequals(tok.text, "false")) { bump(); return literal(false, pos); }
                if (iequals(tok.text, "null")) { bump(); return literal(nullptr, pos); }
                if (next().kind == Tok::Op && next().text == "(" && !is_keyword(tok.text)) {
                    auto e = std::make_unique<Expr>(ExprKind::Call, pos);
                    e->name = tok.text;
                    bump();
                    bump();
                    if (!is_op(")")) {
                        do {
                            e->items.push_back(expression());
                        } while (accept(","));
                    }
                    expect(")", ("to close the call to " + e->name + "()").c_str());
                    return e;
                }
                fail(tok, "unexpected " + std::string(is_keyword(tok.text) ? "keyword " : "identifier ") + describe(tok) +
                              (is_keyword(tok.text) ? "" : " (variables start with '$'; functions are called with '()')"));
            }
            case Tok::Op: {
                if (tok.text == "(") {
                    bump();
                    ExprPtr e = expression();
                    expect(")", "to close '('");
                    return e;
                }
                if (tok.text == "[") return array_literal();
                if (tok.text == "{") return object_literal();
                break;
            }
            case Tok::End:
                fail(tok, "unexpected end of script (expected an expression)");
        }
        fail(tok, "unexpected " + describe(tok) + " (expected an expression)");
    }

    ExprPtr object_key() {
        const Token& k = cur();
        ExprPtr key;
        if (k.kind == Tok::String) key = string_literal(k);
        else if (k.kind == Tok::Ident) key = literal(k.text, k.pos);
        else if (k.kind == Tok::Number) key = literal(k.text, k.pos);
        else if (k.kind == Tok::Variable) {
            key = std::make_unique<Expr>(ExprKind::Var, k.pos);
            key->name = k.text;
        } else {
            fail(k, "expected an object key (a string or a name), found " + describe(k));
        }
        bump();
        return key;
    }

    ExprPtr object_literal() {
        auto e = std::make_unique<Expr>(ExprKind::ObjectLit, cur().pos);
        bump();
        while (!accept("}")) {
            e->items.push_back(object_key());
            if (!accept(":") && !accept("=>")) fail(cur(), "expected ':' after the object key, found " + describe(cur()));
            e->items.push_back(expression());
            if (accept(",")) continue;
            if (!is_op("}")) fail(cur(), "expected ',' or '}' in the object, found " + describe(cur()));
        }
        return e;
    }

    // [a, b, c]; ["k" => v, ...] makes an object.
    ExprPtr array_literal() {
        auto e = std::make_unique<Expr>(ExprKind::ArrayLit, cur().pos);
        bump();
        while (!accept("]")) {
            ExprPtr item = expression();
            if (accept("=>")) {
                if (e->kind == ExprKind::ArrayLit && !e->items.empty())
                    fail(t_[i_ - 1], "cannot mix 'key => value' and plain items in one array literal");
                e->kind = ExprKind::ObjectLit;
                e->items.push_back(std::move(item));
                e->items.push_back(expression());
            } else {
                if (e->kind == ExprKind::ObjectLit) fail(cur(), "expected '=>' after the key, found " + describe(cur()));
                e->items.push_back(std::move(item));
            }
            if (accept(",")) continue;
            if (!is_op("]")) fail(cur(), "expected ',' or ']' in the array, found " + describe(cur()));
        }
        return e;
    }

    std::vector<Token> t_;
    const std::string& source_;
    size_t i_ = 0;
    int depth_ = 0;
    int loops_ = 0;  // enclosing loops and switches (for break/continue)
    StackProbe probe_;
};

}  // namespace

Program parse_program(const std::string& text, const std::string& source) {
    return Parser(tokenize(text, source), source).program();
}

ExprPtr parse_expression(const std::string& text, const std::string& source) {
    return Parser(tokenize(text, source), source).whole_expression();
}

}  // namespace kinako::bedrock::jx9
