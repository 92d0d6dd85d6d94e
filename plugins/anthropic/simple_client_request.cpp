#include "anthropic/simple_client_request.hpp"

#include "anthropic/simple_chat.hpp"

namespace anthropic {

namespace {

using Kind = SimpleChat::Member::Kind;
using Role = SimpleChat::Role;

// Whether the full decoder takes the member as it is.
bool takes(const SimpleChat::Member& member) {
    const std::string_view key = member.key;
    if (key == "model")
        return member.kind == Kind::string && member.text != "\"\"";
    if (key == "system")
        return member.kind == Kind::string;
    if (key == "stream")
        return member.kind == Kind::boolean;
    if (key == "max_tokens")
        return member.kind == Kind::integer && member.integer >= 0;
    if (key == "temperature" || key == "top_p")
        return member.kind == Kind::integer || member.kind == Kind::number;
    return false;
}

}  // namespace

std::optional<DecodedRequest> decode_simple_client_request(std::string_view anthropic_request) {
    const auto chat = read_simple_chat(anthropic_request, takes);
    if (!chat)
        return std::nullopt;
    const auto* model = chat->member("model");
    const auto* max_tokens = chat->member("max_tokens");
    if (!model || !max_tokens)
        return std::nullopt;

    DecodedRequest decoded;
    decoded.model = chat->model;
    std::string& out = decoded.body;
    out.reserve(anthropic_request.size() + 128);
    out += "{\"model\":";
    out += model->text;
    out += ",\"messages\":[";
    bool first = true;
    auto message = [&](std::string_view role, std::string_view content) {
        out += first ? "{\"role\":\"" : ",{\"role\":\"";
        first = false;
        out += role;
        out += "\",\"content\":";
        out += content;
        out += '}';
    };
    if (const auto* system = chat->member("system"); system && system->text != "\"\"")
        message("system", system->text);
    for (const auto& m : chat->messages) {
        if (m.role != Role::user && m.role != Role::assistant)
            return std::nullopt;
        message(m.role == Role::user ? "user" : "assistant", m.content);
    }
    out += "],\"max_tokens\":";
    out += std::to_string(max_tokens->integer);
    chat->append_members(out, {"temperature", "top_p"});
    if (const auto* stream = chat->member("stream")) {
        decoded.stream = stream->text == "true";
        out += decoded.stream ? ",\"stream\":true,\"stream_options\":{\"include_usage\":true}"
                              : ",\"stream\":false";
    }
    out += '}';
    return decoded;
}

}  // namespace anthropic
