// The client stream encoder's fast path (client_stream_encoder.hpp) for the chunk most of a
// canonical stream is made of: one choice whose delta is only text, recognised by its bytes as
// OpenAI and llm-proxy's providers write it, without whitespace:
//
//   {"id":"..","object":"chat.completion.chunk","created":N,"model":"..",
//    "choices":[{"index":0,"delta":{"content":".."},"logprobs":null,"finish_reason":null}]}
//
// Members other than choices may come in any order and are skipped when their value is a string
// without escapes, an integer, true, false or null (id, object, created, model, service_tier,
// system_fingerprint, obfuscation, "usage":null); logprobs and finish_reason may be absent.
// Anything else, and any text that is not valid JSON, gives nullopt: the full reading
// (chunk_fields.hpp) takes it, and says what is wrong with it.
#pragma once

#include <optional>
#include <string_view>

namespace anthropic {

// The delta's content as its JSON string literal, quotes included, as written.
std::optional<std::string_view> text_chunk_content(std::string_view chunk);

}  // namespace anthropic
