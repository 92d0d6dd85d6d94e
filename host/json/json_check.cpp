#include "json/json_check.hpp"

#include <cstring>
#include <memory>
#include <unordered_set>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace llmproxy::json_fields {

namespace {

constexpr std::size_t kNone = std::string_view::npos;

int hex_digit(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
        return (c | 0x20) - 'a' + 10;
    return -1;
}

// The UTF-16 code unit of the four hex digits at s[i, i + 4), or -1.
long code_unit(std::string_view s, std::size_t i) {
    if (i + 4 > s.size())
        return -1;
    long unit = 0;
    for (std::size_t k = i; k < i + 4; ++k) {
        int digit = hex_digit(s[k]);
        if (digit < 0)
            return -1;
        unit = unit * 16 + digit;
    }
    return unit;
}

bool is_high_surrogate(long unit) {
    return unit >= 0xD800 && unit <= 0xDBFF;
}

bool is_low_surrogate(long unit) {
    return unit >= 0xDC00 && unit <= 0xDFFF;
}

// The length of the UTF-8 sequence that starts at s[i] (a byte >= 0x80), or 0 when it is not
// well-formed (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
    auto in = [&](std::size_t k, unsigned lo, unsigned hi) {
        if (k >= s.size())
            return false;
        unsigned b = static_cast<unsigned char>(s[k]);
        return b >= lo && b <= hi;
    };
    const unsigned c = static_cast<unsigned char>(s[i]);
    if (c >= 0xC2 && c <= 0xDF)
        return in(i + 1, 0x80, 0xBF) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        return in(i + 1, lo, hi) && in(i + 2, 0x80, 0xBF) ? 3 : 0;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        return in(i + 1, lo, hi) && in(i + 2, 0x80, 0xBF) && in(i + 3, 0x80, 0xBF) ? 4 : 0;
    }
    return 0;
}

// The first index from i on whose byte a string's check must look at: a quote, a backslash, a
// control character or a non-ASCII byte (or a position near the end). Plain text is skipped 16
// bytes at a time: checking a 2 MB request body byte by byte took two thirds of llm-proxy's time
// for it.
std::size_t skip_plain_text(std::string_view s, std::size_t i) {
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20);
    while (i + 16 <= s.size()) {
        __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
        // Signed comparison: bytes of 0x80 and above count as below 0x20, as wanted.
        __m128i special = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(bytes, quote), _mm_cmpeq_epi8(bytes, backslash)),
            _mm_cmplt_epi8(bytes, space));
        int mask = _mm_movemask_epi8(special);
        if (mask != 0)
            return i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
        i += 16;
    }
#endif
    return i;
}

void append_utf8(unsigned long code_point, std::string& out) {
    if (code_point < 0x80) {
        out += static_cast<char>(code_point);
    } else if (code_point < 0x800) {
        out += static_cast<char>(0xC0 | (code_point >> 6));
        out += static_cast<char>(0x80 | (code_point & 0x3F));
    } else if (code_point < 0x10000) {
        out += static_cast<char>(0xE0 | (code_point >> 12));
        out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (code_point & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (code_point >> 18));
        out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (code_point & 0x3F));
    }
}

// One pass over a text: a recursive descent that builds nothing but the keys of the objects it is
// inside (a stack shared by all levels), to find duplicates.
class Checker {
  public:
    explicit Checker(std::string_view text) : s_(text) {}

    // True when the text is one strict value; otherwise why() says what is wrong.
    bool run() {
        std::size_t end = value(0, 0);
        if (end == kNone)
            return false;
        if (skip_ws(s_, end) != s_.size())
            return fail(skip_ws(s_, end), "text follows the value"), false;
        return true;
    }

    std::string why() const {
        std::string at = " (at byte " + std::to_string(failed_at_) + ")";
        if (duplicate_found_) {
            std::string key;
            unescape(duplicate_, key);
            if (key.size() > 64)
                key = key.substr(0, 64) + "...";
            return "the key \"" + key + "\" appears twice in one object" + at;
        }
        return std::string(reason_) + at;
    }

  private:
    struct Key {
        std::string_view raw;  // between the quotes
        bool escaped;
    };
    // Beyond this many keys an object's keys go into a hash set (no quadratic cost for a body
    // built to have a million keys).
    static constexpr std::size_t kLinearKeys = 32;

    std::size_t fail(std::size_t at, const char* reason) {
        if (!reason_) {
            failed_at_ = at;
            reason_ = reason;
        }
        return kNone;
    }

    std::size_t value(std::size_t i, int depth) {
        i = skip_ws(s_, i);
        if (i >= s_.size())
            return fail(i, "the text ends where a value should be");
        if (depth > kMaxJsonDepth)
            return fail(i, "the values are nested too deeply");
        switch (s_[i]) {
            case '"':
                return string(i);
            case '{':
                return object(i, depth);
            case '[':
                return array(i, depth);
            default:
                break;
        }
        for (std::string_view literal : {"true", "false", "null"})
            if (s_.substr(i, literal.size()) == literal)
                return i + literal.size();
        return number(i);
    }

    std::size_t object(std::size_t i, int depth) {
        const std::size_t first_key = keys_.size();
        std::unique_ptr<std::unordered_set<std::string>> many;  // once past kLinearKeys
        i = skip_ws(s_, i + 1);
        if (i < s_.size() && s_[i] == '}')
            return i + 1;
        while (true) {
            if (i >= s_.size() || s_[i] != '"')
                return fail(i, "an object member must start with a quoted key");
            const std::size_t key_at = i;
            i = string(i);
            if (i == kNone)
                return i;
            Key key{s_.substr(key_at + 1, i - key_at - 2), last_string_escaped_};
            if (!add_key(key, first_key, many)) {
                duplicate_ = key.raw;
                duplicate_found_ = true;
                return fail(key_at, "duplicate key");
            }
            i = skip_ws(s_, i);
            if (i >= s_.size() || s_[i] != ':')
                return fail(i, "a ':' must follow an object key");
            i = value(i + 1, depth + 1);
            if (i == kNone)
                return i;
            i = skip_ws(s_, i);
            if (i < s_.size() && s_[i] == ',') {
                i = skip_ws(s_, i + 1);
                continue;
            }
            if (i >= s_.size() || s_[i] != '}')
                return fail(i, "an object must continue with ',' or end with '}'");
            keys_.resize(first_key);
            return i + 1;
        }
    }

    std::size_t array(std::size_t i, int depth) {
        i = skip_ws(s_, i + 1);
        if (i < s_.size() && s_[i] == ']')
            return i + 1;
        while (true) {
            i = value(i, depth + 1);
            if (i == kNone)
                return i;
            i = skip_ws(s_, i);
            if (i < s_.size() && s_[i] == ',') {
                ++i;
                continue;
            }
            if (i >= s_.size() || s_[i] != ']')
                return fail(i, "an array must continue with ',' or end with ']'");
            return i + 1;
        }
    }

    // False when key is already among the object's keys (those from first_key on, or in many).
    bool add_key(const Key& key, std::size_t first_key,
                 std::unique_ptr<std::unordered_set<std::string>>& many) {
        if (many)
            return many->insert(decoded(key)).second;
        for (std::size_t k = first_key; k < keys_.size(); ++k)
            if (same(keys_[k], key))
                return false;
        keys_.push_back(key);
        if (keys_.size() - first_key > kLinearKeys) {
            many = std::make_unique<std::unordered_set<std::string>>();
            for (std::size_t k = first_key; k < keys_.size(); ++k)
                many->insert(decoded(keys_[k]));
        }
        return true;
    }

    static std::string decoded(const Key& key) {
        if (!key.escaped)
            return std::string(key.raw);
        std::string text;
        unescape(key.raw, text);
        return text;
    }

    static bool same(const Key& a, const Key& b) {
        if (!a.escaped && !b.escaped)
            return a.raw == b.raw;
        return decoded(a) == decoded(b);
    }

    std::size_t string(std::size_t i) {
        last_string_escaped_ = false;
        for (++i; i < s_.size(); ++i) {
            i = skip_plain_text(s_, i);
            if (i >= s_.size())
                break;
            unsigned char c = static_cast<unsigned char>(s_[i]);
            if (c == '"')
                return i + 1;
            if (c < 0x20)
                return fail(i, "a string contains a raw control character (escape it)");
            if (c >= 0x80) {
                std::size_t length = utf8_sequence(s_, i);
                if (length == 0)
                    return fail(i, "a string is not well-formed UTF-8");
                i += length - 1;
                continue;
            }
            if (c == '\\') {
                last_string_escaped_ = true;
                i = escape(i);
                if (i == kNone)
                    return i;
            }
        }
        return fail(s_.size(), "a string is not closed");
    }

    // i is at a backslash; returns the index of the escape's last byte.
    std::size_t escape(std::size_t i) {
        if (i + 1 >= s_.size())
            return fail(i, "a string is not closed");
        char e = s_[i + 1];
        if (e != 'u') {
            if (e == 0 || !std::strchr("\"\\/bfnrt", e))
                return fail(i, "a string has an escape that JSON does not define");
            return i + 1;
        }
        long unit = code_unit(s_, i + 2);
        if (unit < 0)
            return fail(i, "a \\u escape needs four hex digits");
        if (is_low_surrogate(unit))
            return fail(i, "a \\u escape is a low surrogate without a high one before it");
        if (!is_high_surrogate(unit))
            return i + 5;
        if (i + 7 < s_.size() && s_[i + 6] == '\\' && s_[i + 7] == 'u' &&
            is_low_surrogate(code_unit(s_, i + 8)))
            return i + 11;
        return fail(i, "a \\u escape is a high surrogate without a low one after it");
    }

    std::size_t number(std::size_t i) {
        const std::size_t start = i;
        auto digits = [&](std::size_t& at) {
            std::size_t first = at;
            while (at < s_.size() && s_[at] >= '0' && s_[at] <= '9')
                ++at;
            return at > first;
        };
        if (i < s_.size() && s_[i] == '-')
            ++i;
        if (i < s_.size() && s_[i] == '0')
            ++i;
        else if (!digits(i))
            return fail(start, "not a JSON value");
        if (i < s_.size() && s_[i] == '.' && !digits(++i))
            return fail(start, "a number has no digits after its '.'");
        if (i < s_.size() && (s_[i] == 'e' || s_[i] == 'E')) {
            ++i;
            if (i < s_.size() && (s_[i] == '+' || s_[i] == '-'))
                ++i;
            if (!digits(i))
                return fail(start, "a number has no digits in its exponent");
        }
        return i;
    }

    std::string_view s_;
    std::vector<Key> keys_;  // of the objects being checked, outermost first
    bool last_string_escaped_ = false;
    const char* reason_ = nullptr;
    std::size_t failed_at_ = 0;
    std::string_view duplicate_;  // the key found twice
    bool duplicate_found_ = false;
};

}  // namespace

std::string check(std::string_view text) {
    Checker checker(text);
    return checker.run() ? std::string() : checker.why();
}

bool valid(std::string_view text) {
    return Checker(text).run();
}

void unescape(std::string_view raw, std::string& out) {
    std::size_t i = 0;
    while (i < raw.size()) {
        const void* hit = std::memchr(raw.data() + i, '\\', raw.size() - i);
        std::size_t backslash =
            hit ? static_cast<std::size_t>(static_cast<const char*>(hit) - raw.data()) : raw.size();
        out.append(raw, i, backslash - i);
        if (backslash + 1 >= raw.size())
            return;
        char e = raw[backslash + 1];
        i = backslash + 2;
        switch (e) {
            case 'b':
                out += '\b';
                break;
            case 'f':
                out += '\f';
                break;
            case 'n':
                out += '\n';
                break;
            case 'r':
                out += '\r';
                break;
            case 't':
                out += '\t';
                break;
            case 'u': {
                long unit = code_unit(raw, i);
                i += 4;
                unsigned long code_point = static_cast<unsigned long>(unit < 0 ? 0xFFFD : unit);
                if (is_high_surrogate(unit)) {
                    long low = i + 6 <= raw.size() ? code_unit(raw, i + 2) : -1;
                    if (raw.substr(i, 2) == "\\u" && is_low_surrogate(low)) {
                        code_point = 0x10000 + ((static_cast<unsigned long>(unit) - 0xD800) << 10) +
                                     (static_cast<unsigned long>(low) - 0xDC00);
                        i += 6;
                    } else {
                        code_point = 0xFFFD;  // not reached for checked text
                    }
                } else if (is_low_surrogate(unit)) {
                    code_point = 0xFFFD;  // not reached for checked text
                }
                append_utf8(code_point, out);
                break;
            }
            default:  // '"', '\\', '/'
                out += e;
                break;
        }
    }
}

}  // namespace llmproxy::json_fields
