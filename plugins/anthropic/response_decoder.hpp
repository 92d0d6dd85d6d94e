// An Anthropic message (a whole answer) to an OpenAI chat.completion.
//
//   id, model                 -> id, model; created is given (Anthropic has no timestamp)
//   text blocks               -> choices[0].message.content, concatenated; null when there is
//                                no text but tool calls, "" when there is neither
//   thinking blocks           -> message.reasoning_content, concatenated (signatures and
//                                redacted_thinking blocks are dropped)
//   tool_use blocks           -> message.tool_calls[{id, type "function", function {name,
//                                arguments: the input as a JSON string}}], in order
//   stop_reason               -> finish_reason (answer_mapping.hpp)
//   usage                     -> usage (answer_mapping.hpp)
// Block types an OpenAI answer has no place for (server tool blocks) are dropped.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace anthropic {

// The chat.completion JSON text for an Anthropic message. Throws llm_proxy::Error (502,
// "upstream_error", code "upstream_invalid_answer") when `message` is not one.
std::string decode_response(std::string_view message, std::int64_t created);

}  // namespace anthropic
