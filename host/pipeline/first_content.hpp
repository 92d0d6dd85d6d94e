// Whether a canonical stream event carries the answer's first content: what a stream's held head
// waits for before it goes to the client (RouteConfig::hold_stream_head). Up to that event a
// failed attempt can be tried again without the client seeing anything.
#pragma once

#include <string_view>

namespace llmproxy {

// True for an OpenAI chat chunk whose first choice has text, a refusal, reasoning or tool calls in
// its delta, or a finish_reason; and for anything that is not a chunk (an error event, data that
// is not JSON, an object without "choices"), which must not be held back either. False for the
// role-only opening chunk and other chunks with nothing in them (e.g. "choices": []).
bool is_content_event(std::string_view data);

}  // namespace llmproxy
