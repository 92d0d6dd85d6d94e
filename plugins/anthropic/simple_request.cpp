#include "anthropic/simple_request.hpp"

#include <charconv>
#include <vector>

#include "anthropic/json_scanner.hpp"
#include "anthropic/json_text.hpp"

namespace anthropic {

namespace {

// The members read; any other is not part of the simple shape.
enum class Field {
    other,
    model,
    messages,
    stream,
    max_tokens,
    max_completion_tokens,
    temperature,
    top_p,
    role,
    content,
};

Field root_field(std::string_view key) {
    return key == "model"                   ? Field::model
           : key == "messages"              ? Field::messages
           : key == "stream"                ? Field::stream
           : key == "max_tokens"            ? Field::max_tokens
           : key == "max_completion_tokens" ? Field::max_completion_tokens
           : key == "temperature"           ? Field::temperature
           : key == "top_p"                 ? Field::top_p
                                            : Field::other;
}

enum class Role { none, system, user, assistant };

Role role_of(std::string_view role) {
    return role == "system" || role == "developer" ? Role::system
           : role == "user"                        ? Role::user
           : role == "assistant"                   ? Role::assistant
                                                   : Role::none;
}

// A number the full encoder takes as it is: one a double holds (a document holds no other).
bool is_finite_number(std::string_view text) {
    double value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc() && end == text.data() + text.size();
}

// Collects the request's members as the scanner reports them; `simple` turns false at the first
// token outside the shape. Depth counts the open containers: 1 in the request, 2 in messages, 3
// in a message.
class SimpleRequest : public JsonTokens {
  public:
    explicit SimpleRequest(const JsonScanner& scanner) : scanner_(scanner) {}

    bool simple = true;
    std::string_view model, stream, temperature, top_p;  // as written; empty when absent
    std::optional<std::int64_t> max_tokens, max_completion_tokens;
    bool has_messages = false;
    std::vector<std::string_view> system;  // text literals, as written
    std::string turns;                     // the Messages request's turns, written

    void object_start() override {
        if (!(depth_ == 0 || (depth_ == 2 && in_messages_)))
            simple = false;
        ++depth_;
        role_ = Role::none;
        content_ = {};
        has_content_ = false;
    }
    void object_end() override {
        if (--depth_ == 2)
            end_message();
    }
    void array_start() override {
        if (depth_ != 1 || field_ != Field::messages || has_messages)
            simple = false;
        has_messages = in_messages_ = true;
        ++depth_;
    }
    void array_end() override {
        if (--depth_ == 1)
            in_messages_ = false;
    }
    void key(std::string_view key) override {
        if (depth_ == 1) {
            field_ = root_field(key);
            const auto bit = 1u << static_cast<unsigned>(field_);
            if (field_ == Field::other || (seen_ & bit) != 0)
                simple = false;  // duplicates: the full encoder says what a later one means
            seen_ |= bit;
        } else {
            field_ = key == "role" ? Field::role : key == "content" ? Field::content : Field::other;
            if (field_ == Field::other || (field_ == Field::role && role_ != Role::none) ||
                (field_ == Field::content && has_content_))
                simple = false;
        }
    }
    bool reads_string() override { return true; }
    void string(std::string_view value) override {
        if (depth_ == 1 && field_ == Field::model) {
            model = scanner_.token_text();
        } else if (depth_ == 3 && field_ == Field::role) {
            role_ = role_of(value);
            simple = simple && role_ != Role::none;
        } else if (depth_ == 3 && field_ == Field::content) {
            has_content_ = true;
            if (!is_blank(value))  // the full encoder drops blank texts
                content_ = scanner_.token_text();
        } else {
            simple = false;
        }
    }
    void integer(std::int64_t value) override {
        if (depth_ != 1) {
            simple = false;
        } else if (field_ == Field::max_tokens || field_ == Field::max_completion_tokens) {
            if (value < 0)
                simple = false;
            (field_ == Field::max_tokens ? max_tokens : max_completion_tokens) = value;
        } else if (field_ == Field::temperature && (value == 0 || value == 1)) {
            temperature = scanner_.token_text();
        } else if (field_ == Field::top_p) {
            top_p = scanner_.token_text();
        } else {
            simple = false;
        }
    }
    void other_value(std::string_view text) override {
        const bool is_literal = text == "true" || text == "false" || text == "null";
        if (depth_ == 1 && field_ == Field::stream && is_literal && text != "null") {
            stream = text;
        } else if (depth_ == 1 && field_ == Field::top_p && !is_literal && is_finite_number(text)) {
            top_p = text;
        } else if (depth_ == 1 && field_ == Field::temperature && !is_literal &&
                   is_finite_number(text)) {
            double value = 0;
            std::from_chars(text.data(), text.data() + text.size(), value);
            simple = simple && value >= 0 && value <= 1;
            temperature = text;
        } else {
            simple = false;
        }
    }

    // The turn being gathered is complete: consecutive messages of one side make one turn.
    void flush_turn() {
        if (pending_.empty())
            return;
        turns += turns.empty() ? "{\"role\":" : ",{\"role\":";
        turns += turn_role_ == Role::user ? "\"user\"" : "\"assistant\"";
        turns += ",\"content\":";
        append_text_blocks(turns, pending_);
        turns += '}';
        pending_.clear();
    }

    // Writes texts (literals as written) as an array of text blocks.
    static void append_text_blocks(std::string& out, const std::vector<std::string_view>& texts) {
        out += '[';
        for (std::size_t i = 0; i < texts.size(); ++i) {
            out += i == 0 ? "{\"type\":\"text\",\"text\":" : ",{\"type\":\"text\",\"text\":";
            out += texts[i];
            out += '}';
        }
        out += ']';
    }

  private:
    void end_message() {
        if (role_ == Role::none || !has_content_) {
            simple = false;
            return;
        }
        if (role_ == Role::system) {
            if (!content_.empty())
                system.push_back(content_);
            return;
        }
        if (role_ != turn_role_)
            flush_turn();
        turn_role_ = role_;
        if (!content_.empty())
            pending_.push_back(content_);
    }

    const JsonScanner& scanner_;
    int depth_ = 0;
    Field field_ = Field::other;
    unsigned seen_ = 0;  // root members seen, one bit per Field
    bool in_messages_ = false;
    // The message being read.
    Role role_ = Role::none;
    std::string_view content_;  // its text literal; empty when blank
    bool has_content_ = false;
    // The turn being gathered.
    Role turn_role_ = Role::none;
    std::vector<std::string_view> pending_;
};

}  // namespace

std::optional<EncodedRequest> encode_simple_request(std::string_view chat_request,
                                                    const EncoderSettings& settings) {
    JsonScanner scanner;
    SimpleRequest request(scanner);
    request.turns.reserve(chat_request.size());  // the texts, copied once
    if (!scanner.scan(chat_request, request) || !request.simple || !request.has_messages)
        return std::nullopt;
    request.flush_turn();
    EncodedRequest encoded;
    std::string& out = encoded.body;
    out.reserve(chat_request.size() + 128);
    out += '{';
    if (!request.model.empty()) {
        out += "\"model\":";
        out += request.model;
        out += ',';
    }
    out += "\"max_tokens\":";
    out += std::to_string(request.max_completion_tokens.value_or(
        request.max_tokens.value_or(settings.default_max_tokens)));
    if (!request.system.empty()) {
        out += ",\"system\":";
        SimpleRequest::append_text_blocks(out, request.system);
    }
    out += ",\"messages\":[";
    out += request.turns;
    out += ']';
    for (const auto& [name, value] :
         {std::pair{",\"temperature\":", request.temperature},
          std::pair{",\"top_p\":", request.top_p}, std::pair{",\"stream\":", request.stream}}) {
        if (!value.empty()) {
            out += name;
            out += value;
        }
    }
    out += '}';
    return encoded;
}

}  // namespace anthropic
