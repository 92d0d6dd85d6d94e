// One pass over a JSON text, token by token, for readers that want a few fields of a small
// document on a hot path (a stream's events): no document is built, strings without escapes are
// handed over as views into the text, strings nobody reads are only checked, and nesting is
// followed with a stack of its own rather than by recursion. The text must be one JSON value
// (RFC 8259) with valid UTF-8 in its strings; anything else is refused.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace anthropic {

// What a scan reports, in document order. Views are valid until the next call.
class JsonTokens {
  public:
    virtual ~JsonTokens() = default;
    virtual void object_start() = 0;
    virtual void object_end() = 0;
    virtual void array_start() = 0;
    virtual void array_end() = 0;
    virtual void key(std::string_view key) = 0;  // unescaped
    // Whether the string value that comes next is read; when it is, string() gets it unescaped.
    virtual bool reads_string() = 0;
    virtual void string(std::string_view value) = 0;
    virtual void integer(std::int64_t value) = 0;  // an integer that fits in 64 bits, signed
    // Any other number, true, false or null: its text, as it stands in the document.
    virtual void other_value(std::string_view text) = 0;
};

class JsonScanner {
  public:
    // Nesting deeper than this is refused.
    static constexpr std::size_t kMaxDepth = 256;

    // Reports the tokens of `text` to `tokens`. Returns false, having reported the tokens
    // before the fault, when `text` is not one JSON value.
    bool scan(std::string_view text, JsonTokens& tokens);

    // The token being reported, as the text has it (a string's quotes and escapes included);
    // valid inside the JsonTokens call that reports a key, string, integer or other value.
    std::string_view token_text() const {
        return {token_start_, static_cast<std::size_t>(at_ - token_start_)};
    }

  private:
    bool string_token(bool read, JsonTokens* tokens, bool is_key);
    bool escape();
    bool number(JsonTokens& tokens);
    bool literal(std::string_view word);
    void skip_space();

    const char* at_ = nullptr;
    const char* end_ = nullptr;
    const char* token_start_ = nullptr;
    std::string unescaped_;  // reused: its capacity stays
    std::string nesting_;    // '{' or '[' per open container, reused
};

// Whether `text` is one JSON object, and nothing else.
bool is_json_object(std::string_view text);

// Whether `text` is one JSON string literal, quotes included, and nothing else.
bool is_json_string(std::string_view text);

}  // namespace anthropic
