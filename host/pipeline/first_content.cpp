#include "pipeline/first_content.hpp"

#include <cstring>

namespace llmproxy {

namespace {

// The text chunk as OpenAI writes it: `"content":"` and a first character. Seen in the bytes, it
// settles the question without reading the event. (Seen where it is not a delta's, the head
// would only go out early: never a wrong answer, at most a lost retry.)
bool has_text_as_written(std::string_view data) {
    constexpr std::string_view kText = "\"content\":\"";
    const void* at = ::memmem(data.data(), data.size(), kText.data(), kText.size());
    if (!at)
        return false;
    const std::size_t next = static_cast<const char*>(at) - data.data() + kText.size();
    return next < data.size() && data[next] != '"';
}

// One pass over an event's data, which may be anything: every step checks its bounds, and text
// that is not JSON ends the reading (failed()). Keys are compared as written (escapes unread).
class ChunkReader {
  public:
    explicit ChunkReader(std::string_view text) : text_(text) {}

    bool failed() const { return failed_; }

    // Reads the whole text as a chunk. Returns whether it carries content (see the header).
    bool has_content() {
        bool content = false, choices = false, error = false;
        if (!open('{'))
            return true;
        members([&](std::string_view key) {
            if (key == "choices") {
                choices = true;
                content = first_choice_has_content();
            } else {
                error = error || key == "error";
                skip_value();
            }
        });
        space();
        if (failed_ || at_ != text_.size() || !choices)
            return true;
        return content || error;
    }

  private:
    // [ {choice}, ... ]: whether the first choice has a finish_reason or content in its delta.
    bool first_choice_has_content() {
        bool content = false;
        if (!open('[')) {
            skip_value();
            return false;
        }
        elements([&](std::size_t index) {
            if (index > 0 || !open('{'))
                return skip_value();
            members([&](std::string_view key) {
                if (key == "finish_reason") {
                    content = says_something() || content;
                } else if (key == "delta" && open('{')) {
                    members([&](std::string_view field) {
                        const bool carries = field == "content" || field == "refusal" ||
                                             field == "reasoning_content" || field == "reasoning" ||
                                             field == "tool_calls";
                        if (carries)
                            content = says_something() || content;
                        else
                            skip_value();
                    });
                } else {
                    skip_value();
                }
            });
        });
        return content;
    }

    // Reads a value: false for null, an empty string or an empty array; true for anything else.
    bool says_something() {
        space();
        const std::size_t from = at_;
        skip_value();
        std::string_view value = text_.substr(from, at_ - from);
        if (value == "null" || value == "\"\"")
            return false;
        if (value.size() >= 2 && value.front() == '[') {
            ChunkReader inside(value.substr(1, value.size() - 2));
            inside.space();
            return !inside.done();
        }
        return true;
    }

    // { "key": value, ... } after its '{': each value read by on_member(key).
    template <typename OnMember>
    void members(OnMember&& on_member) {
        if (peek('}'))
            return void(++at_);
        while (!failed_) {
            std::string_view key = string();
            if (!expect(':'))
                return;
            on_member(key);
            space();
            if (peek('}'))
                return void(++at_);
            if (!expect(','))
                return;
        }
    }

    // [ value, ... ] after its '[': each value read by on_element(index).
    template <typename OnElement>
    void elements(OnElement&& on_element) {
        if (peek(']'))
            return void(++at_);
        for (std::size_t index = 0; !failed_; ++index) {
            on_element(index);
            space();
            if (peek(']'))
                return void(++at_);
            if (!expect(','))
                return;
        }
    }

    // A string's raw text, escapes as written.
    std::string_view string() {
        space();
        if (!peek('"'))
            return fail();
        const std::size_t from = ++at_;
        for (;;) {
            const void* quote = std::memchr(text_.data() + at_, '"', text_.size() - at_);
            if (!quote)
                return fail();
            at_ = static_cast<const char*>(quote) - text_.data();
            std::size_t backslashes = 0;  // an odd run of them escapes the quote
            while (at_ - backslashes > from && text_[at_ - backslashes - 1] == '\\')
                ++backslashes;
            if (backslashes % 2 == 0)
                return text_.substr(from, at_++ - from);
            ++at_;
        }
    }

    // Skips one value of any kind: nested brackets are counted, strings skipped whole.
    void skip_value() {
        space();
        int depth = 0;
        do {
            if (at_ >= text_.size())
                return void(fail());
            const char c = text_[at_];
            if (c == '"') {
                string();
            } else if (c == '{' || c == '[') {
                ++depth;
                ++at_;
            } else if (c == '}' || c == ']') {
                if (--depth < 0)
                    return void(fail());
                ++at_;
            } else if (depth > 0 && (c == ',' || c == ':' || is_space(c))) {
                ++at_;
            } else {
                const std::size_t from = at_;
                while (at_ < text_.size() && !ends_literal(text_[at_]))
                    ++at_;
                if (at_ == from)
                    return void(fail());
            }
        } while (depth > 0 && !failed_);
    }

    static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
    // What ends a number or a literal (true, false, null).
    static bool ends_literal(char c) {
        switch (c) {
            case ',':
            case ':':
            case '[':
            case ']':
            case '{':
            case '}':
            case '"':
            case ' ':
            case '\t':
            case '\n':
            case '\r':
                return true;
            default:
                return false;
        }
    }
    void space() {
        while (at_ < text_.size() && static_cast<unsigned char>(text_[at_]) <= ' ' &&
               is_space(text_[at_]))
            ++at_;
    }
    bool done() const { return at_ >= text_.size(); }
    bool peek(char c) const { return at_ < text_.size() && text_[at_] == c; }
    bool open(char bracket) {
        space();
        if (!peek(bracket))
            return false;
        ++at_;
        space();
        return true;
    }
    bool expect(char c) {
        space();
        if (!peek(c))
            return fail(), false;
        ++at_;
        return true;
    }
    std::string_view fail() {
        failed_ = true;
        at_ = text_.size();
        return {};
    }

    std::string_view text_;
    std::size_t at_ = 0;
    bool failed_ = false;
};

}  // namespace

bool is_content_event(std::string_view data) {
    if (has_text_as_written(data))
        return true;
    return ChunkReader(data).has_content();
}

}  // namespace llmproxy
