// A small expression language for queries and "__if__" conditions: a subset of what Bedrock
// evaluates with Jx9, enough for `return $__config__.providers[0].name;`, object and array
// literals, comparisons, && || !, and count()/length().
#include "expr.hpp"

#include <mochi/bedrock/component.hpp>

#include <cctype>
#include <cmath>

namespace kinako::bedrock {

using nlohmann::json;

namespace {

class Parser {
  public:
    Parser(const std::string& text, const json& vars) : s_(text), vars_(vars) {}

    json script() {
        skip();
        if (keyword("return")) {}
        json v = expr();
        skip();
        if (peek() == ';') { ++i_; skip(); }
        if (i_ != s_.size()) fail("unexpected text");
        return v;
    }

    json single() {
        json v = expr();
        skip();
        if (i_ != s_.size()) fail("unexpected text");
        return v;
    }

  private:
    [[noreturn]] void fail(const std::string& what) const {
        throw mochi::bedrock::Exception("expression error at offset " + std::to_string(i_) + " in \"" + s_ +
                                        "\": " + what);
    }
    char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
    void skip() {
        while (i_ < s_.size()) {
            if (std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
            else if (s_.compare(i_, 2, "//") == 0) { while (i_ < s_.size() && s_[i_] != '\n') ++i_; }
            else break;
        }
    }
    bool eat(const char* tok) {
        skip();
        size_t n = std::char_traits<char>::length(tok);
        if (s_.compare(i_, n, tok) == 0) { i_ += n; return true; }
        return false;
    }
    bool keyword(const char* kw) {
        skip();
        size_t n = std::char_traits<char>::length(kw);
        if (s_.compare(i_, n, kw) == 0 && (i_ + n >= s_.size() || !(std::isalnum((unsigned char)s_[i_ + n]) || s_[i_ + n] == '_'))) {
            i_ += n;
            return true;
        }
        return false;
    }
    void expect(char c) {
        skip();
        if (peek() != c) fail(std::string("expected '") + c + "'");
        ++i_;
    }
    std::string ident() {
        skip();
        size_t b = i_;
        while (i_ < s_.size() && (std::isalnum((unsigned char)s_[i_]) || s_[i_] == '_')) ++i_;
        if (b == i_) fail("expected a name");
        return s_.substr(b, i_ - b);
    }

    json expr() { return or_expr(); }
    json or_expr() {
        json v = and_expr();
        while (eat("||")) { json r = and_expr(); v = truthy(v) || truthy(r); }
        return v;
    }
    json and_expr() {
        json v = cmp_expr();
        while (eat("&&")) { json r = cmp_expr(); v = truthy(v) && truthy(r); }
        return v;
    }
    json cmp_expr() {
        json v = add_expr();
        skip();
        static const char* ops[] = {"===", "!==", "==", "!=", "<=", ">=", "<", ">"};
        for (const char* op : ops) {
            if (eat(op)) {
                json r = add_expr();
                std::string o = op;
                if (o == "===" || o == "==") return equal(v, r);
                if (o == "!==" || o == "!=") return !equal(v, r);
                if (v.is_number() && r.is_number()) {
                    double a = v.get<double>(), b = r.get<double>();
                    if (o == "<") return a < b;
                    if (o == ">") return a > b;
                    if (o == "<=") return a <= b;
                    return a >= b;
                }
                if (v.is_string() && r.is_string()) {
                    auto a = v.get<std::string>(), b = r.get<std::string>();
                    if (o == "<") return a < b;
                    if (o == ">") return a > b;
                    if (o == "<=") return a <= b;
                    return a >= b;
                }
                fail("cannot compare " + v.dump() + " and " + r.dump());
            }
        }
        return v;
    }
    json add_expr() {
        json v = mul_expr();
        for (;;) {
            skip();
            if (peek() == '+' ) { ++i_; json r = mul_expr(); v = arith('+', v, r); }
            else if (peek() == '-') { ++i_; json r = mul_expr(); v = arith('-', v, r); }
            else return v;
        }
    }
    json mul_expr() {
        json v = unary();
        for (;;) {
            skip();
            if (peek() == '*') { ++i_; json r = unary(); v = arith('*', v, r); }
            else if (peek() == '/' && s_.compare(i_, 2, "//") != 0) { ++i_; json r = unary(); v = arith('/', v, r); }
            else if (peek() == '%') { ++i_; json r = unary(); v = arith('%', v, r); }
            else return v;
        }
    }
    json arith(char op, const json& a, const json& b) {
        if (op == '+' && a.is_string() && b.is_string()) return a.get<std::string>() + b.get<std::string>();
        if (!a.is_number() || !b.is_number()) fail(std::string("operator ") + op + " needs numbers");
        if (a.is_number_integer() && b.is_number_integer()) {
            long long x = a.get<long long>(), y = b.get<long long>();
            switch (op) {
                case '+': return x + y;
                case '-': return x - y;
                case '*': return x * y;
                case '/': if (y == 0) fail("division by zero"); return x / y;
                default: if (y == 0) fail("division by zero"); return x % y;
            }
        }
        double x = a.get<double>(), y = b.get<double>();
        switch (op) {
            case '+': return x + y;
            case '-': return x - y;
            case '*': return x * y;
            case '/': return x / y;
            default: return std::fmod(x, y);
        }
    }
    json unary() {
        skip();
        if (peek() == '!' && s_.compare(i_, 2, "!=") != 0) { ++i_; return !truthy(unary()); }
        if (peek() == '-') {
            ++i_;
            json v = unary();
            if (!v.is_number()) fail("unary '-' needs a number");
            if (v.is_number_integer()) return -v.get<long long>();
            return -v.get<double>();
        }
        return postfix();
    }
    json postfix() {
        json v = primary();
        for (;;) {
            skip();
            if (peek() == '.' ) {
                ++i_;
                std::string key = ident();
                v = member(v, json(key));
            } else if (peek() == '[') {
                ++i_;
                json k = expr();
                expect(']');
                v = member(v, k);
            } else {
                return v;
            }
        }
    }
    json member(const json& v, const json& key) {
        if (v.is_object() && key.is_string()) {
            auto it = v.find(key.get<std::string>());
            return it == v.end() ? json() : *it;
        }
        if (v.is_array() && key.is_number_integer()) {
            long long k = key.get<long long>();
            if (k < 0) k += static_cast<long long>(v.size());
            if (k < 0 || k >= static_cast<long long>(v.size())) return json();
            return v[static_cast<size_t>(k)];
        }
        if (v.is_array() && key.is_string() && key.get<std::string>() == "length") return v.size();
        return json();
    }
    json primary() {
        skip();
        char c = peek();
        if (c == '(') { ++i_; json v = expr(); expect(')'); return v; }
        if (c == '$') {
            ++i_;
            std::string name = ident();
            auto it = vars_.find(name);
            return it == vars_.end() ? json() : *it;
        }
        if (c == '"' || c == '\'') return string_lit();
        if (std::isdigit((unsigned char)c)) return number();
        if (c == '{') {
            ++i_;
            json obj = json::object();
            skip();
            if (peek() == '}') { ++i_; return obj; }
            for (;;) {
                skip();
                std::string key = (peek() == '"' || peek() == '\'') ? string_lit().get<std::string>() : ident();
                expect(':');
                obj[key] = expr();
                skip();
                if (peek() == ',') { ++i_; continue; }
                expect('}');
                return obj;
            }
        }
        if (c == '[') {
            ++i_;
            json arr = json::array();
            skip();
            if (peek() == ']') { ++i_; return arr; }
            for (;;) {
                arr.push_back(expr());
                skip();
                if (peek() == ',') { ++i_; continue; }
                expect(']');
                return arr;
            }
        }
        if (keyword("true")) return true;
        if (keyword("false")) return false;
        if (keyword("null") || keyword("NULL")) return nullptr;
        if (std::isalpha((unsigned char)c) || c == '_') {
            std::string fn = ident();
            expect('(');
            json arg = expr();
            expect(')');
            if (fn == "count" || fn == "length" || fn == "sizeof") {
                if (arg.is_array() || arg.is_object()) return arg.size();
                if (arg.is_string()) return arg.get<std::string>().size();
                return arg.is_null() ? 0 : 1;
            }
            if (fn == "json_encode") return arg.dump();
            if (fn == "array_keys") {
                json keys = json::array();
                if (arg.is_object()) for (auto& kv : arg.items()) keys.push_back(kv.key());
                return keys;
            }
            fail("unknown function " + fn);
        }
        fail("unexpected character");
    }
    json string_lit() {
        char q = s_[i_++];
        std::string out;
        while (i_ < s_.size() && s_[i_] != q) {
            if (s_[i_] == '\\' && i_ + 1 < s_.size()) {
                char e = s_[++i_];
                out += (e == 'n') ? '\n' : (e == 't') ? '\t' : e;
            } else {
                out += s_[i_];
            }
            ++i_;
        }
        if (i_ >= s_.size()) fail("unterminated string");
        ++i_;
        return out;
    }
    json number() {
        size_t b = i_;
        bool real = false;
        while (i_ < s_.size() && (std::isdigit((unsigned char)s_[i_]) || s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E')) {
            if (!std::isdigit((unsigned char)s_[i_])) real = true;
            ++i_;
        }
        std::string t = s_.substr(b, i_ - b);
        try {
            if (real) return std::stod(t);
            return std::stoll(t);
        } catch (...) {
            fail("bad number " + t);
        }
    }
    static bool equal(const json& a, const json& b) {
        if (a.is_number() && b.is_number()) return a.get<double>() == b.get<double>();
        return a == b;
    }

    const std::string& s_;
    const json& vars_;
    size_t i_ = 0;
};

}  // namespace

bool truthy(const json& v) {
    if (v.is_boolean()) return v.get<bool>();
    if (v.is_null()) return false;
    if (v.is_number()) return v.get<double>() != 0;
    if (v.is_string()) return !v.get<std::string>().empty() && v.get<std::string>() != "false" && v.get<std::string>() != "0";
    return !v.empty();
}

json evaluate_script(const std::string& script, const json& vars) { return Parser(script, vars).script(); }
json evaluate_expression(const std::string& expression, const json& vars) { return Parser(expression, vars).single(); }

}  // namespace kinako::bedrock
