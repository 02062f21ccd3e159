// Jx9 built-in functions. Strings, arrays (JSON arrays) and objects (JSON objects):
//   count sizeof length strlen json_encode json_decode gettype
//   is_array is_object is_string is_int is_integer is_long is_float is_double is_numeric is_bool
//   is_null is_scalar isset intval floatval doubleval strval boolval
//   array_keys array_values in_array array_key_exists key_exists array_push array_pop
//   array_shift array_unshift array_slice array_merge array_reverse array_sum sort rsort range
//   substr strtoupper strtolower ucfirst trim ltrim rtrim str_repeat strpos implode join explode
//   str_replace sprintf min max abs round floor ceil sqrt pow
#include "builtins.hpp"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <map>

namespace kinako::bedrock::jx9 {

namespace {

using Args = std::vector<json>;

std::string nth(size_t i) { return "argument " + std::to_string(i + 1); }

std::string text_arg(const Args& a, size_t i) {
    if (a[i].is_array() || a[i].is_object()) throw ValueError(nth(i) + " must be a string, got " + show(a[i]));
    return to_text(a[i]);
}

long long int_arg(const Args& a, size_t i) {
    json n;
    if (!to_number(a[i], n)) throw ValueError(nth(i) + " must be an integer, got " + show(a[i]));
    return to_int(n);
}

double number_arg(const Args& a, size_t i, json& n) {
    if (!to_number(a[i], n)) throw ValueError(nth(i) + " must be a number, got " + show(a[i]));
    return n.get<double>();
}

const json& container_arg(const Args& a, size_t i) {
    if (!a[i].is_array() && !a[i].is_object()) throw ValueError(nth(i) + " must be an array or an object, got " + show(a[i]));
    return a[i];
}

json& array_ref(Args& a, size_t i) {
    if (a[i].is_null()) a[i] = json::array();
    if (!a[i].is_array()) throw ValueError(nth(i) + " must be an array, got " + show(a[i]));
    return a[i];
}

// ---- types and conversions

json f_count(Args& a, const BuiltinContext&) {
    if (a[0].is_null()) return 0;
    if (a[0].is_array() || a[0].is_object()) return a[0].size();
    return 1;
}
json f_length(Args& a, const BuiltinContext& c) {  // kinako's earlier query language
    if (a[0].is_string()) return a[0].get_ref<const std::string&>().size();
    return f_count(a, c);
}
json f_strlen(Args& a, const BuiltinContext&) { return text_arg(a, 0).size(); }
json f_json_encode(Args& a, const BuiltinContext&) { return a[0].dump(a.size() > 1 && truthy(a[1]) ? 4 : -1); }
json f_json_decode(Args& a, const BuiltinContext&) {
    if (!a[0].is_string()) return nullptr;
    json v = json::parse(a[0].get_ref<const std::string&>(), nullptr, false);
    return v.is_discarded() ? json(nullptr) : v;
}
json f_gettype(Args& a, const BuiltinContext&) { return type_name(a[0]); }
json f_is_array(Args& a, const BuiltinContext&) { return a[0].is_array(); }
json f_is_object(Args& a, const BuiltinContext&) { return a[0].is_object(); }
json f_is_string(Args& a, const BuiltinContext&) { return a[0].is_string(); }
json f_is_int(Args& a, const BuiltinContext&) { return a[0].is_number_integer(); }
json f_is_float(Args& a, const BuiltinContext&) { return a[0].is_number_float(); }
json f_is_bool(Args& a, const BuiltinContext&) { return a[0].is_boolean(); }
json f_is_null(Args& a, const BuiltinContext&) { return a[0].is_null(); }
json f_is_scalar(Args& a, const BuiltinContext&) { return a[0].is_primitive() && !a[0].is_null(); }
json f_is_numeric(Args& a, const BuiltinContext&) {
    json n;
    return a[0].is_number() || (a[0].is_string() && parse_numeric(a[0].get_ref<const std::string&>(), n, true));
}
json f_isset(Args& a, const BuiltinContext&) {
    for (auto& v : a)
        if (v.is_null()) return false;
    return true;
}
json f_intval(Args& a, const BuiltinContext&) { return to_int(a[0]); }
json f_floatval(Args& a, const BuiltinContext&) { return to_double(a[0]); }
json f_strval(Args& a, const BuiltinContext&) { return to_text(a[0]); }
json f_boolval(Args& a, const BuiltinContext&) { return truthy(a[0]); }

// ---- arrays and objects

json f_array_keys(Args& a, const BuiltinContext&) {
    const json& c = container_arg(a, 0);
    json out = json::array();
    if (c.is_object()) {
        for (auto it = c.begin(); it != c.end(); ++it) out.push_back(it.key());
    } else {
        for (size_t i = 0; i < c.size(); ++i) out.push_back(i);
    }
    return out;
}
json f_array_values(Args& a, const BuiltinContext&) {
    const json& c = container_arg(a, 0);
    json out = json::array();
    for (auto& v : c) out.push_back(v);
    return out;
}
json f_in_array(Args& a, const BuiltinContext&) {
    const json& c = container_arg(a, 1);
    bool strict = a.size() > 2 && truthy(a[2]);
    for (auto& v : c)
        if (strict ? strict_equal(v, a[0]) : loose_equal(v, a[0])) return true;
    return false;
}
json f_array_key_exists(Args& a, const BuiltinContext&) {
    const json& c = container_arg(a, 1);
    if (c.is_object()) return c.contains(to_text(a[0]));
    json n;
    if (!to_number(a[0], n) || n.is_number_float()) return false;
    long long k = n.get<long long>();
    return k >= 0 && static_cast<size_t>(k) < c.size();
}
json f_array_push(Args& a, const BuiltinContext&) {
    json& arr = array_ref(a, 0);
    for (size_t i = 1; i < a.size(); ++i) arr.push_back(a[i]);
    return arr.size();
}
json f_array_pop(Args& a, const BuiltinContext&) {
    if (a[0].is_object()) {
        if (a[0].empty()) return nullptr;
        auto last = std::prev(a[0].end());
        json v = *last;
        a[0].erase(last.key());
        return v;
    }
    json& arr = array_ref(a, 0);
    if (arr.empty()) return nullptr;
    json v = arr.back();
    arr.erase(arr.size() - 1);
    return v;
}
json f_array_shift(Args& a, const BuiltinContext&) {
    json& arr = array_ref(a, 0);
    if (arr.empty()) return nullptr;
    json v = arr.front();
    arr.erase(arr.begin());
    return v;
}
json f_array_unshift(Args& a, const BuiltinContext&) {
    json& arr = array_ref(a, 0);
    json out = json::array();
    for (size_t i = 1; i < a.size(); ++i) out.push_back(a[i]);
    for (auto& v : arr) out.push_back(std::move(v));
    arr = std::move(out);
    return arr.size();
}
json f_array_slice(Args& a, const BuiltinContext&) {
    const json& c = container_arg(a, 0);
    json items = json::array();
    for (auto& v : c) items.push_back(v);
    long long n = static_cast<long long>(items.size());
    long long off = int_arg(a, 1);
    if (off < 0) off = std::max(0LL, n + off);
    off = std::min(off, n);
    long long len = n - off;
    if (a.size() > 2 && !a[2].is_null()) {
        len = int_arg(a, 2);
        if (len < 0) len = std::max(0LL, n - off + len);
        len = std::min(len, n - off);
    }
    json out = json::array();
    for (long long i = off; i < off + len; ++i) out.push_back(items[static_cast<size_t>(i)]);
    return out;
}
json f_array_merge(Args& a, const BuiltinContext&) {
    bool all_arrays = true;
    for (size_t i = 0; i < a.size(); ++i) {
        if (a[i].is_null()) continue;
        container_arg(a, i);
        if (a[i].is_object()) all_arrays = false;
    }
    if (all_arrays) {
        json out = json::array();
        for (auto& c : a)
            for (auto& v : c) out.push_back(v);
        return out;
    }
    json out = json::object();
    size_t next = 0;
    for (auto& c : a) {
        if (c.is_object()) {
            for (auto it = c.begin(); it != c.end(); ++it) out[it.key()] = it.value();
        } else {
            for (auto& v : c) {
                while (out.contains(std::to_string(next))) ++next;
                out[std::to_string(next++)] = v;
            }
        }
    }
    return out;
}
json f_array_reverse(Args& a, const BuiltinContext&) {
    const json& c = container_arg(a, 0);
    if (c.is_object()) return c;  // objects keep their (sorted) key order
    json out = json::array();
    for (auto it = c.rbegin(); it != c.rend(); ++it) out.push_back(*it);
    return out;
}
json f_array_sum(Args& a, const BuiltinContext&) {
    json total = 0LL;
    for (auto& v : container_arg(a, 0)) total = arithmetic('+', total, v);
    return total;
}
json sort_impl(Args& a, bool reverse) {
    json& arr = array_ref(a, 0);
    std::vector<json> items(arr.begin(), arr.end());
    std::stable_sort(items.begin(), items.end(), [&](const json& x, const json& y) {
        int c = compare(x, y, "sort");
        return reverse ? c > 0 : c < 0;
    });
    arr = json(items);
    return true;
}
json f_sort(Args& a, const BuiltinContext&) { return sort_impl(a, false); }
json f_rsort(Args& a, const BuiltinContext&) { return sort_impl(a, true); }
json f_range(Args& a, const BuiltinContext&) {
    json s, e, st = 1LL;
    number_arg(a, 0, s);
    number_arg(a, 1, e);
    if (a.size() > 2) number_arg(a, 2, st);
    bool real = s.is_number_float() || e.is_number_float() || st.is_number_float();
    double from = s.get<double>(), to = e.get<double>(), step = std::fabs(st.get<double>());
    if (step == 0) throw ValueError("the step cannot be 0");
    double count = std::floor(std::fabs(to - from) / step) + 1;
    if (count > 10'000'000) throw ValueError("would make " + std::to_string(static_cast<long long>(count)) + " elements (the limit is 10000000)");
    json out = json::array();
    double dir = to >= from ? 1 : -1;
    for (long long i = 0; i < static_cast<long long>(count); ++i) {
        if (real) out.push_back(from + dir * step * static_cast<double>(i));
        else out.push_back(s.get<long long>() + static_cast<long long>(dir) * std::llabs(st.get<long long>()) * i);
    }
    return out;
}

// ---- strings

json f_substr(Args& a, const BuiltinContext&) {
    std::string s = text_arg(a, 0);
    long long n = static_cast<long long>(s.size());
    long long start = int_arg(a, 1);
    if (start < 0) start = std::max(0LL, n + start);
    if (start > n) return "";
    long long len = n - start;
    if (a.size() > 2 && !a[2].is_null()) {
        len = int_arg(a, 2);
        if (len < 0) len = std::max(0LL, n - start + len);
    }
    return s.substr(static_cast<size_t>(start), static_cast<size_t>(std::min(len, n - start)));
}
json f_strtoupper(Args& a, const BuiltinContext&) {
    std::string s = text_arg(a, 0);
    for (auto& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return s;
}
json f_strtolower(Args& a, const BuiltinContext&) {
    std::string s = text_arg(a, 0);
    for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
}
json f_ucfirst(Args& a, const BuiltinContext&) {
    std::string s = text_arg(a, 0);
    if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
    return s;
}
json trim_impl(Args& a, bool left, bool right) {
    std::string s = text_arg(a, 0);
    std::string chars = a.size() > 1 ? text_arg(a, 1) : std::string(" \t\n\r\v\f", 6) + std::string(1, '\0');
    size_t b = 0, e = s.size();
    if (left)
        while (b < e && chars.find(s[b]) != std::string::npos) ++b;
    if (right)
        while (e > b && chars.find(s[e - 1]) != std::string::npos) --e;
    return s.substr(b, e - b);
}
json f_trim(Args& a, const BuiltinContext&) { return trim_impl(a, true, true); }
json f_ltrim(Args& a, const BuiltinContext&) { return trim_impl(a, true, false); }
json f_rtrim(Args& a, const BuiltinContext&) { return trim_impl(a, false, true); }
json f_str_repeat(Args& a, const BuiltinContext& c) {
    std::string s = text_arg(a, 0);
    long long n = int_arg(a, 1);
    if (n < 0) throw ValueError("the count cannot be negative");
    if (!s.empty() && static_cast<unsigned long long>(n) > c.max_string_bytes / s.size()) check_length(c.max_string_bytes + 1, c);
    std::string out;
    out.reserve(s.size() * static_cast<size_t>(n));
    for (long long i = 0; i < n; ++i) out += s;
    return out;
}
json f_strpos(Args& a, const BuiltinContext&) {
    std::string h = text_arg(a, 0), n = text_arg(a, 1);
    long long off = a.size() > 2 ? int_arg(a, 2) : 0;
    if (off < 0) off = std::max(0LL, static_cast<long long>(h.size()) + off);
    auto p = h.find(n, static_cast<size_t>(off));
    if (p == std::string::npos) return false;
    return p;
}
json f_implode(Args& a, const BuiltinContext& c) {
    // implode(glue, pieces), also implode(pieces) and the legacy implode(pieces, glue)
    std::string glue;
    const json* pieces = nullptr;
    if (a.size() == 1) {
        pieces = &container_arg(a, 0);
    } else if (a[0].is_array() || a[0].is_object()) {
        pieces = &a[0];
        glue = text_arg(a, 1);
    } else {
        glue = text_arg(a, 0);
        pieces = &container_arg(a, 1);
    }
    std::string out;
    bool first = true;
    for (auto& v : *pieces) {
        if (!first) out += glue;
        first = false;
        out += to_text(v);
        check_length(out.size(), c);
    }
    return out;
}
json f_explode(Args& a, const BuiltinContext&) {
    std::string d = text_arg(a, 0), s = text_arg(a, 1);
    if (d.empty()) throw ValueError("the delimiter cannot be empty");
    long long limit = a.size() > 2 ? int_arg(a, 2) : 0;
    std::vector<std::string> parts;
    size_t b = 0;
    for (;;) {
        if (limit > 0 && static_cast<long long>(parts.size()) == limit - 1) break;
        auto p = s.find(d, b);
        if (p == std::string::npos) break;
        parts.push_back(s.substr(b, p - b));
        b = p + d.size();
    }
    parts.push_back(s.substr(b));
    if (limit < 0) parts.resize(static_cast<size_t>(std::max(0LL, static_cast<long long>(parts.size()) + limit)));
    return parts;
}
std::string replace_all(std::string subject, const std::string& from, const std::string& to, const BuiltinContext& c) {
    if (from.empty()) return subject;
    std::string out;
    size_t b = 0;
    for (;;) {
        auto p = subject.find(from, b);
        if (p == std::string::npos) break;
        out.append(subject, b, p - b);
        out += to;
        check_length(out.size(), c);
        b = p + from.size();
    }
    out.append(subject, b, std::string::npos);
    return out;
}
json f_str_replace(Args& a, const BuiltinContext& c) {
    std::vector<std::string> from, to;
    bool to_list = a[1].is_array();
    if (a[0].is_array()) {
        for (auto& v : a[0]) from.push_back(to_text(v));
    } else {
        from.push_back(text_arg(a, 0));
    }
    if (to_list) {
        for (auto& v : a[1]) to.push_back(to_text(v));
    } else {
        std::string r = text_arg(a, 1);
        to.assign(from.size(), r);
    }
    auto apply = [&](std::string s) {
        for (size_t i = 0; i < from.size(); ++i) s = replace_all(std::move(s), from[i], i < to.size() ? to[i] : "", c);
        return s;
    };
    if (a[2].is_array()) {
        json out = json::array();
        for (auto& v : a[2]) out.push_back(apply(to_text(v)));
        return out;
    }
    return apply(text_arg(a, 2));
}

json f_sprintf(Args& a, const BuiltinContext& c) {
    std::string fmt = text_arg(a, 0), out;
    size_t next = 1;
    for (size_t i = 0; i < fmt.size(); ++i) {
        if (fmt[i] != '%') {
            out += fmt[i];
            continue;
        }
        if (++i >= fmt.size()) throw ValueError("the format ends with a lone '%'");
        if (fmt[i] == '%') {
            out += '%';
            continue;
        }
        std::string flags;
        while (i < fmt.size() && std::string("-+ 0#").find(fmt[i]) != std::string::npos) flags += fmt[i++];
        size_t width = 0, precision = 0;
        bool has_precision = false;
        while (i < fmt.size() && std::isdigit(static_cast<unsigned char>(fmt[i]))) width = std::min<size_t>(width * 10 + static_cast<size_t>(fmt[i++] - '0'), 1u << 20);
        if (i < fmt.size() && fmt[i] == '.') {
            has_precision = true;
            ++i;
            while (i < fmt.size() && std::isdigit(static_cast<unsigned char>(fmt[i]))) precision = std::min<size_t>(precision * 10 + static_cast<size_t>(fmt[i++] - '0'), 1u << 20);
        }
        while (i < fmt.size() && (fmt[i] == 'l' || fmt[i] == 'h')) ++i;  // length modifiers are ignored
        if (i >= fmt.size()) throw ValueError("incomplete conversion at the end of the format");
        char conv = fmt[i];
        if (std::string("diufFeEgGsxXocb").find(conv) == std::string::npos)
            throw ValueError(std::string("unknown conversion '%") + conv + "'");
        if (next >= a.size()) throw ValueError("too few arguments for the format \"" + fmt + "\"");
        check_length(width + precision, c);
        const json& v = a[next++];
        std::string piece;
        std::string spec = "%" + flags + (width ? std::to_string(width) : "") + (has_precision ? "." + std::to_string(precision) : "");
        auto format = [&](const std::string& f, auto value) {
            int n = std::snprintf(nullptr, 0, f.c_str(), value);
            std::string s(static_cast<size_t>(std::max(n, 0)), '\0');
            std::snprintf(s.data(), s.size() + 1, f.c_str(), value);
            return s;
        };
        switch (conv) {
            case 'd': case 'i': piece = format(spec + "lld", to_int(v)); break;
            case 'u': piece = format(spec + "llu", static_cast<unsigned long long>(to_int(v))); break;
            case 'x': case 'X': case 'o':
                piece = format(spec + "ll" + conv, static_cast<unsigned long long>(to_int(v)));
                break;
            case 'c': piece = std::string(1, static_cast<char>(to_int(v))); break;
            case 'b': {
                unsigned long long u = static_cast<unsigned long long>(to_int(v));
                do {
                    piece.insert(piece.begin(), static_cast<char>('0' + (u & 1)));
                    u >>= 1;
                } while (u);
                if (piece.size() < width) piece.insert(0, width - piece.size(), flags.find('0') != std::string::npos ? '0' : ' ');
                break;
            }
            case 's': {
                std::string s = to_text(v);
                if (has_precision && s.size() > precision) s.resize(precision);
                if (s.size() < width) {
                    if (flags.find('-') != std::string::npos) s.append(width - s.size(), ' ');
                    else s.insert(0, width - s.size(), flags.find('0') != std::string::npos ? '0' : ' ');
                }
                piece = s;
                break;
            }
            default: piece = format(spec + conv, to_double(v)); break;  // f F e E g G
        }
        out += piece;
        check_length(out.size(), c);
    }
    return out;
}

// ---- numbers

json min_max(Args& a, bool want_max) {
    const json* items = &a[0];
    json list;
    if (a.size() > 1) {
        list = json(a);
        items = &list;
    } else if (!a[0].is_array() && !a[0].is_object()) {
        return a[0];
    }
    if (items->empty()) throw ValueError("needs at least one value (got an empty array)");
    const json* best = nullptr;
    for (auto& v : *items) {
        if (!best) {
            best = &v;
            continue;
        }
        int c = compare(v, *best, want_max ? "max" : "min");
        if (want_max ? c > 0 : c < 0) best = &v;
    }
    return *best;
}
json f_min(Args& a, const BuiltinContext&) { return min_max(a, false); }
json f_max(Args& a, const BuiltinContext&) { return min_max(a, true); }
json f_abs(Args& a, const BuiltinContext&) {
    json n;
    number_arg(a, 0, n);
    if (n.is_number_integer()) {
        long long x = n.get<long long>();
        if (x == LLONG_MIN) return -static_cast<double>(x);
        return x < 0 ? -x : x;
    }
    return std::fabs(n.get<double>());
}
json f_round(Args& a, const BuiltinContext&) {
    json n;
    double x = number_arg(a, 0, n);
    long long digits = a.size() > 1 ? int_arg(a, 1) : 0;
    double scale = std::pow(10.0, static_cast<double>(digits));
    return std::round(x * scale) / scale;
}
json f_floor(Args& a, const BuiltinContext&) {
    json n;
    return std::floor(number_arg(a, 0, n));
}
json f_ceil(Args& a, const BuiltinContext&) {
    json n;
    return std::ceil(number_arg(a, 0, n));
}
json f_sqrt(Args& a, const BuiltinContext&) {
    json n;
    return std::sqrt(number_arg(a, 0, n));
}
json f_pow(Args& a, const BuiltinContext&) {
    json x, y;
    number_arg(a, 0, x);
    number_arg(a, 1, y);
    if (x.is_number_integer() && y.is_number_integer() && y.get<long long>() >= 0) {
        long long base = x.get<long long>(), e = y.get<long long>(), r = 1;
        bool overflow = false;
        for (long long i = 0; i < e && !overflow; ++i) overflow = __builtin_mul_overflow(r, base, &r);
        if (!overflow) return r;
    }
    return std::pow(x.get<double>(), y.get<double>());
}

const Builtin kBuiltins[] = {
    {"count", 1, 2, false, f_count},
    {"sizeof", 1, 2, false, f_count},
    {"length", 1, 1, false, f_length},
    {"strlen", 1, 1, false, f_strlen},
    {"json_encode", 1, 2, false, f_json_encode},
    {"json_decode", 1, 2, false, f_json_decode},
    {"gettype", 1, 1, false, f_gettype},
    {"is_array", 1, 1, false, f_is_array},
    {"is_object", 1, 1, false, f_is_object},
    {"is_string", 1, 1, false, f_is_string},
    {"is_int", 1, 1, false, f_is_int},
    {"is_integer", 1, 1, false, f_is_int},
    {"is_long", 1, 1, false, f_is_int},
    {"is_float", 1, 1, false, f_is_float},
    {"is_double", 1, 1, false, f_is_float},
    {"is_numeric", 1, 1, false, f_is_numeric},
    {"is_bool", 1, 1, false, f_is_bool},
    {"is_null", 1, 1, false, f_is_null},
    {"is_scalar", 1, 1, false, f_is_scalar},
    {"isset", 1, -1, false, f_isset},
    {"intval", 1, 1, false, f_intval},
    {"floatval", 1, 1, false, f_floatval},
    {"doubleval", 1, 1, false, f_floatval},
    {"strval", 1, 1, false, f_strval},
    {"boolval", 1, 1, false, f_boolval},
    {"array_keys", 1, 1, false, f_array_keys},
    {"array_values", 1, 1, false, f_array_values},
    {"in_array", 2, 3, false, f_in_array},
    {"array_key_exists", 2, 2, false, f_array_key_exists},
    {"key_exists", 2, 2, false, f_array_key_exists},
    {"array_push", 1, -1, true, f_array_push},
    {"array_pop", 1, 1, true, f_array_pop},
    {"array_shift", 1, 1, true, f_array_shift},
    {"array_unshift", 1, -1, true, f_array_unshift},
    {"array_slice", 2, 3, false, f_array_slice},
    {"array_merge", 1, -1, false, f_array_merge},
    {"array_reverse", 1, 1, false, f_array_reverse},
    {"array_sum", 1, 1, false, f_array_sum},
    {"sort", 1, 1, true, f_sort},
    {"rsort", 1, 1, true, f_rsort},
    {"range", 2, 3, false, f_range},
    {"substr", 2, 3, false, f_substr},
    {"strtoupper", 1, 1, false, f_strtoupper},
    {"strtolower", 1, 1, false, f_strtolower},
    {"ucfirst", 1, 1, false, f_ucfirst},
    {"trim", 1, 2, false, f_trim},
    {"ltrim", 1, 2, false, f_ltrim},
    {"rtrim", 1, 2, false, f_rtrim},
    {"str_repeat", 2, 2, false, f_str_repeat},
    {"strpos", 2, 3, false, f_strpos},
    {"implode", 1, 2, false, f_implode},
    {"join", 1, 2, false, f_implode},
    {"explode", 2, 3, false, f_explode},
    {"str_replace", 3, 3, false, f_str_replace},
    {"sprintf", 1, -1, false, f_sprintf},
    {"min", 1, -1, false, f_min},
    {"max", 1, -1, false, f_max},
    {"abs", 1, 1, false, f_abs},
    {"round", 1, 2, false, f_round},
    {"floor", 1, 1, false, f_floor},
    {"ceil", 1, 1, false, f_ceil},
    {"sqrt", 1, 1, false, f_sqrt},
    {"pow", 2, 2, false, f_pow},
};

}  // namespace

void check_length(std::size_t n, const BuiltinContext& ctx) {
    if (n > ctx.max_string_bytes)
        throw ValueError("the string would be longer than the limit of " + std::to_string(ctx.max_string_bytes) + " bytes");
}

const Builtin* find_builtin(const std::string& name) {
    static const std::map<std::string, const Builtin*> table = [] {
        std::map<std::string, const Builtin*> t;
        for (const auto& b : kBuiltins) t[b.name] = &b;
        return t;
    }();
    auto it = table.find(name);
    return it == table.end() ? nullptr : it->second;
}

std::vector<std::string> builtin_names() {
    std::vector<std::string> out;
    for (const auto& b : kBuiltins) out.push_back(b.name);
    return out;
}

}  // namespace kinako::bedrock::jx9
