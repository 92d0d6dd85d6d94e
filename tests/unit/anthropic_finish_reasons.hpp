// OpenAI's finish_reason values and the stop_reason each must become for an Anthropic client,
// whole or streamed (a value added later reads as "end_turn").
#pragma once

#include <utility>

inline constexpr std::pair<const char*, const char*> kFinishReasons[] = {
    {"stop", "end_turn"},          {"length", "max_tokens"},
    {"tool_calls", "tool_use"},    {"content_filter", "refusal"},
    {"function_call", "end_turn"}, {"a_reason_added_later", "end_turn"}};
