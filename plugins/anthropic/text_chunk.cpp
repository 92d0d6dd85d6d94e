#include "anthropic/text_chunk.hpp"

#include <cstring>

#include "anthropic/json_scanner.hpp"
#include "anthropic/string_runs.hpp"

namespace anthropic {

namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// A cursor over a chunk's bytes; each read moves past what it took, or leaves the cursor.
class Reader {
  public:
    explicit Reader(std::string_view text) : at_(text.data()), end_(text.data() + text.size()) {}

    bool at_end() const { return at_ == end_; }

    // Whether the literal `expected` comes next. Its length is a constant, so that the
    // comparison is a few instructions rather than a call to memcmp.
    template <std::size_t N>
    bool take(const char (&expected)[N]) {
        constexpr std::size_t size = N - 1;
        if (static_cast<std::size_t>(end_ - at_) < size || std::memcmp(at_, expected, size) != 0)
            return false;
        at_ += size;
        return true;
    }

    // A string literal without escapes, control characters or bytes above 0x7f: its content.
    std::optional<std::string_view> plain_string() {
        if (at_ == end_ || *at_ != '"')
            return std::nullopt;
        const char* start = at_ + 1;
        const char* stop = run_end<RunStop::kSpecialOrNonAscii>(start, end_);
        if (stop == end_ || *stop != '"')
            return std::nullopt;
        at_ = stop + 1;
        return std::string_view(start, static_cast<std::size_t>(stop - start));
    }

    // Any valid string literal, quotes included, as written.
    std::optional<std::string_view> string_literal() {
        if (at_ == end_ || *at_ != '"')
            return std::nullopt;
        const char* stop = at_ + 1;
        for (;;) {
            stop = run_end<RunStop::kSpecial>(stop, end_);
            if (stop == end_ || (*stop != '"' && *stop != '\\') ||
                (*stop == '\\' && end_ - stop < 2))
                return std::nullopt;
            if (*stop == '"')
                break;
            stop += 2;  // an escape cannot end the literal; is_json_string checks it
        }
        const std::string_view literal(at_, static_cast<std::size_t>(stop + 1 - at_));
        if (!is_json_string(literal))
            return std::nullopt;
        at_ = stop + 1;
        return literal;
    }

    // A value skipped: a plain string, an integer, true, false or null.
    bool scalar() {
        if (at_ != end_ && *at_ == '"')
            return plain_string().has_value();
        if (take("null") || take("true") || take("false"))
            return true;
        const char* digits = at_ != end_ && *at_ == '-' ? at_ + 1 : at_;
        if (digits == end_ || !is_digit(*digits))
            return false;
        const char* stop = digits + 1;
        if (*digits != '0')
            while (stop != end_ && is_digit(*stop))
                ++stop;
        at_ = stop;  // what follows must be ',' or '}', which the caller takes
        return true;
    }

  private:
    const char* at_;
    const char* end_;
};

}  // namespace

std::optional<std::string_view> text_chunk_content(std::string_view chunk) {
    Reader reader(chunk);
    if (!reader.take("{"))
        return std::nullopt;
    std::optional<std::string_view> content;
    do {
        const auto key = reader.plain_string();
        if (!key || !reader.take(":"))
            return std::nullopt;
        if (*key == "choices") {
            if (content || !reader.take(R"([{"index":0,"delta":{"content":)"))
                return std::nullopt;
            content = reader.string_literal();
            if (!content || !reader.take("}"))
                return std::nullopt;
            reader.take(R"(,"logprobs":null)");
            reader.take(R"(,"finish_reason":null)");
            if (!reader.take("}]"))
                return std::nullopt;
        } else if (*key == "usage") {
            if (!reader.take("null"))
                return std::nullopt;
        } else if (*key == "error" || !reader.scalar()) {
            return std::nullopt;
        }
    } while (reader.take(","));
    if (!reader.take("}") || !reader.at_end())
        return std::nullopt;
    return content;
}

}  // namespace anthropic
