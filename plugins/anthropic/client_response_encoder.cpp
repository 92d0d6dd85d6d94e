#include "anthropic/client_response_encoder.hpp"

#include <llm_proxy/cpp/plugin.hpp>

#include "anthropic/answer_mapping.hpp"
#include "anthropic/json_access.hpp"
#include "anthropic/json_text.hpp"

namespace anthropic {

namespace {

[[noreturn]] void invalid_answer(const std::string& why) {
    throw llm_proxy::Error("the upstream's answer is not a chat completion: " + why, 502,
                           "upstream_error", "upstream_invalid_answer");
}

CanonicalUsage usage_of(const Json& answer) {
    auto usage = answer.find("usage");
    if (usage == answer.end() || !usage->is_object())
        return {};
    CanonicalUsage out{token_count_member(*usage, "prompt_tokens"),
                       token_count_member(*usage, "completion_tokens"), 0,
                       token_count_member(*usage, "cache_creation_input_tokens")};
    auto details = usage->find("prompt_tokens_details");
    if (details != usage->end() && details->is_object()) {
        out.cache_read = token_count_member(*details, "cached_tokens");
        for (const char* key : {"cache_write_tokens", "cache_creation_tokens"})
            if (std::int64_t written = token_count_member(*details, key))
                out.cache_creation = written;
    }
    return out;
}

// The text of message.content: a string, or the text parts of an array joined.
std::string text_of(const Json& content) {
    if (content.is_string())
        return content.get<std::string>();
    std::string text;
    if (content.is_array()) {
        for (const auto& part : content)
            if (part.is_object())
                text += string_or_empty(part, "text");
    } else if (!content.is_null()) {
        invalid_answer("its message content is neither a string nor an array");
    }
    return text;
}

Json tool_use_block(const Json& call, const ReplyFacts& facts, std::size_t ordinal) {
    if (!call.is_object())
        invalid_answer("tool call " + std::to_string(ordinal) + " is not an object");
    auto function_member = call.find("function");
    if (function_member == call.end() || !function_member->is_object())
        invalid_answer("tool call " + std::to_string(ordinal) + " has no function");
    const Json& function = *function_member;
    const std::string_view name = facts.tool_names.client_name(string_or_empty(function, "name"));
    const std::string_view arguments = string_or_empty(function, "arguments");
    Json input = Json::object();
    if (!is_blank(arguments)) {
        input = parse_document(arguments);
        if (!input.is_object())
            throw llm_proxy::Error("the upstream called the tool \"" + std::string(name) +
                                       "\" with arguments that are not a JSON object",
                                   502, "upstream_error", "upstream_invalid_answer");
    }
    return Json{{"type", "tool_use"},
                {"id", client_tool_use_id(string_or_empty(call, "id"), facts, ordinal)},
                {"name", name},
                {"input", std::move(input)}};
}

}  // namespace

std::string encode_client_response(std::string_view text, const ReplyFacts& facts) {
    if (!nesting_within(text, kMaxJsonDepth))
        invalid_answer("it nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    const Json answer = parse_document(text);
    if (!answer.is_object())
        invalid_answer("it is not a JSON object");
    auto choices = answer.find("choices");
    if (choices == answer.end() || !choices->is_array() || choices->empty() ||
        !(*choices)[0].is_object())
        invalid_answer("it has no choices");
    const Json& choice = (*choices)[0];
    auto message = choice.find("message");
    if (message == choice.end() || !message->is_object())
        invalid_answer("its choice has no message");

    Json content = Json::array();
    if (const std::string_view thinking = string_or_empty(*message, "reasoning_content");
        !thinking.empty())
        content.push_back({{"type", "thinking"}, {"thinking", thinking}, {"signature", ""}});
    if (auto it = message->find("content"); it != message->end())
        if (std::string text_content = text_of(*it); !is_blank(text_content))
            content.push_back({{"type", "text"}, {"text", std::move(text_content)}});
    const std::string_view refusal = string_or_empty(*message, "refusal");
    if (!is_blank(refusal))
        content.push_back({{"type", "text"}, {"text", refusal}});
    if (auto calls = message->find("tool_calls"); calls != message->end() && calls->is_array())
        for (std::size_t i = 0; i < calls->size(); ++i)
            content.push_back(tool_use_block((*calls)[i], facts, i));

    const std::string_view stop_reason =
        !is_blank(refusal) ? "refusal" : stop_reason_for(string_or_empty(choice, "finish_reason"));
    std::string out = compact_json(Json{{"id", facts.message_id},
                                        {"type", "message"},
                                        {"role", "assistant"},
                                        {"model", facts.model},
                                        {"content", std::move(content)},
                                        {"stop_reason", stop_reason},
                                        {"stop_sequence", nullptr}});
    out.pop_back();  // the closing brace: usage follows
    out += ",\"usage\":";
    append_anthropic_usage(out, usage_of(answer));
    out += '}';
    return out;
}

}  // namespace anthropic
