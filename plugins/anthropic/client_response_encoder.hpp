// A canonical answer (an OpenAI chat.completion) to the Anthropic message a client of a route
// with api = "anthropic" expects:
//   {"id":<facts.message_id>,"type":"message","role":"assistant","model":<facts.model>,
//    "content":[...],"stop_reason":..,"stop_sequence":null,"usage":{...}}
// From choices[0]:
//   message.reasoning_content  -> a thinking block {thinking, signature ""}, first
//   message.content            -> a text block (a string, or the text of its parts joined)
//   message.refusal            -> a text block with the refusal; stop_reason "refusal"
//   message.tool_calls         -> tool_use blocks {id (client_tool_use_id), name (the client's
//                                 own, client_tool_names.hpp), input: the arguments parsed, ""
//                                 as {}}, in order
//   finish_reason              -> stop_reason (client_answer_mapping.hpp)
// and usage -> usage (client_answer_mapping.hpp; prompt_tokens_details.cached_tokens are the
// cache reads; cache writes from prompt_tokens_details.cache_write_tokens or
// cache_creation_tokens, or usage.cache_creation_input_tokens). Texts that are empty or only
// whitespace make no block: Anthropic refuses such blocks when the client sends them back.
#pragma once

#include <string>
#include <string_view>

#include "anthropic/client_answer_mapping.hpp"

namespace anthropic {

// The message JSON text. Throws llm_proxy::Error (502, "upstream_error", code
// "upstream_invalid_answer") when the answer is not a chat.completion, or when a tool call's
// arguments are not a JSON object (naming the tool): the client never gets a made-up input.
std::string encode_client_response(std::string_view chat_completion, const ReplyFacts& facts);

}  // namespace anthropic
