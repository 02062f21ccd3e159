// Jx9 lexer. Comments: // and # to the end of the line, /* ... */. Strings: '...' (only \' and
// \\ are escapes) and "..." (escapes \n \t \r \v \f \0 \\ \" \$ \/ \uXXXX, and interpolation of
// "$name" and "{$expression}").
#include "lexer.hpp"

#include <cctype>

namespace kinako::bedrock::jx9 {

namespace {

bool ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Longest operators first.
const char* const kOperators[] = {"===", "!==", "..=", "==", "!=", "<>", "<=", ">=", "&&", "||", "++", "--", "+=", "-=",
                                  "*=",  "/=",  "%=",  ".=", "..", "=>", "{",  "}",  "(",  ")",  "[",  "]",  ",",  ";",
                                  ":",   "?",   ".",   "=",  "<",  ">",  "+",  "-",  "*",  "/",  "%",  "!"};

void append_utf8(std::string& out, unsigned long cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

class Lexer {
  public:
    Lexer(const std::string& text, const std::string& source, Position start)
    : s_(text), source_(source), line_(start.line), col_(start.column) {}

    std::vector<Token> run() {
        std::vector<Token> out;
        for (;;) {
            skip_blanks();
            Token t;
            t.pos = here();
            if (i_ >= s_.size()) {
                t.kind = Tok::End;
                out.push_back(std::move(t));
                return out;
            }
            char c = s_[i_];
            if (c == '$') {
                advance();
                if (i_ >= s_.size() || !ident_start(s_[i_])) fail(t.pos, "expected a variable name after '$'");
                t.kind = Tok::Variable;
                t.text = name();
            } else if (ident_start(c)) {
                t.kind = Tok::Ident;
                t.text = name();
            } else if (std::isdigit(static_cast<unsigned char>(c))) {
                t.kind = Tok::Number;
                t.text = number();
            } else if (c == '"' || c == '\'') {
                t.kind = Tok::String;
                t.segments = c == '"' ? double_quoted() : single_quoted();
            } else {
                t.kind = Tok::Op;
                for (const char* op : kOperators) {
                    size_t n = std::char_traits<char>::length(op);
                    if (s_.compare(i_, n, op) == 0) {
                        t.text = op;
                        break;
                    }
                }
                if (t.text.empty()) {
                    std::string shown = std::isprint(static_cast<unsigned char>(c)) ? std::string(1, c) : "\\x" + hex(c);
                    fail(t.pos, "unexpected character '" + shown + "'");
                }
                for (size_t k = 0; k < t.text.size(); ++k) advance();
            }
            out.push_back(std::move(t));
        }
    }

  private:
    static std::string hex(char c) {
        const char* d = "0123456789abcdef";
        unsigned char u = static_cast<unsigned char>(c);
        return std::string{d[u >> 4], d[u & 15]};
    }
    [[noreturn]] void fail(Position p, const std::string& what) const { raise(source_, p, "syntax", what); }
    Position here() const { return Position{line_, col_}; }
    void advance() {
        if (s_[i_] == '\n') {
            ++line_;
            col_ = 1;
        } else {
            ++col_;
        }
        ++i_;
    }
    void skip_blanks() {
        while (i_ < s_.size()) {
            char c = s_[i_];
            if (std::isspace(static_cast<unsigned char>(c))) {
                advance();
            } else if (c == '#' || s_.compare(i_, 2, "//") == 0) {
                while (i_ < s_.size() && s_[i_] != '\n') advance();
            } else if (s_.compare(i_, 2, "/*") == 0) {
                Position start = here();
                advance();
                advance();
                while (i_ < s_.size() && s_.compare(i_, 2, "*/") != 0) advance();
                if (i_ >= s_.size()) fail(start, "unterminated /* comment");
                advance();
                advance();
            } else {
                return;
            }
        }
    }
    std::string name() {
        size_t b = i_;
        while (i_ < s_.size() && ident_char(s_[i_])) advance();
        return s_.substr(b, i_ - b);
    }
    std::string number() {
        size_t b = i_;
        if (s_.compare(i_, 2, "0x") == 0 || s_.compare(i_, 2, "0X") == 0) {
            advance();
            advance();
            while (i_ < s_.size() && std::isxdigit(static_cast<unsigned char>(s_[i_]))) advance();
        } else {
            auto digits = [&] {
                while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) advance();
            };
            digits();
            // "1.5" is a number, "1..2" is 1 .. 2
            if (i_ + 1 < s_.size() && s_[i_] == '.' && std::isdigit(static_cast<unsigned char>(s_[i_ + 1]))) {
                advance();
                digits();
            }
            if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
                size_t k = i_ + 1;
                if (k < s_.size() && (s_[k] == '+' || s_[k] == '-')) ++k;
                if (k < s_.size() && std::isdigit(static_cast<unsigned char>(s_[k]))) {
                    while (i_ < k) advance();
                    digits();
                }
            }
        }
        if (i_ < s_.size() && ident_char(s_[i_])) fail(here(), "unexpected character '" + std::string(1, s_[i_]) + "' in a number");
        return s_.substr(b, i_ - b);
    }
    std::vector<StringSegment> single_quoted() {
        Position start = here();
        advance();
        std::string out;
        for (;;) {
            if (i_ >= s_.size()) fail(start, "unterminated string");
            char c = s_[i_];
            if (c == '\'') {
                advance();
                break;
            }
            if (c == '\\' && i_ + 1 < s_.size() && (s_[i_ + 1] == '\'' || s_[i_ + 1] == '\\')) {
                advance();
                c = s_[i_];
            }
            out += c;
            advance();
        }
        return {StringSegment{false, out, start}};
    }
    std::vector<StringSegment> double_quoted() {
        Position start = here();
        advance();
        std::vector<StringSegment> segs;
        std::string lit;
        auto flush = [&] {
            if (!lit.empty() || segs.empty()) segs.push_back(StringSegment{false, lit, start});
            lit.clear();
        };
        for (;;) {
            if (i_ >= s_.size()) fail(start, "unterminated string");
            char c = s_[i_];
            if (c == '"') {
                advance();
                break;
            }
            if (c == '\\' && i_ + 1 < s_.size()) {
                Position esc = here();
                advance();
                char e = s_[i_];
                advance();
                switch (e) {
                    case 'n': lit += '\n'; break;
                    case 't': lit += '\t'; break;
                    case 'r': lit += '\r'; break;
                    case 'v': lit += '\v'; break;
                    case 'f': lit += '\f'; break;
                    case '0': lit += '\0'; break;
                    case '\\': lit += '\\'; break;
                    case '"': lit += '"'; break;
                    case '$': lit += '$'; break;
                    case '/': lit += '/'; break;
                    case 'u': {
                        if (i_ + 4 > s_.size()) fail(esc, "bad \\u escape (expected 4 hex digits)");
                        unsigned long cp = 0;
                        for (int k = 0; k < 4; ++k) {
                            char h = s_[i_];
                            if (!std::isxdigit(static_cast<unsigned char>(h))) fail(esc, "bad \\u escape (expected 4 hex digits)");
                            cp = cp * 16 + static_cast<unsigned long>(std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : (std::tolower(h) - 'a' + 10));
                            advance();
                        }
                        append_utf8(lit, cp);
                        break;
                    }
                    default: lit += '\\'; lit += e; break;  // unknown escapes stay as written
                }
                continue;
            }
            if (c == '$' && i_ + 1 < s_.size() && ident_start(s_[i_ + 1])) {
                flush();
                Position p = here();
                size_t b = i_;
                advance();
                while (i_ < s_.size() && ident_char(s_[i_])) advance();
                segs.push_back(StringSegment{true, s_.substr(b, i_ - b), p});
                continue;
            }
            if (c == '{' && i_ + 1 < s_.size() && s_[i_ + 1] == '$') {
                flush();
                Position open = here();
                advance();
                Position p = here();
                size_t b = i_;
                int depth = 1;
                char quote = 0;
                while (i_ < s_.size()) {
                    char d = s_[i_];
                    if (quote) {
                        if (d == '\\' && i_ + 1 < s_.size()) advance();
                        else if (d == quote) quote = 0;
                    } else if (d == '\'' || d == '"') {
                        quote = d;
                    } else if (d == '{') {
                        ++depth;
                    } else if (d == '}' && --depth == 0) {
                        break;
                    }
                    advance();
                }
                if (i_ >= s_.size()) fail(open, "unterminated {$...} in a string");
                segs.push_back(StringSegment{true, s_.substr(b, i_ - b), p});
                advance();  // the closing brace
                continue;
            }
            lit += c;
            advance();
        }
        flush();
        return segs;
    }

    const std::string& s_;
    const std::string& source_;
    size_t i_ = 0;
    int line_, col_;
};

}  // namespace

std::vector<Token> tokenize(const std::string& text, const std::string& source, Position start) {
    return Lexer(text, source, start).run();
}

std::string describe(const Token& t) {
    switch (t.kind) {
        case Tok::End: return "end of script";
        case Tok::Variable: return "$" + t.text;
        case Tok::String: {
            std::string s;
            for (auto& seg : t.segments) s += seg.text;
            if (s.size() > 40) s = s.substr(0, 37) + "...";
            return "string \"" + s + "\"";
        }
        default: return "'" + t.text + "'";
    }
}

}  // namespace kinako::bedrock::jx9
