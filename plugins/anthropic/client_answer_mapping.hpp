// What the client's answer encoder and stream encoder map alike: OpenAI's finish_reason to
// Anthropic's stop_reason, OpenAI's token usage to Anthropic's, tool call ids, and the facts of
// one request that every answer to it carries.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "anthropic/client_tool_names.hpp"

namespace anthropic {

// What an answer to one client request says about itself.
struct ReplyFacts {
    std::string message_id;  // "msg_..." (message_id.hpp)
    std::string model;       // the model the client asked for
    ToolNames tool_names;    // from the request decoder
};

// Anthropic's stop_reason for an OpenAI finish_reason: stop -> end_turn, length -> max_tokens,
// tool_calls -> tool_use, content_filter -> refusal, anything else -> end_turn.
std::string_view stop_reason_for(std::string_view finish_reason);

// OpenAI's token counts, clamped (answer_mapping.hpp). prompt includes the cached tokens.
struct CanonicalUsage {
    std::int64_t prompt = 0;
    std::int64_t completion = 0;
    std::int64_t cache_read = 0;      // prompt_tokens_details.cached_tokens
    std::int64_t cache_creation = 0;  // the tokens written to a cache, where upstreams report it
};

// Appends Anthropic's usage object: input_tokens = prompt - cache_read - cache_creation (at least
// 0; Anthropic's input count excludes cached tokens), cache_creation_input_tokens,
// cache_read_input_tokens, output_tokens = completion.
void append_anthropic_usage(std::string& out, const CanonicalUsage& usage);

// The tool_use id for an upstream's tool call id: characters other than [a-zA-Z0-9_-] become '_'
// (Anthropic's rule; other vendors' ids look like "functions.Bash:0"). An upstream that gave no
// id gets "toolu_<message id's suffix>_<ordinal>", unique within the message.
std::string client_tool_use_id(std::string_view upstream_id, const ReplyFacts& facts,
                               std::size_t ordinal);

}  // namespace anthropic
