#include "anthropic/simple_chat.hpp"

#include <charconv>

#include "anthropic/json_scanner.hpp"
#include "anthropic/json_text.hpp"

namespace anthropic {

namespace {

std::optional<SimpleChat::Role> role_of(std::string_view role) {
    using Role = SimpleChat::Role;
    if (role == "system")
        return Role::system;
    if (role == "developer")
        return Role::developer;
    if (role == "user")
        return Role::user;
    if (role == "assistant")
        return Role::assistant;
    return std::nullopt;
}

// A number a double holds (a document holds no other).
bool is_finite_number(std::string_view text) {
    double value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc() && end == text.data() + text.size();
}

// Collects a chat as the scanner reports it; `simple` turns false at the first token outside the
// shape. depth_ counts the open containers: 1 in the request, 2 in messages, 3 in a message.
class Reader : public JsonTokens {
  public:
    Reader(const JsonScanner& scanner, SimpleChat& chat) : scanner_(scanner), chat_(chat) {}

    bool simple = true;

    void object_start() override {
        simple = simple && (depth_ == 0 || (depth_ == 2 && in_messages_));
        ++depth_;
        role_.reset();
        content_.reset();
    }
    void object_end() override {
        if (--depth_ == 2)
            end_message();
    }
    void array_start() override {
        simple = simple && depth_ == 1 && key_ == "messages" && !chat_.has_messages;
        chat_.has_messages = in_messages_ = true;
        ++depth_;
    }
    void array_end() override {
        if (--depth_ == 1)
            in_messages_ = false;
    }
    void key(std::string_view key) override {
        // Keys are kept as views of the text: one with escapes is not simple.
        const std::string_view written = scanner_.token_text();
        simple = simple && written.size() == key.size() + 2;
        key_ = written.substr(1, written.size() - 2);
        if (depth_ == 1) {
            simple = simple && !chat_.member(key_) && !(key_ == "messages" && chat_.has_messages);
        } else {
            simple = simple && ((key_ == "role" && !role_) || (key_ == "content" && !content_));
        }
    }
    bool reads_string() override { return true; }
    void string(std::string_view value) override {
        if (depth_ == 3) {
            if (key_ == "role") {
                role_ = role_of(value);
                simple = simple && role_;
            } else {
                content_ = SimpleChat::Message{SimpleChat::Role::user, scanner_.token_text(),
                                               is_blank(value)};
            }
            return;
        }
        if (depth_ == 1 && key_ == "model")
            chat_.model.assign(value);
        add_member(SimpleChat::Member::Kind::string);
    }
    void integer(std::int64_t value) override {
        add_member(SimpleChat::Member::Kind::integer, value);
    }
    void other_value(std::string_view text) override {
        if (text == "true" || text == "false")
            add_member(SimpleChat::Member::Kind::boolean);
        else if (text != "null" && is_finite_number(text))
            add_member(SimpleChat::Member::Kind::number);
        else
            simple = false;
    }

  private:
    void add_member(SimpleChat::Member::Kind kind, std::int64_t integer = 0) {
        if (depth_ != 1 || key_ == "messages") {
            simple = false;
            return;
        }
        chat_.members.push_back({key_, kind, scanner_.token_text(), integer});
    }

    void end_message() {
        if (!role_ || !content_) {
            simple = false;
            return;
        }
        content_->role = *role_;
        chat_.messages.push_back(*content_);
    }

    const JsonScanner& scanner_;
    SimpleChat& chat_;
    int depth_ = 0;
    std::string_view key_;
    bool in_messages_ = false;
    // The message being read.
    std::optional<SimpleChat::Role> role_;
    std::optional<SimpleChat::Message> content_;
};

}  // namespace

const SimpleChat::Member* SimpleChat::member(std::string_view key) const {
    for (const Member& m : members)
        if (m.key == key)
            return &m;
    return nullptr;
}

void SimpleChat::append_members(std::string& out,
                                std::initializer_list<std::string_view> keys) const {
    for (const std::string_view key : keys) {
        if (const Member* m = member(key)) {
            out += ",\"";
            out += key;
            out += "\":";
            out += m->text;
        }
    }
}

std::optional<SimpleChat> read_simple_chat(std::string_view text,
                                           bool (*takes)(const SimpleChat::Member&)) {
    SimpleChat chat;
    JsonScanner scanner;
    Reader reader(scanner, chat);
    if (!scanner.scan(text, reader) || !reader.simple || !chat.has_messages)
        return std::nullopt;
    for (const auto& member : chat.members)
        if (!takes(member))
            return std::nullopt;
    return chat;
}

}  // namespace anthropic
