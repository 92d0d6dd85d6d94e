#include "anthropic/simple_request.hpp"

#include <charconv>
#include <vector>

#include "anthropic/simple_chat.hpp"

namespace anthropic {

namespace {

using Kind = SimpleChat::Member::Kind;
using Role = SimpleChat::Role;

// Whether the full encoder takes the member as it is, and sends it under the same name.
bool takes(const SimpleChat::Member& member) {
    const std::string_view key = member.key;
    if (key == "model")
        return member.kind == Kind::string;
    if (key == "stream")
        return member.kind == Kind::boolean;
    if (key == "max_tokens" || key == "max_completion_tokens")
        return member.kind == Kind::integer && member.integer >= 0;
    if (key == "top_p")
        return member.kind == Kind::integer || member.kind == Kind::number;
    if (key == "temperature") {
        double value = -1;
        if (member.kind == Kind::integer)
            value = static_cast<double>(member.integer);
        else if (member.kind == Kind::number)
            std::from_chars(member.text.data(), member.text.data() + member.text.size(), value);
        return value >= 0 && value <= 1;
    }
    return false;
}

// Writes texts (literals as written) as an array of text blocks.
void append_text_blocks(std::string& out, const std::vector<std::string_view>& texts) {
    out += '[';
    for (std::size_t i = 0; i < texts.size(); ++i) {
        out += i == 0 ? "{\"type\":\"text\",\"text\":" : ",{\"type\":\"text\",\"text\":";
        out += texts[i];
        out += '}';
    }
    out += ']';
}

// The turns: consecutive messages of one side make one turn, blank texts are dropped, and a side
// with only blank texts still parts the turns around it (as message_encoder.cpp's Turns do).
void append_turns(std::string& out, const std::vector<SimpleChat::Message>& messages) {
    std::vector<std::string_view> pending;
    std::optional<Role> turn_role;
    bool first = true;
    auto flush = [&] {
        if (pending.empty())
            return;
        out += first ? "{\"role\":" : ",{\"role\":";
        first = false;
        out += *turn_role == Role::user ? "\"user\"" : "\"assistant\"";
        out += ",\"content\":";
        append_text_blocks(out, pending);
        out += '}';
        pending.clear();
    };
    for (const auto& message : messages) {
        if (message.role == Role::system || message.role == Role::developer)
            continue;
        if (message.role != turn_role)
            flush();
        turn_role = message.role;
        if (!message.blank)
            pending.push_back(message.content);
    }
    flush();
}

}  // namespace

std::optional<EncodedRequest> encode_simple_request(std::string_view chat_request,
                                                    const EncoderSettings& settings) {
    const auto chat = read_simple_chat(chat_request, takes);
    if (!chat)
        return std::nullopt;
    std::vector<std::string_view> system;
    for (const auto& message : chat->messages)
        if ((message.role == Role::system || message.role == Role::developer) && !message.blank)
            system.push_back(message.content);

    EncodedRequest encoded;
    std::string& out = encoded.body;
    out.reserve(chat_request.size() + 128);
    out += '{';
    if (const auto* model = chat->member("model")) {
        out += "\"model\":";
        out += model->text;
        out += ',';
    }
    const auto* max_tokens = chat->member("max_completion_tokens");
    if (!max_tokens)
        max_tokens = chat->member("max_tokens");
    out += "\"max_tokens\":";
    out += std::to_string(max_tokens ? max_tokens->integer : settings.default_max_tokens);
    if (!system.empty()) {
        out += ",\"system\":";
        append_text_blocks(out, system);
    }
    out += ",\"messages\":[";
    append_turns(out, chat->messages);
    out += ']';
    chat->append_members(out, {"temperature", "top_p", "stream"});
    out += '}';
    return encoded;
}

}  // namespace anthropic
