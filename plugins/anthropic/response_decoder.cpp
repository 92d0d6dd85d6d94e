#include "anthropic/response_decoder.hpp"

#include <llm_proxy/cpp/plugin.hpp>

#include "anthropic/answer_mapping.hpp"
#include "anthropic/json_access.hpp"
#include "anthropic/json_text.hpp"

namespace anthropic {

namespace {

[[noreturn]] void invalid_answer(const std::string& why) {
    throw llm_proxy::Error("the upstream's answer is not an Anthropic message: " + why, 502,
                           "upstream_error", "upstream_invalid_answer");
}

Usage usage_of(const Json& message) {
    auto it = message.find("usage");
    if (it == message.end() || !it->is_object())
        return {};
    return {token_count_member(*it, "input_tokens"),
            token_count_member(*it, "cache_creation_input_tokens"),
            token_count_member(*it, "cache_read_input_tokens"),
            token_count_member(*it, "output_tokens")};
}

void append_tool_call(std::string& out, const Json& block) {
    auto input = block.find("input");
    out += "{\"id\":";
    append_json_string(out, string_or_empty(block, "id"));
    out += ",\"type\":\"function\",\"function\":{\"name\":";
    append_json_string(out, string_or_empty(block, "name"));
    out += ",\"arguments\":";
    append_json_string(out, input != block.end() ? compact_json(*input) : "{}");
    out += "}}";
}

}  // namespace

std::string decode_response(std::string_view text, std::int64_t created) {
    if (!nesting_within(text, kMaxJsonDepth))
        invalid_answer("it nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    Json message = parse_document(text);
    if (!message.is_object())
        invalid_answer("it is not a JSON object");
    if (string_or_empty(message, "type") != "message")
        invalid_answer("its type is not \"message\"");
    auto content = message.find("content");
    if (content == message.end() || !content->is_array())
        invalid_answer("it has no content array");

    std::string reply, reasoning, tool_calls;
    for (const auto& block : *content) {
        if (!block.is_object())
            invalid_answer("a content block is not an object");
        std::string_view type = string_or_empty(block, "type");
        if (type == "text") {
            reply += string_or_empty(block, "text");
        } else if (type == "thinking") {
            reasoning += string_or_empty(block, "thinking");
        } else if (type == "tool_use") {
            tool_calls += tool_calls.empty() ? "[" : ",";
            append_tool_call(tool_calls, block);
        }
    }

    std::string out = "{\"id\":";
    append_json_string(out, string_or_empty(message, "id"));
    out += ",\"object\":\"chat.completion\",\"created\":" + std::to_string(created);
    out += ",\"model\":";
    append_json_string(out, string_or_empty(message, "model"));
    out += ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":";
    if (!reply.empty() || tool_calls.empty())
        append_json_string(out, reply);
    else
        out += "null";
    if (!reasoning.empty()) {
        out += ",\"reasoning_content\":";
        append_json_string(out, reasoning);
    }
    if (!tool_calls.empty())
        out += ",\"tool_calls\":" + tool_calls + "]";
    out += "},\"logprobs\":null,\"finish_reason\":";
    append_json_string(out, finish_reason_for(string_or_empty(message, "stop_reason")));
    out += "}],\"usage\":";
    append_openai_usage(out, usage_of(message));
    out += "}";
    return out;
}

}  // namespace anthropic
