#include "anthropic/json_scanner.hpp"

#include <array>
#include <limits>

#include "anthropic/string_runs.hpp"

namespace anthropic {

namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

bool is_continuation(unsigned char c) {
    return (c & 0xc0) == 0x80;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void append_utf8(std::string& out, std::uint32_t code_point) {
    if (code_point < 0x80) {
        out.push_back(static_cast<char>(code_point));
    } else if (code_point < 0x800) {
        out.push_back(static_cast<char>(0xc0 | (code_point >> 6)));
        out.push_back(static_cast<char>(0x80 | (code_point & 0x3f)));
    } else if (code_point < 0x10000) {
        out.push_back(static_cast<char>(0xe0 | (code_point >> 12)));
        out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | (code_point & 0x3f)));
    } else {
        out.push_back(static_cast<char>(0xf0 | (code_point >> 18)));
        out.push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | (code_point & 0x3f)));
    }
}

// The length of the UTF-8 sequence at `at` (at most `left` bytes there), or 0 when it is not a
// valid one: no overlong forms, no surrogates, nothing above U+10FFFF.
std::size_t utf8_length(const unsigned char* at, std::size_t left) {
    const unsigned char lead = at[0];
    std::size_t length;
    unsigned char low = 0x80, high = 0xbf;  // the range of the second byte
    if (lead >= 0xc2 && lead <= 0xdf) {
        length = 2;
    } else if (lead >= 0xe0 && lead <= 0xef) {
        length = 3;
        if (lead == 0xe0)
            low = 0xa0;  // overlong below
        else if (lead == 0xed)
            high = 0x9f;  // surrogates above
    } else if (lead >= 0xf0 && lead <= 0xf4) {
        length = 4;
        if (lead == 0xf0)
            low = 0x90;
        else if (lead == 0xf4)
            high = 0x8f;  // above U+10FFFF
    } else {
        return 0;
    }
    if (left < length || at[1] < low || at[1] > high)
        return 0;
    for (std::size_t i = 2; i < length; ++i)
        if (!is_continuation(at[i]))
            return 0;
    return length;
}

}  // namespace

bool JsonScanner::scan(std::string_view text, JsonTokens& tokens) {
    at_ = text.data();
    end_ = text.data() + text.size();
    nesting_.clear();
    // A member's key and its colon; at_ on the key's quote.
    auto member_key = [&] {
        token_start_ = at_;
        if (at_ == end_ || *at_ != '"' || !string_token(true, &tokens, true))
            return false;
        skip_space();
        if (at_ == end_ || *at_ != ':')
            return false;
        ++at_;
        skip_space();
        return true;
    };
    skip_space();
    for (;;) {
        // A value begins here.
        if (at_ == end_)
            return false;
        const char c = *at_;
        token_start_ = at_;
        if (c == '{' || c == '[') {
            if (nesting_.size() == kMaxDepth)
                return false;
            ++at_;
            nesting_.push_back(c);
            c == '{' ? tokens.object_start() : tokens.array_start();
            skip_space();
            if (at_ != end_ && *at_ == (c == '{' ? '}' : ']')) {
                ++at_;
                nesting_.pop_back();
                c == '{' ? tokens.object_end() : tokens.array_end();
            } else if (c == '[' || member_key()) {
                continue;  // its first value
            } else {
                return false;
            }
        } else if (c == '"') {
            if (!string_token(tokens.reads_string(), &tokens, false))
                return false;
        } else if (c == 't' || c == 'f' || c == 'n') {
            const std::string_view word = c == 't' ? "true" : c == 'f' ? "false" : "null";
            if (!literal(word))
                return false;
            tokens.other_value(word);
        } else if (!number(tokens)) {
            return false;
        }
        // After a value: the containers it closes, then a comma before the next value.
        for (;;) {
            skip_space();
            if (nesting_.empty())
                return at_ == end_;
            if (at_ == end_)
                return false;
            const bool in_object = nesting_.back() == '{';
            if (*at_ == (in_object ? '}' : ']')) {
                ++at_;
                nesting_.pop_back();
                in_object ? tokens.object_end() : tokens.array_end();
                continue;
            }
            if (*at_ != ',')
                return false;
            ++at_;
            skip_space();
            if (in_object && !member_key())
                return false;
            break;
        }
    }
}

bool JsonScanner::string_token(bool read, JsonTokens* tokens, bool is_key) {
    ++at_;  // the opening quote
    const char* start = at_;
    bool escaped = false;  // unescaped_ holds the string so far
    for (;;) {
        // The run of plain characters, as it is.
        const char* run = at_;
        at_ = run_end<RunStop::kSpecialOrNonAscii>(at_, end_);
        if (escaped)
            unescaped_.append(run, at_);
        if (at_ == end_)
            return false;
        const auto c = static_cast<unsigned char>(*at_);
        if (c == '"')
            break;
        if (c == '\\') {
            if (!escaped) {
                unescaped_.assign(start, at_);
                escaped = true;
            }
            if (!escape())
                return false;
            continue;
        }
        // A control character, which JSON wants escaped, is no lead byte: refused here too.
        const std::size_t length = utf8_length(reinterpret_cast<const unsigned char*>(at_),
                                               static_cast<std::size_t>(end_ - at_));
        if (length == 0)
            return false;
        if (escaped)
            unescaped_.append(at_, length);
        at_ += length;
    }
    const std::string_view value =
        escaped ? std::string_view(unescaped_)
                : std::string_view(start, static_cast<std::size_t>(at_ - start));
    ++at_;  // the closing quote
    if (is_key)
        tokens->key(value);
    else if (read)
        tokens->string(value);
    return true;
}

// Appends the character an escape stands for to unescaped_; at_ on the backslash.
bool JsonScanner::escape() {
    auto code_unit = [&]() -> std::int32_t {  // after "\u"; -1 when not 4 hex digits
        if (end_ - at_ < 4)
            return -1;
        std::int32_t value = 0;
        for (int i = 0; i < 4; ++i) {
            const int digit = hex_value(*at_++);
            if (digit < 0)
                return -1;
            value = value * 16 + digit;
        }
        return value;
    };
    if (end_ - at_ < 2)
        return false;
    const char kind = at_[1];
    at_ += 2;
    switch (kind) {
        case '"':
        case '\\':
        case '/':
            unescaped_.push_back(kind);
            return true;
        case 'b':
            unescaped_.push_back('\b');
            return true;
        case 'f':
            unescaped_.push_back('\f');
            return true;
        case 'n':
            unescaped_.push_back('\n');
            return true;
        case 'r':
            unescaped_.push_back('\r');
            return true;
        case 't':
            unescaped_.push_back('\t');
            return true;
        case 'u':
            break;
        default:
            return false;
    }
    const std::int32_t unit = code_unit();
    if (unit < 0 || (unit >= 0xdc00 && unit <= 0xdfff))
        return false;  // not hex, or a low surrogate alone
    if (unit < 0xd800 || unit > 0xdbff) {
        append_utf8(unescaped_, static_cast<std::uint32_t>(unit));
        return true;
    }
    // A high surrogate: its low half must follow.
    if (end_ - at_ < 2 || at_[0] != '\\' || at_[1] != 'u')
        return false;
    at_ += 2;
    const std::int32_t low = code_unit();
    if (low < 0xdc00 || low > 0xdfff)
        return false;
    append_utf8(unescaped_, 0x10000 + ((static_cast<std::uint32_t>(unit) - 0xd800) << 10) +
                                (static_cast<std::uint32_t>(low) - 0xdc00));
    return true;
}

bool JsonScanner::number(JsonTokens& tokens) {
    const char* start = at_;
    const bool negative = *at_ == '-';
    if (negative)
        ++at_;
    const char* digits = at_;
    if (at_ == end_ || !is_digit(*at_))
        return false;
    if (*at_ == '0')
        ++at_;
    else
        while (at_ != end_ && is_digit(*at_))
            ++at_;
    const char* digits_end = at_;
    bool integer = true;
    if (at_ != end_ && *at_ == '.') {
        integer = false;
        ++at_;
        if (at_ == end_ || !is_digit(*at_))
            return false;
        while (at_ != end_ && is_digit(*at_))
            ++at_;
    }
    if (at_ != end_ && (*at_ == 'e' || *at_ == 'E')) {
        integer = false;
        ++at_;
        if (at_ != end_ && (*at_ == '+' || *at_ == '-'))
            ++at_;
        if (at_ == end_ || !is_digit(*at_))
            return false;
        while (at_ != end_ && is_digit(*at_))
            ++at_;
    }
    // The magnitude, when the integer fits in an int64_t with its sign.
    constexpr std::uint64_t kMaxPositive = std::numeric_limits<std::int64_t>::max();
    const std::uint64_t limit = negative ? kMaxPositive + 1 : kMaxPositive;
    std::uint64_t magnitude = 0;
    for (const char* d = digits; integer && d != digits_end; ++d) {
        const auto digit = static_cast<std::uint64_t>(*d - '0');
        if (magnitude > (limit - digit) / 10)
            integer = false;
        else
            magnitude = magnitude * 10 + digit;
    }
    if (!integer)
        tokens.other_value(std::string_view(start, static_cast<std::size_t>(at_ - start)));
    else if (negative)
        tokens.integer(magnitude == kMaxPositive + 1 ? std::numeric_limits<std::int64_t>::min()
                                                     : -static_cast<std::int64_t>(magnitude));
    else
        tokens.integer(static_cast<std::int64_t>(magnitude));
    return true;
}

bool JsonScanner::literal(std::string_view word) {
    if (static_cast<std::size_t>(end_ - at_) < word.size() ||
        std::string_view(at_, word.size()) != word)
        return false;
    at_ += word.size();
    return true;
}

void JsonScanner::skip_space() {
    // A local: a char read could alias a member, which would make the compiler store it on every
    // step.
    const char* at = at_;
    while (at != end_ && (*at == ' ' || *at == '\t' || *at == '\n' || *at == '\r'))
        ++at;
    at_ = at;
}

namespace {

// Whether `text` is one JSON value, and nothing else.
bool is_json_value(std::string_view text) {
    struct Ignored : JsonTokens {
        void object_start() override {}
        void object_end() override {}
        void array_start() override {}
        void array_end() override {}
        void key(std::string_view) override {}
        bool reads_string() override { return false; }
        void string(std::string_view) override {}
        void integer(std::int64_t) override {}
        void other_value(std::string_view) override {}
    } ignored;
    JsonScanner scanner;
    return scanner.scan(text, ignored);
}

}  // namespace

bool is_json_object(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\n\r");
    // A valid text that begins so is an object.
    return first != std::string_view::npos && text[first] == '{' && is_json_value(text);
}

bool is_json_string(std::string_view text) {
    if (text.size() < 2 || text.front() != '"')
        return false;
    // Most are plain ASCII without escapes: one run from quote to quote.
    const char* last = text.data() + text.size() - 1;
    return run_end<RunStop::kSpecialOrNonAscii>(text.data() + 1, last + 1) == last
               ? *last == '"'
               : is_json_value(text);
}

}  // namespace anthropic
