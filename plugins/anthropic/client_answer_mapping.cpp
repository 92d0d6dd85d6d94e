#include "anthropic/client_answer_mapping.hpp"

#include <algorithm>

#include "anthropic/message_encoder.hpp"

namespace anthropic {

std::string_view stop_reason_for(std::string_view finish_reason) {
    if (finish_reason == "length")
        return "max_tokens";
    if (finish_reason == "tool_calls")
        return "tool_use";
    if (finish_reason == "content_filter")
        return "refusal";
    return "end_turn";
}

void append_anthropic_usage(std::string& out, const CanonicalUsage& usage) {
    out += "{\"input_tokens\":";
    out += std::to_string(
        std::max<std::int64_t>(usage.prompt - usage.cache_read - usage.cache_creation, 0));
    out += ",\"cache_creation_input_tokens\":";
    out += std::to_string(usage.cache_creation);
    out += ",\"cache_read_input_tokens\":";
    out += std::to_string(usage.cache_read);
    out += ",\"output_tokens\":";
    out += std::to_string(usage.completion);
    out += '}';
}

std::string client_tool_use_id(std::string_view upstream_id, const ReplyFacts& facts,
                               std::size_t ordinal) {
    if (!upstream_id.empty())
        return anthropic_tool_id(upstream_id);
    std::string_view suffix = facts.message_id;
    if (suffix.starts_with("msg_"))
        suffix.remove_prefix(4);
    return anthropic_tool_id("toolu_" + std::string(suffix) + "_" + std::to_string(ordinal));
}

}  // namespace anthropic
