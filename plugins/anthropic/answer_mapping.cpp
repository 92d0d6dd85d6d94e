#include "anthropic/answer_mapping.hpp"

namespace anthropic {

std::string_view finish_reason_for(std::string_view stop_reason) {
    if (stop_reason == "max_tokens" || stop_reason == "model_context_window_exceeded")
        return "length";
    if (stop_reason == "tool_use")
        return "tool_calls";
    if (stop_reason == "refusal")
        return "content_filter";
    return "stop";
}

std::int64_t token_count(std::int64_t reported) {
    return reported < 0 ? 0 : reported > kMaxTokenCount ? kMaxTokenCount : reported;
}

std::int64_t token_count(std::uint64_t reported) {
    return reported > static_cast<std::uint64_t>(kMaxTokenCount)
               ? kMaxTokenCount
               : static_cast<std::int64_t>(reported);
}

std::int64_t token_count_member(const Json& object, const char* key) {
    auto it = object.find(key);
    if (it == object.end())
        return 0;
    if (it->is_number_unsigned())
        return token_count(it->get<std::uint64_t>());
    if (it->is_number_integer())
        return token_count(it->get<std::int64_t>());
    return 0;
}

void append_openai_usage(std::string& out, const Usage& usage) {
    const std::int64_t prompt = usage.input + usage.cache_creation + usage.cache_read;
    out += "{\"prompt_tokens\":";
    out += std::to_string(prompt);
    out += ",\"completion_tokens\":";
    out += std::to_string(usage.output);
    out += ",\"total_tokens\":";
    out += std::to_string(prompt + usage.output);
    out += ",\"prompt_tokens_details\":{\"cached_tokens\":";
    out += std::to_string(usage.cache_read);
    out += "}}";
}

}  // namespace anthropic
