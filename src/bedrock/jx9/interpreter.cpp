#include "interpreter.hpp"

#include <cctype>
#include <string>

namespace kinako::bedrock::jx9 {

namespace {

// Object keys: strings as they are, numbers in decimal, true "1", false "0", null "".
std::string key_text(const json& key) {
    if (key.is_string()) return key.get<std::string>();
    if (key.is_number_float()) return std::to_string(to_int(key));
    if (key.is_boolean()) return key.get<bool>() ? "1" : "0";
    if (key.is_null()) return "";
    if (key.is_number()) return to_text(key);
    throw ValueError("cannot use " + show(key) + " as a key");
}

// Array indexes: integers, floats (truncated), booleans and strings holding an integer.
bool as_index(const json& key, long long& out) {
    if (key.is_number_integer() || key.is_number_float() || key.is_boolean()) {
        out = to_int(key);
        return true;
    }
    if (key.is_string()) {
        const auto& s = key.get_ref<const std::string&>();
        size_t i = (!s.empty() && s[0] == '-') ? 1 : 0;
        if (i == s.size() || s.size() > 18) return false;
        for (size_t k = i; k < s.size(); ++k)
            if (!std::isdigit(static_cast<unsigned char>(s[k]))) return false;
        out = std::stoll(s);
        return true;
    }
    return false;
}

// Reading c[key]: nullptr when missing; `tmp` holds values that do not live in `c`.
const json* child(const json& c, const json& key, json& tmp) {
    if (c.is_object()) {
        auto it = c.find(key_text(key));
        return it == c.end() ? nullptr : &*it;
    }
    if (c.is_array()) {
        long long i = 0;
        if (!as_index(key, i)) return nullptr;
        if (i < 0) i += static_cast<long long>(c.size());  // $a[-1]: the last element
        if (i < 0 || i >= static_cast<long long>(c.size())) return nullptr;
        return &c[static_cast<size_t>(i)];
    }
    if (c.is_string()) {
        long long i = 0;
        const auto& s = c.get_ref<const std::string&>();
        if (!as_index(key, i)) return nullptr;
        if (i < 0) i += static_cast<long long>(s.size());
        if (i < 0 || i >= static_cast<long long>(s.size())) return nullptr;
        tmp = std::string(1, s[static_cast<size_t>(i)]);
        return &tmp;
    }
    return nullptr;
}

constexpr long long kMaxPadding = 10'000'000;

}  // namespace

Interpreter::Interpreter(const json& variables, const Options& options)
: injected_(variables), opts_(options), builtin_ctx_{options.max_string_bytes}, probe_(options.max_stack_bytes) {
    scopes_.push_back(std::make_unique<Scope>());
    if (variables.is_object())
        for (auto it = variables.begin(); it != variables.end(); ++it) (*scopes_[0])[it.key()] = it.value();
}

void Interpreter::fail(Position pos, const std::string& what) const { raise(opts_.source_name, pos, "runtime", what); }

void Interpreter::tick(Position pos) {
    if (++steps_ > opts_.max_steps)
        fail(pos, "the script ran for more than " + std::to_string(opts_.max_steps) + " steps (an endless loop?)");
}

void Interpreter::check_length(std::size_t n, Position pos) const {
    if (n > opts_.max_string_bytes)
        fail(pos, "the string would be longer than the limit of " + std::to_string(opts_.max_string_bytes) + " bytes");
}

// ---------------------------------------------------------------- program

json Interpreter::run(const Program& program) {
    for (auto& s : program.body)  // functions may be called before their definition
        if (s->kind == StmtKind::Function) define(s->function);
    if (opts_.bare_expression_value && program.body.size() == 1 && program.body[0]->kind == StmtKind::Expr) {
        const Expr& e = *program.body[0]->expr;
        if (e.kind != ExprKind::Assign && e.kind != ExprKind::IncDec) return eval(e);
    }
    for (auto& s : program.body)
        if (exec(*s) == Flow::Return) return std::move(return_value_);
    return nullptr;
}

json Interpreter::evaluate(const Expr& expression) { return eval(expression); }

void Interpreter::define(const std::shared_ptr<const FunctionDef>& f) {
    auto it = functions_.find(f->name);
    if (it != functions_.end()) {
        if (it->second == f) return;  // hoisted already
        fail(f->pos, "function " + f->name + "() is already defined at " + std::to_string(it->second->pos.line) + ":" +
                         std::to_string(it->second->pos.column));
    }
    if (find_builtin(f->name)) fail(f->pos, "cannot redefine the built-in function " + f->name + "()");
    functions_[f->name] = f;
}

// ---------------------------------------------------------------- statements

Interpreter::Flow Interpreter::exec_block(const std::vector<StmtPtr>& body) {
    for (auto& s : body) {
        Flow f = exec(*s);
        if (f != Flow::Normal) return f;
    }
    return Flow::Normal;
}

// Runs a loop body; `stop` is set on break and return (the Flow says which).
Interpreter::Flow Interpreter::exec_loop_body(const Stmt& s, bool& stop) {
    Flow f = exec(*s.body[0]);
    stop = f == Flow::Break || f == Flow::Return;
    return f == Flow::Return ? Flow::Return : Flow::Normal;
}

Interpreter::Flow Interpreter::exec(const Stmt& s) {
    tick(s.pos);
    bool stop = false;
    switch (s.kind) {
        case StmtKind::Expr:
            eval_discard(*s.expr);
            return Flow::Normal;
        case StmtKind::Echo:
            for (auto& e : s.init) {
                json v = eval(*e);
                if (opts_.output) {
                    *opts_.output += to_text(v);
                    check_length(opts_.output->size(), e->pos);
                }
            }
            return Flow::Normal;
        case StmtKind::If:
            if (truthy(eval(*s.expr))) return exec(*s.body[0]);
            if (s.orelse) return exec(*s.orelse);
            return Flow::Normal;
        case StmtKind::While:
            while (truthy(eval(*s.expr))) {
                Flow f = exec_loop_body(s, stop);
                if (stop) return f;
            }
            return Flow::Normal;
        case StmtKind::DoWhile:
            do {
                Flow f = exec_loop_body(s, stop);
                if (stop) return f;
            } while (truthy(eval(*s.expr)));
            return Flow::Normal;
        case StmtKind::For:
            for (auto& e : s.init) eval_discard(*e);
            for (;;) {
                bool go = true;
                for (size_t i = 0; i < s.cond.size(); ++i) {
                    if (i + 1 < s.cond.size()) eval_discard(*s.cond[i]);
                    else go = truthy(eval(*s.cond[i]));
                }
                if (!go) break;
                Flow f = exec_loop_body(s, stop);
                if (stop) return f;
                for (auto& e : s.step) eval_discard(*e);
            }
            return Flow::Normal;
        case StmtKind::Foreach: {
            json subject = eval(*s.expr);
            if (subject.is_null()) return Flow::Normal;
            if (!subject.is_array() && !subject.is_object())
                fail(s.expr->pos, "foreach needs an array or an object, got " + show(subject));
            Scope& scope = *scopes_.back();
            if (subject.is_array()) {
                for (size_t i = 0; i < subject.size(); ++i) {
                    if (!s.key_var.empty()) scope[s.key_var] = i;
                    scope[s.value_var] = std::move(subject[i]);
                    Flow f = exec_loop_body(s, stop);
                    if (stop) return f;
                }
            } else {
                for (auto it = subject.begin(); it != subject.end(); ++it) {
                    if (!s.key_var.empty()) scope[s.key_var] = it.key();
                    scope[s.value_var] = std::move(it.value());
                    Flow f = exec_loop_body(s, stop);
                    if (stop) return f;
                }
            }
            return Flow::Normal;
        }
        case StmtKind::Switch: {
            json v = eval(*s.expr);
            size_t start = s.cases.size();
            for (size_t i = 0; i < s.cases.size() && start == s.cases.size(); ++i)
                if (s.cases[i].match && loose_equal(v, eval(*s.cases[i].match))) start = i;
            if (start == s.cases.size())
                for (size_t i = 0; i < s.cases.size(); ++i)
                    if (!s.cases[i].match) start = i;
            for (size_t i = start; i < s.cases.size(); ++i) {
                Flow f = exec_block(s.cases[i].body);
                if (f == Flow::Break) return Flow::Normal;
                if (f != Flow::Normal) return f;  // continue (of an enclosing loop) and return
            }
            return Flow::Normal;
        }
        case StmtKind::Break: return Flow::Break;
        case StmtKind::Continue: return Flow::Continue;
        case StmtKind::Return:
            return_value_ = s.expr ? eval(*s.expr) : json(nullptr);
            return Flow::Return;
        case StmtKind::Block: return exec_block(s.body);
        case StmtKind::Function:
            define(s.function);
            return Flow::Normal;
        case StmtKind::Unset:
            for (auto& e : s.init) unset(*e);
            return Flow::Normal;
    }
    return Flow::Normal;
}

// ---------------------------------------------------------------- variables and targets

const json* Interpreter::lookup(const std::string& name) const {
    const Scope& scope = *scopes_.back();
    auto it = scope.find(name);
    if (it != scope.end()) return &it->second;
    if (scopes_.size() > 1 && injected_.is_object()) {  // inside a function: the given variables
        auto g = injected_.find(name);
        if (g != injected_.end()) return &*g;
    }
    return nullptr;
}

json& Interpreter::variable_for_write(const std::string& name) {
    Scope& scope = *scopes_.back();
    auto it = scope.find(name);
    if (it != scope.end()) return it->second;
    json& v = scope[name];
    if (scopes_.size() > 1 && injected_.is_object()) {
        auto g = injected_.find(name);
        if (g != injected_.end()) v = *g;
    }
    return v;
}

Interpreter::Target Interpreter::resolve(const Expr& e) {
    std::vector<const Expr*> chain;
    const Expr* p = &e;
    while (p->kind == ExprKind::Member || p->kind == ExprKind::Index || p->kind == ExprKind::Append) {
        chain.push_back(p);
        p = p->a.get();
    }
    if (p->kind != ExprKind::Var) fail(p->pos, "cannot assign to a part of a computed value (only of a variable)");
    Target t;
    t.root = p;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        const Expr& n = **it;
        Step st;
        st.pos = n.pos;
        if (n.kind == ExprKind::Append) st.append = true;
        else if (n.kind == ExprKind::Member) st.key = n.name;
        else st.key = eval(*n.b);
        if (!st.append && (st.key.is_array() || st.key.is_object())) fail(n.pos, "cannot use " + show(st.key) + " as a key");
        t.steps.push_back(std::move(st));
    }
    return t;
}

json& Interpreter::walk(Target& t) {
    json* c = &variable_for_write(t.root->name);
    for (auto& st : t.steps) {
        long long index = 0;
        bool integer_key = !st.append && as_index(st.key, index);
        if (c->is_null()) *c = (st.append || integer_key) ? json::array() : json::object();
        if (c->is_array()) {
            if (st.append) {
                c->push_back(nullptr);
                c = &c->back();
                continue;
            }
            if (integer_key) {
                if (index < 0) fail(st.pos, "negative index " + std::to_string(index) + " in an assignment");
                long long size = static_cast<long long>(c->size());
                if (index - size > kMaxPadding) fail(st.pos, "index " + std::to_string(index) + " is far past the end of the array");
                while (static_cast<long long>(c->size()) <= index) c->push_back(nullptr);
                c = &(*c)[static_cast<size_t>(index)];
                continue;
            }
            json obj = json::object();  // a string key turns the array into an object
            for (size_t i = 0; i < c->size(); ++i) obj[std::to_string(i)] = std::move((*c)[i]);
            *c = std::move(obj);
        }
        if (c->is_object()) {
            if (st.append) {
                size_t n = c->size();
                while (c->contains(std::to_string(n))) ++n;
                c = &(*c)[std::to_string(n)];
            } else {
                try {
                    c = &(*c)[key_text(st.key)];
                } catch (const ValueError& err) {
                    fail(st.pos, err.what());
                }
            }
            continue;
        }
        fail(st.pos, "cannot use " + show(*c) + " as an array or an object");
    }
    return *c;
}

json* Interpreter::find(Target& t) {
    Scope& scope = *scopes_.back();
    auto it = scope.find(t.root->name);
    if (it == scope.end()) return nullptr;
    json* c = &it->second;
    for (auto& st : t.steps) {
        if (st.append) return nullptr;
        json tmp;
        const json* next = child(*c, st.key, tmp);
        if (!next || next == &tmp) return nullptr;
        c = const_cast<json*>(next);
    }
    return c;
}

void Interpreter::unset(const Expr& e) {
    tick(e.pos);
    if (e.kind == ExprKind::Var) {
        scopes_.back()->erase(e.name);
        return;
    }
    Target t = resolve(e);
    Step last = std::move(t.steps.back());
    t.steps.pop_back();
    json* parent = find(t);
    if (!parent) return;
    if (parent->is_object()) {
        parent->erase(key_text(last.key));
    } else if (parent->is_array()) {
        long long i = 0;
        if (as_index(last.key, i) && i >= 0 && i < static_cast<long long>(parent->size())) parent->erase(static_cast<size_t>(i));
    }
}

// ---------------------------------------------------------------- expressions

void Interpreter::eval_discard(const Expr& e) {
    if (e.kind == ExprKind::Assign) {
        tick(e.pos);
        assign(e, false);
    } else {
        eval(e);
    }
}

const json* Interpreter::peek(const Expr& e, json& tmp) {
    switch (e.kind) {
        case ExprKind::Var:
            tick(e.pos);
            return lookup(e.name);
        case ExprKind::Member:
        case ExprKind::Index: {
            tick(e.pos);
            json key = e.kind == ExprKind::Member ? json(e.name) : eval(*e.b);
            const json* base = peek(*e.a, tmp);
            if (!base) return nullptr;
            json piece;
            const json* r = nullptr;
            try {
                r = child(*base, key, piece);
            } catch (const ValueError& err) {
                fail(e.pos, err.what());
            }
            if (!r) return nullptr;
            if (r == &piece || base == &tmp) {
                json copy = *r;
                tmp = std::move(copy);
                return &tmp;
            }
            return r;
        }
        default:
            tmp = eval(e);
            return &tmp;
    }
}

json Interpreter::eval(const Expr& e) {
    switch (e.kind) {
        case ExprKind::Var:
        case ExprKind::Member:
        case ExprKind::Index: {
            json tmp;
            const json* p = peek(e, tmp);
            if (!p) return nullptr;
            if (p == &tmp) return tmp;
            return *p;
        }
        default: break;
    }
    tick(e.pos);
    switch (e.kind) {
        case ExprKind::Literal: return e.value;
        case ExprKind::Interp: {
            std::string out;
            for (auto& part : e.items) {
                out += to_text(eval(*part));
                check_length(out.size(), e.pos);
            }
            return out;
        }
        case ExprKind::Append: fail(e.pos, "'[]' can only be used to append, on the left of '='");
        case ExprKind::ArrayLit: {
            json out = json::array();
            for (auto& item : e.items) out.push_back(eval(*item));
            return out;
        }
        case ExprKind::ObjectLit: {
            json out = json::object();
            for (size_t i = 0; i + 1 < e.items.size(); i += 2) {
                json k = eval(*e.items[i]);
                std::string key;
                try {
                    key = key_text(k);
                } catch (const ValueError& err) {
                    fail(e.items[i]->pos, err.what());
                }
                out[key] = eval(*e.items[i + 1]);
            }
            return out;
        }
        case ExprKind::Unary: {
            json v = eval(*e.a);
            if (e.name == "!") return !truthy(v);
            try {
                if (e.name == "-") return negate(v);
                json n;
                if (!to_number(v, n)) throw ValueError("unary '+' needs a number, got " + show(v));
                return n;
            } catch (const ValueError& err) {
                fail(e.pos, err.what());
            }
        }
        case ExprKind::Binary: {
            json a = eval(*e.a);
            json b = eval(*e.b);
            return binary(e, a, b);
        }
        case ExprKind::And: return truthy(eval(*e.a)) && truthy(eval(*e.b));
        case ExprKind::Or: return truthy(eval(*e.a)) || truthy(eval(*e.b));
        case ExprKind::Ternary: {
            json c = eval(*e.a);
            if (truthy(c)) return e.b ? eval(*e.b) : c;
            return eval(*e.c);
        }
        case ExprKind::Assign: return assign(e, true);
        case ExprKind::IncDec: return incdec(e);
        case ExprKind::Call: return call(e);
        case ExprKind::Cast: {
            json v = eval(*e.a);
            if (e.name == "int") return to_int(v);
            if (e.name == "float") return to_double(v);
            if (e.name == "bool") return truthy(v);
            if (v.is_array() || v.is_object()) fail(e.pos, "cannot convert " + show(v) + " to a string");
            return to_text(v);
        }
        default: break;
    }
    fail(e.pos, "internal error: unknown expression");
}

json Interpreter::binary(const Expr& e, const json& a, const json& b) {
    const std::string& op = e.name;
    try {
        if (op == "..") {
            std::string s = to_text(a);
            std::string t = to_text(b);
            check_length(s.size() + t.size(), e.pos);
            return s + t;
        }
        if (op == "==") return loose_equal(a, b);
        if (op == "!=") return !loose_equal(a, b);
        if (op == "===") return strict_equal(a, b);
        if (op == "!==") return !strict_equal(a, b);
        if (op == "<") return compare(a, b, op) < 0;
        if (op == "<=") return compare(a, b, op) <= 0;
        if (op == ">") return compare(a, b, op) > 0;
        if (op == ">=") return compare(a, b, op) >= 0;
        json r = arithmetic(op[0], a, b);
        if (r.is_string()) check_length(r.get_ref<const std::string&>().size(), e.pos);
        return r;
    } catch (const ValueError& err) {
        fail(e.pos, err.what());
    }
}

json Interpreter::assign(const Expr& e, bool want_result) {
    Target t = resolve(*e.a);
    json rhs = eval(*e.b);
    json& target = walk(t);
    if (e.name != "=") {
        std::string op = e.name.substr(0, e.name.size() - 1);  // "+=" -> "+", "..=" -> ".."
        Expr fake(ExprKind::Binary, e.pos);
        fake.name = op;
        rhs = binary(fake, target, rhs);
    }
    if (!want_result) {
        target = std::move(rhs);
        return nullptr;
    }
    target = rhs;
    return rhs;
}

json Interpreter::incdec(const Expr& e) {
    Target t = resolve(*e.a);
    json& target = walk(t);
    json old = target;
    json now;
    try {
        if (old.is_null()) now = e.name == "++" ? 1LL : -1LL;
        else now = arithmetic(e.name == "++" ? '+' : '-', old, 1LL);
    } catch (const ValueError&) {
        fail(e.pos, "'" + e.name + "' needs a number, got " + show(old));
    }
    target = now;
    return e.prefix ? now : old;
}

json Interpreter::call(const Expr& e) {
    auto uf = functions_.find(e.name);
    const Builtin* bf = uf == functions_.end() ? find_builtin(e.name) : nullptr;
    if (uf == functions_.end() && !bf) fail(e.pos, "call to undefined function " + e.name + "()");
    std::vector<json> args;
    args.reserve(e.items.size());
    for (auto& a : e.items) args.push_back(eval(*a));
    if (!bf) {
        std::shared_ptr<const FunctionDef> f = uf->second;  // keeps the definition alive
        return call_user(*f, args, e.pos);
    }
    int n = static_cast<int>(args.size());
    if (n < bf->min_args || (bf->max_args >= 0 && n > bf->max_args)) {
        std::string expected = bf->min_args == bf->max_args ? std::to_string(bf->min_args)
                               : bf->max_args < 0           ? "at least " + std::to_string(bf->min_args)
                                                            : std::to_string(bf->min_args) + " to " + std::to_string(bf->max_args);
        fail(e.pos, e.name + "() expects " + expected + " argument" + (expected == "1" ? "" : "s") + ", got " + std::to_string(n));
    }
    json result;
    try {
        result = bf->fn(args, builtin_ctx_);
    } catch (const ValueError& err) {
        fail(e.pos, e.name + "(): " + err.what());
    }
    if (bf->modifies_first) {  // array_push($a, ...) changes $a
        const Expr* p = e.items[0].get();
        while (p->kind == ExprKind::Member || p->kind == ExprKind::Index) p = p->a.get();
        if (p->kind == ExprKind::Var) {
            Target t = resolve(*e.items[0]);
            walk(t) = std::move(args[0]);
        }
    }
    return result;
}

json Interpreter::call_user(const FunctionDef& f, std::vector<json>& args, Position pos) {
    if (depth_ >= opts_.max_call_depth)
        fail(pos, "too much recursion: more than " + std::to_string(opts_.max_call_depth) + " nested calls (calling " + f.name + "())");
    if (probe_.exceeded()) fail(pos, "too much recursion: the native stack limit was reached (calling " + f.name + "())");
    size_t required = 0;
    for (auto& p : f.params)
        if (!p.default_value) ++required;
    if (args.size() < required) {
        for (size_t i = args.size(); i < f.params.size(); ++i)
            if (!f.params[i].default_value)
                fail(pos, f.name + "() expects at least " + std::to_string(i + 1) + " argument" + (i ? "s" : "") + ", got " +
                              std::to_string(args.size()) + " (missing $" + f.params[i].name + ")");
    }
    struct Frame {
        Interpreter& in;
        explicit Frame(Interpreter& i) : in(i) {
            in.scopes_.push_back(std::make_unique<Scope>());
            ++in.depth_;
        }
        ~Frame() {
            in.scopes_.pop_back();
            --in.depth_;
        }
    } frame(*this);
    for (size_t i = 0; i < f.params.size(); ++i) {
        json v = i < args.size() ? std::move(args[i]) : eval(*f.params[i].default_value);
        (*scopes_.back())[f.params[i].name] = std::move(v);
    }
    if (exec_block(f.body) == Flow::Return) return std::move(return_value_);
    return nullptr;
}

}  // namespace kinako::bedrock::jx9
