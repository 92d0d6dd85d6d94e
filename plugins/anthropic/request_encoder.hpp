// An OpenAI chat completion request to an Anthropic Messages request.
//
//   model                             -> model, as named
//   messages                          -> system and messages (message_encoder.hpp)
//   max_completion_tokens, max_tokens -> max_tokens (the first one given; the configured default
//                                        when neither is: Anthropic requires it)
//   stop (a string or strings)        -> stop_sequences; empty or whitespace-only ones refused
//   temperature                       -> temperature; above 1 refused (Anthropic's range is 0-1)
//   top_p; top_k, thinking            -> the same (top_k and thinking are Anthropic's own)
//   tools (functions)                 -> tools {name, description, input_schema: parameters
//                                        (an empty object schema when absent), strict,
//                                        cache_control}
//   tool_choice                       -> auto -> auto, required -> any, none -> none,
//                                        {function {name}} -> {type tool, name}
//   parallel_tool_calls false         -> tool_choice.disable_parallel_tool_use (tool_choice
//                                        auto when none was given and there are tools)
//   response_format                   -> text: nothing; json_schema -> output_config.format
//                                        {type json_schema, schema}; json_object refused
//                                        (Anthropic has no JSON mode without a schema)
//   reasoning_effort                  -> none: nothing; minimal and low -> low, medium, high,
//                                        xhigh -> thinking {type adaptive} and
//                                        output_config.effort
//   safety_identifier, user           -> metadata.user_id (safety_identifier when both)
//   stream                            -> stream
//   stream_options.include_usage      -> not sent: it decides the stream's usage chunk
// Accepted without effect on the answer: store, metadata, prompt_cache_key, service_tier
// "auto". Refused unless they ask for nothing (null, n 1, logprobs false, penalties 0,
// modalities ["text"], logit_bias {}): n, logprobs, top_logprobs, logit_bias, presence_penalty,
// frequency_penalty, seed, audio, modalities, prediction, functions, function_call,
// web_search_options, other service tiers. Any other field is refused: what the provider does not
// know it does not drop silently.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace anthropic {

struct EncoderSettings {
    std::int64_t default_max_tokens = 4096;  // options.max_tokens
};

struct EncodedRequest {
    std::string body;            // the Messages request
    bool include_usage = false;  // stream_options.include_usage
};

// Throws llm_proxy::Error (400, invalid_request_error, request_errors.hpp) naming the field that
// cannot be translated. The simplest requests take a fast path (simple_request.hpp).
EncodedRequest encode_request(std::string_view chat_request, const EncoderSettings& settings);

// encode_request without its fast path: what the fast path is held to, in tests.
EncodedRequest encode_request_in_full(std::string_view chat_request,
                                      const EncoderSettings& settings);

}  // namespace anthropic
