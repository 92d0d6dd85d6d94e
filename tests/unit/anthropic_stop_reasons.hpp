// Anthropic's stop_reason values and the finish_reason each must become, whole or streamed
// (Anthropic has no stop_reason this list leaves out; one added later reads as "stop").
#pragma once

#include <utility>

inline constexpr std::pair<const char*, const char*> kStopReasons[] = {
    {"end_turn", "stop"},
    {"stop_sequence", "stop"},
    {"pause_turn", "stop"},
    {"max_tokens", "length"},
    {"model_context_window_exceeded", "length"},
    {"tool_use", "tool_calls"},
    {"refusal", "content_filter"},
    {"a_reason_added_later", "stop"}};
