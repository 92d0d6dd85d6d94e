#include "anthropic/error_decoder.hpp"

#include <nlohmann/json.hpp>

#include "anthropic/json_text.hpp"

namespace anthropic {

namespace {

// How much of a body that is not an Anthropic error the message quotes.
constexpr std::size_t kQuotedBodyBytes = 200;

std::string_view openai_type_for(int status) {
    if (status == 401)
        return "authentication_error";
    if (status == 403)
        return "permission_error";
    if (status == 429)
        return "rate_limit_error";
    if (status >= 500)
        return "server_error";
    return "invalid_request_error";
}

// Anthropic says "prompt is too long: 215000 tokens > 200000 maximum", or, when the prompt and
// max_tokens together do not fit, "input length and `max_tokens` exceed context limit: ...".
bool says_context_exceeded(std::string_view message) {
    return message.find("prompt is too long") != std::string_view::npos ||
           message.find("exceed context limit") != std::string_view::npos;
}

// Up to kQuotedBodyBytes of body, with line breaks and tabs as spaces and other bytes that are
// not printable ASCII as '?'.
std::string printable_excerpt(std::string_view body) {
    std::string out;
    for (char c : body.substr(0, kQuotedBodyBytes)) {
        const auto b = static_cast<unsigned char>(c);
        out.push_back(b == '\n' || b == '\r' || b == '\t' ? ' ' : b >= 0x20 && b < 0x7f ? c : '?');
    }
    if (body.size() > kQuotedBodyBytes)
        out += "...";
    return out;
}

}  // namespace

std::string OpenAiError::body() const {
    std::string out = "{\"error\":{\"message\":";
    append_json_string(out, message);
    out += ",\"type\":";
    append_json_string(out, type);
    out += ",\"param\":null,\"code\":";
    if (code.empty())
        out += "null";
    else
        append_json_string(out, code);
    out += "}}";
    return out;
}

OpenAiError map_error(int status, std::string_view anthropic_type, std::string message) {
    if (status == 529)
        status = 503;
    std::string code(anthropic_type);
    if (status == 400 && says_context_exceeded(message))
        code = "context_length_exceeded";
    return {status, std::string(openai_type_for(status)), std::move(code), std::move(message)};
}

OpenAiError decode_error(int status, std::string_view body) {
    // Parsing is iterative in nlohmann::json, and nothing here copies or writes the document, so a
    // body of any depth is safe to read.
    auto json = nlohmann::json::parse(body, nullptr, false);
    if (json.is_object() && json.contains("error") && json["error"].is_object()) {
        const auto& error = json["error"];
        auto type = error.find("type");
        auto message = error.find("message");
        if (type != error.end() && type->is_string() && message != error.end() &&
            message->is_string()) {
            OpenAiError mapped =
                map_error(status, type->get_ref<const std::string&>(), message->get<std::string>());
            mapped.anthropic_body = true;
            return mapped;
        }
    }
    OpenAiError error = map_error(status, "", "");
    error.message = "the upstream answered HTTP " + std::to_string(status) +
                    " with a body that is not an Anthropic error: " + printable_excerpt(body);
    return error;
}

int status_of_error_type(std::string_view type) {
    struct Pair {
        std::string_view type;
        int status;
    };
    static constexpr Pair kStatuses[] = {
        {"invalid_request_error", 400}, {"authentication_error", 401},
        {"billing_error", 402},         {"permission_error", 403},
        {"not_found_error", 404},       {"request_too_large", 413},
        {"rate_limit_error", 429},      {"api_error", 500},
        {"timeout_error", 504},         {"overloaded_error", 529},
    };
    for (const auto& [name, status] : kStatuses)
        if (name == type)
            return status;
    return 500;
}

}  // namespace anthropic
