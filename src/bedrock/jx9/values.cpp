#include "values.hpp"

#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace kinako::bedrock::jx9 {

bool truthy(const json& v) {
    switch (v.type()) {
        case json::value_t::null: return false;
        case json::value_t::boolean: return v.get<bool>();
        case json::value_t::number_integer: return v.get<long long>() != 0;
        case json::value_t::number_unsigned: return v.get<unsigned long long>() != 0;
        case json::value_t::number_float: return v.get<double>() != 0.0;
        case json::value_t::string: {
            const auto& s = v.get_ref<const std::string&>();
            return !(s.empty() || s == "0");
        }
        default: return !v.empty();
    }
}

std::string type_name(const json& v) {
    switch (v.type()) {
        case json::value_t::null: return "null";
        case json::value_t::boolean: return "bool";
        case json::value_t::number_integer:
        case json::value_t::number_unsigned: return "int";
        case json::value_t::number_float: return "float";
        case json::value_t::string: return "string";
        case json::value_t::array: return "array";
        default: return "object";
    }
}

std::string show(const json& v) {
    if (v.is_null()) return "null";
    std::string text = v.dump();
    if (text.size() > 60) text = text.substr(0, 57) + "...";
    return type_name(v) + " " + text;
}

std::string to_text(const json& v) {
    switch (v.type()) {
        case json::value_t::null: return "";
        case json::value_t::boolean: return v.get<bool>() ? "1" : "";
        case json::value_t::number_integer: return std::to_string(v.get<long long>());
        case json::value_t::number_unsigned: return std::to_string(v.get<unsigned long long>());
        case json::value_t::number_float: {
            double d = v.get<double>();
            if (std::isnan(d)) return "NAN";
            if (std::isinf(d)) return d > 0 ? "INF" : "-INF";
            char buf[64];
            std::snprintf(buf, sizeof buf, "%.14G", d);
            return buf;
        }
        case json::value_t::string: return v.get<std::string>();
        default: return v.dump();
    }
}

bool parse_numeric(const std::string& s, json& out, bool whole) {
    size_t i = 0, n = s.size();
    while (i < n && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    size_t start = i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    size_t digits = 0;
    bool real = false;
    while (i < n && std::isdigit(static_cast<unsigned char>(s[i]))) { ++i; ++digits; }
    if (i < n && s[i] == '.') {
        size_t k = i + 1, frac = 0;
        while (k < n && std::isdigit(static_cast<unsigned char>(s[k]))) { ++k; ++frac; }
        if (digits + frac > 0) {
            real = true;
            digits += frac;
            i = k;
        }
    }
    if (digits == 0) return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t k = i + 1;
        if (k < n && (s[k] == '+' || s[k] == '-')) ++k;
        if (k < n && std::isdigit(static_cast<unsigned char>(s[k]))) {
            while (k < n && std::isdigit(static_cast<unsigned char>(s[k]))) ++k;
            real = true;
            i = k;
        }
    }
    size_t end = i;
    while (i < n && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (whole && i != n) return false;
    std::string text = s.substr(start, end - start);
    if (!real) {
        errno = 0;
        long long v = std::strtoll(text.c_str(), nullptr, 10);
        if (errno != ERANGE) {
            out = v;
            return true;
        }
    }
    out = std::strtod(text.c_str(), nullptr);
    return true;
}

bool to_number(const json& v, json& out) {
    switch (v.type()) {
        case json::value_t::number_integer: out = v.get<long long>(); return true;
        case json::value_t::number_unsigned: {
            auto u = v.get<unsigned long long>();
            if (u <= static_cast<unsigned long long>(LLONG_MAX)) out = static_cast<long long>(u);
            else out = static_cast<double>(u);
            return true;
        }
        case json::value_t::number_float: out = v; return true;
        case json::value_t::boolean: out = v.get<bool>() ? 1LL : 0LL; return true;
        case json::value_t::null: out = 0LL; return true;
        case json::value_t::string: return parse_numeric(v.get_ref<const std::string&>(), out, true);
        default: return false;
    }
}

long long to_int(const json& v) {
    json n;
    if (v.is_string()) {
        if (!parse_numeric(v.get_ref<const std::string&>(), n, false)) return 0;
    } else if (v.is_array() || v.is_object()) {
        return v.empty() ? 0 : 1;
    } else if (!to_number(v, n)) {
        return 0;
    }
    if (n.is_number_float()) {
        double d = n.get<double>();
        if (std::isnan(d)) return 0;
        if (d >= 9.2233720368547758e18) return LLONG_MAX;
        if (d <= -9.2233720368547758e18) return LLONG_MIN;
        return static_cast<long long>(d);
    }
    return n.get<long long>();
}

double to_double(const json& v) {
    json n;
    if (v.is_string()) {
        if (!parse_numeric(v.get_ref<const std::string&>(), n, false)) return 0.0;
    } else if (v.is_array() || v.is_object()) {
        return v.empty() ? 0.0 : 1.0;
    } else if (!to_number(v, n)) {
        return 0.0;
    }
    return n.get<double>();
}

namespace {

bool numbers_equal(const json& a, const json& b) {
    if (a.is_number_float() || b.is_number_float()) return a.get<double>() == b.get<double>();
    return a.get<long long>() == b.get<long long>();
}

int numbers_compare(const json& a, const json& b) {
    if (a.is_number_float() || b.is_number_float()) {
        double x = a.get<double>(), y = b.get<double>();
        return x < y ? -1 : (x > y ? 1 : 0);
    }
    long long x = a.get<long long>(), y = b.get<long long>();
    return x < y ? -1 : (x > y ? 1 : 0);
}

bool is_scalar_number(const json& v) { return v.is_number() || v.is_boolean() || v.is_null(); }

}  // namespace

bool loose_equal(const json& a, const json& b) {
    if (a.is_boolean() || b.is_boolean()) return truthy(a) == truthy(b);
    if (a.is_null() && b.is_null()) return true;
    if (a.is_null() || b.is_null()) {
        const json& other = a.is_null() ? b : a;
        if (other.is_string()) return other.get_ref<const std::string&>().empty();
        return !truthy(other);
    }
    if (a.is_number() && b.is_number()) {
        json x, y;
        to_number(a, x);
        to_number(b, y);
        return numbers_equal(x, y);
    }
    if (a.is_string() && b.is_string()) {
        json x, y;
        if (to_number(a, x) && to_number(b, y)) return numbers_equal(x, y);
        return a.get_ref<const std::string&>() == b.get_ref<const std::string&>();
    }
    if ((a.is_number() && b.is_string()) || (a.is_string() && b.is_number())) {
        const json& num = a.is_number() ? a : b;
        const json& str = a.is_string() ? a : b;
        json x, y;
        to_number(num, x);
        if (to_number(str, y)) return numbers_equal(x, y);
        return to_text(num) == str.get_ref<const std::string&>();
    }
    if (a.is_array() && b.is_array()) {
        if (a.size() != b.size()) return false;
        for (size_t i = 0; i < a.size(); ++i)
            if (!loose_equal(a[i], b[i])) return false;
        return true;
    }
    if (a.is_object() && b.is_object()) {
        if (a.size() != b.size()) return false;
        for (auto it = a.begin(); it != a.end(); ++it) {
            auto f = b.find(it.key());
            if (f == b.end() || !loose_equal(it.value(), *f)) return false;
        }
        return true;
    }
    if ((a.is_array() && b.is_object()) || (a.is_object() && b.is_array())) return a.empty() && b.empty();
    return false;
}

bool strict_equal(const json& a, const json& b) {
    if (a.is_number() && b.is_number()) {
        if (a.is_number_float() != b.is_number_float()) return false;
        json x, y;
        to_number(a, x);
        to_number(b, y);
        return numbers_equal(x, y);
    }
    if (a.type() != b.type()) return false;
    if (a.is_array()) {
        if (a.size() != b.size()) return false;
        for (size_t i = 0; i < a.size(); ++i)
            if (!strict_equal(a[i], b[i])) return false;
        return true;
    }
    if (a.is_object()) {
        if (a.size() != b.size()) return false;
        for (auto it = a.begin(); it != a.end(); ++it) {
            auto f = b.find(it.key());
            if (f == b.end() || !strict_equal(it.value(), *f)) return false;
        }
        return true;
    }
    return a == b;
}

int compare(const json& a, const json& b, const std::string& op) {
    if (a.is_string() && b.is_string()) {
        json x, y;
        if (to_number(a, x) && to_number(b, y)) return numbers_compare(x, y);
        int c = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
        return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    if (a.is_boolean() || b.is_boolean()) {
        if ((a.is_array() || a.is_object()) || (b.is_array() || b.is_object())) {
            // fall through to the error below
        } else {
            return static_cast<int>(truthy(a)) - static_cast<int>(truthy(b));
        }
    }
    json x, y;
    if ((is_scalar_number(a) || a.is_string()) && (is_scalar_number(b) || b.is_string())) {
        if (to_number(a, x) && to_number(b, y)) return numbers_compare(x, y);
        std::string s = to_text(a), t = to_text(b);
        int c = s.compare(t);
        return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    if (a.is_array() && b.is_array() && a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
    throw ValueError("cannot compare " + show(a) + " with " + show(b) + " using '" + op + "'");
}

namespace {

json operand(const json& v, char op, const char* side) {
    json n;
    if (to_number(v, n)) return n;
    throw ValueError(std::string("operator '") + op + "' needs numbers, but its " + side + " operand is " + show(v));
}

}  // namespace

json arithmetic(char op, const json& a, const json& b) {
    if (op == '+') {
        if (a.is_array() && b.is_array()) {  // union: elements of b beyond a's length are added
            json out = a;
            for (size_t i = a.size(); i < b.size(); ++i) out.push_back(b[i]);
            return out;
        }
        if (a.is_object() && b.is_object()) {
            json out = a;
            for (auto it = b.begin(); it != b.end(); ++it)
                if (!out.contains(it.key())) out[it.key()] = it.value();
            return out;
        }
        if (a.is_string() && b.is_string()) {  // kinako extension: two non-numeric strings concatenate
            json x, y;
            if (!to_number(a, x) || !to_number(b, y)) return a.get<std::string>() + b.get<std::string>();
        }
    }
    json x = operand(a, op, "left"), y = operand(b, op, "right");
    if (op == '%') {
        long long p = to_int(x), q = to_int(y);
        if (q == 0) throw ValueError("modulo by zero");
        if (q == -1) return 0LL;
        return p % q;
    }
    if (x.is_number_integer() && y.is_number_integer()) {
        long long p = x.get<long long>(), q = y.get<long long>(), r = 0;
        switch (op) {
            case '+':
                if (!__builtin_add_overflow(p, q, &r)) return r;
                return static_cast<double>(p) + static_cast<double>(q);
            case '-':
                if (!__builtin_sub_overflow(p, q, &r)) return r;
                return static_cast<double>(p) - static_cast<double>(q);
            case '*':
                if (!__builtin_mul_overflow(p, q, &r)) return r;
                return static_cast<double>(p) * static_cast<double>(q);
            case '/':
                if (q == 0) throw ValueError("division by zero");
                if (!(p == LLONG_MIN && q == -1) && p % q == 0) return p / q;
                return static_cast<double>(p) / static_cast<double>(q);
            default: break;
        }
    }
    double p = x.get<double>(), q = y.get<double>();
    switch (op) {
        case '+': return p + q;
        case '-': return p - q;
        case '*': return p * q;
        case '/':
            if (q == 0.0) throw ValueError("division by zero");
            return p / q;
        default: throw ValueError(std::string("unknown operator '") + op + "'");
    }
}

json negate(const json& v) {
    json n;
    if (!to_number(v, n)) throw ValueError("unary '-' needs a number, got " + show(v));
    if (n.is_number_integer()) {
        long long x = n.get<long long>();
        if (x == LLONG_MIN) return -static_cast<double>(x);
        return -x;
    }
    return -n.get<double>();
}

}  // namespace kinako::bedrock::jx9
