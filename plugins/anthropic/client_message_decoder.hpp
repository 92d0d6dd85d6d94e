// Anthropic's `system` and `messages` to canonical (OpenAI chat) messages, part of the client
// request decoder. Fields are named as Anthropic names them ("messages.2.content.0.source").
//
//   system (a string, or text blocks)  -> a first system message (a string, or text parts)
//   user turns                          -> first one tool message per tool_result block
//                                          ({tool_call_id, content: its text, or text parts}), then
//                                          one user message with the turn's other blocks, if any:
//                                            text                        -> a text part
//                                            image, base64 source        -> an image_url part with
//                                                                           a data: URL
//                                            image, url source           -> an image_url part
//                                            document, base64 PDF source -> a file part
//                                                                           {filename: title or
//                                                                           "document.pdf",
//                                                                           file_data: data: URL}
//                                          A content of one text is sent as a string.
//   assistant turns                     -> one assistant message: its text blocks joined, and
//                                          tool_calls [{id, type function, function {name,
//                                          arguments: the input as JSON text}}] from tool_use
//                                          blocks (content null when there are tool calls but no
//                                          text)
// Dropped, because a canonical upstream has no place for them and the answer does not depend on
// them: cache_control everywhere (caching hints are advisory), citations on text blocks (they
// describe an earlier answer), thinking and redacted_thinking blocks of assistant turns (a
// canonical request cannot carry reasoning back; OpenAI's own API does not take it either), and
// is_error of tool_result blocks (OpenAI's tool messages have no such flag; the result's text
// still says what failed).
//
// Refused with 400 (request_errors.hpp), naming the field: roles other than user and assistant,
// block types of Anthropic's server tools and any block type not listed above, image and
// document sources by file_id, document sources other than a base64 PDF, documents with context
// or citations, images inside tool results (OpenAI's tool messages take text only), and
// unknown members of any block.
#pragma once

#include "anthropic/client_tool_names.hpp"
#include "anthropic/json_access.hpp"

namespace anthropic {

// The system message for Anthropic's `system`; null when it holds no text.
Json decode_system(Json& system);

// Appends the canonical messages for Anthropic's `messages` (taken apart: strings move) to
// `out`. Tool names go through `names`.
void decode_messages(Json& messages, ToolNames& names, Json& out);

}  // namespace anthropic
