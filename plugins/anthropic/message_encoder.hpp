// OpenAI chat messages to Anthropic's `system` and `messages`, part of the request encoder.
//
//   system, developer messages  -> `system` text blocks, one per string or text part, in order
//   user messages               -> user turns: text, image_url (a data: URL of image/jpeg, png,
//                                  gif or webp -> a base64 image block; application/pdf -> a
//                                  base64 document block; http(s) -> a url image block; detail is
//                                  dropped) and file parts (file_data, a data: URL or bare base64
//                                  of a PDF -> a document block titled with filename)
//   assistant messages          -> assistant turns: text blocks, then one tool_use block per tool
//                                  call, its input the parsed arguments ("" parses as {})
//   tool messages               -> tool_result blocks (content: the text, or text blocks)
// Consecutive messages of one side (user and tool messages are the user's) make one turn, with
// every tool_result block before the turn's other content, as Anthropic requires. Empty and
// whitespace-only texts are dropped (Anthropic refuses empty text blocks), and a turn left
// without blocks is dropped. Tool call ids keep [a-zA-Z0-9_-] and get '_' for other characters,
// in tool_use.id and tool_result.tool_use_id alike. A part's cache_control is kept on its block.
// A message's name, refusal, annotations and reasoning_content are dropped (thinking cannot be
// sent back without its signature).
//
// Refused (request_errors.hpp): function messages and function_call, audio, input_audio parts,
// file parts by file_id, tool calls of a type other than function, arguments that are not a JSON
// object, and unknown roles, part types or message fields.
#pragma once

#include <string>
#include <string_view>

#include "anthropic/json_access.hpp"

namespace anthropic {

struct EncodedMessages {
    Json system = Json::array();    // text blocks
    Json messages = Json::array();  // turns
};

// Encodes the request's `messages` (taken apart: strings move into the result).
EncodedMessages encode_messages(Json& messages);

// A tool call id as Anthropic accepts it: characters other than [a-zA-Z0-9_-] become '_'.
std::string anthropic_tool_id(std::string_view id);

}  // namespace anthropic
