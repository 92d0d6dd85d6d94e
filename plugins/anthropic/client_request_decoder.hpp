// An Anthropic Messages request (a client's, on a route with api = "anthropic" whose llm is not
// Anthropic's) to a canonical (OpenAI chat completions) request.
//
//   model, max_tokens (both required)  -> model, max_tokens
//   temperature, top_p                  -> the same
//   system, messages                    -> messages (client_message_decoder.hpp)
//   stop_sequences                      -> stop
//   stream                              -> stream; when true also stream_options
//                                          {"include_usage": true}, since the usage goes out in the
//                                          client's closing message_delta
//   metadata.user_id                    -> user
//   tools (custom tools)                -> tools [{type function, function {name, description,
//                                          parameters: input_schema, strict}}]; names longer than
//                                          64 characters shortened (client_tool_names.hpp)
//   tool_choice                         -> auto -> "auto", any -> "required", none -> "none",
//                                          tool -> {type function, function {name}};
//                                          disable_parallel_tool_use true -> parallel_tool_calls
//                                          false
//   output_config.effort                -> reasoning_effort (low, medium, high, xhigh; max ->
//                                          xhigh)
//   thinking, without output_config.effort
//                                       -> enabled: reasoning_effort by budget_tokens (below 2048
//                                          low, below 4096 medium, else high, the buckets of the
//                                          reverse map: low 1024, medium 2048, high 4096);
//                                          adaptive: "medium"; disabled: nothing
//   output_config.format, output_format (json_schema)
//                                       -> response_format {type json_schema, json_schema {name
//                                          "structured_output", schema, strict true}}, the schema
//                                          made strict the way OpenAI requires: every object with
//                                          properties gets additionalProperties false and all its
//                                          properties required
// Dropped: cache_control (caching hints are advisory: the answer is the same without them),
// service_tier (it chooses between Anthropic's capacity tiers), and in tools cache_control and
// eager_input_streaming (how Anthropic streams a tool's input).
// Refused with 400 naming the field (request_errors.hpp): a missing model, max_tokens or messages
// (Anthropic's own words: "max_tokens: Field required"); top_k (OpenAI has no such sampling),
// container, mcp_servers, inference_geo, context_management and every other field this decoder
// does not know (it fails closed); server tools (a tool type other than "custom"); unknown
// members of tools, tool_choice, thinking, metadata and output_config.
#pragma once

#include <string>
#include <string_view>

#include "anthropic/client_tool_names.hpp"

namespace anthropic {

struct DecodedRequest {
    std::string body;   // the canonical request
    std::string model;  // the client's model, which its answer names
    bool stream = false;
    ToolNames tool_names;
};

// Throws llm_proxy::Error (400, invalid_request_error) naming the field that cannot be translated.
// The simplest requests take a fast path (simple_client_request.hpp).
DecodedRequest decode_client_request(std::string_view anthropic_request);

// decode_client_request without its fast path: what the fast path is held to, in tests.
DecodedRequest decode_client_request_in_full(std::string_view anthropic_request);

}  // namespace anthropic
