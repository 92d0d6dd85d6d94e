// What the whole-answer and the stream decoders map alike: Anthropic's stop_reason to OpenAI's
// finish_reason, and Anthropic's token usage to OpenAI's.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "anthropic/json_access.hpp"

namespace anthropic {

// OpenAI's finish_reason for an Anthropic stop_reason: end_turn, stop_sequence and pause_turn
// -> "stop"; max_tokens and model_context_window_exceeded -> "length"; tool_use ->
// "tool_calls"; refusal -> "content_filter". A value Anthropic may add later -> "stop".
std::string_view finish_reason_for(std::string_view stop_reason);

// Readers clamp each count Anthropic reports to [0, kMaxTokenCount], so that sums cannot overflow
// whatever an upstream sends.
inline constexpr std::int64_t kMaxTokenCount = 1'000'000'000'000'000;

// Anthropic's token counts. input excludes the cached tokens, which are counted apart.
struct Usage {
    std::int64_t input = 0;
    std::int64_t cache_creation = 0;
    std::int64_t cache_read = 0;
    std::int64_t output = 0;
};

// A count as an upstream reported it, clamped to [0, kMaxTokenCount].
std::int64_t token_count(std::int64_t reported);
std::int64_t token_count(std::uint64_t reported);
// The count member `key` of `object`, clamped; 0 when absent or not an integer.
std::int64_t token_count_member(const Json& object, const char* key);

// Appends OpenAI's usage object: prompt_tokens = input + cache_creation + cache_read (OpenAI's
// prompt count includes cached tokens), completion_tokens = output, total_tokens = their sum,
// prompt_tokens_details.cached_tokens = cache_read.
void append_openai_usage(std::string& out, const Usage& usage);

}  // namespace anthropic
