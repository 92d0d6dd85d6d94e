// W3C Trace Context (https://www.w3.org/TR/trace-context/): reading a client's traceparent, and
// the ids and header of the spans llm-proxy starts in its trace.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace llmproxy {

using TraceId = std::array<std::uint8_t, 16>;
using SpanId = std::array<std::uint8_t, 8>;

// Where a span sits: its trace, and the span it continues (its parent).
struct TraceParent {
    TraceId trace_id{};
    SpanId span_id{};
    bool sampled = false;
};

// A traceparent header's trace, parent span and sampled flag; nullopt when it is not one: not
// version-2-hex "-" 32-hex "-" 16-hex "-" 2-hex, upper-case hex, an all-zero id, version ff, or
// (for version 00) anything after the flags. Later versions may add fields after the flags.
std::optional<TraceParent> parse_traceparent(std::string_view header);

// "00-<trace>-<span>-<flags>".
std::string format_traceparent(const TraceId& trace, const SpanId& span, bool sampled);

// Lower-case hex.
std::string to_hex(const TraceId& id);
std::string to_hex(const SpanId& id);

// New random ids, never all zeros. [thread-safe]
TraceId new_trace_id();
SpanId new_span_id();

// A tracestate header fit to pass on: at most 512 bytes of printable ASCII; nullopt otherwise
// (the spec lets a proxy drop a tracestate it cannot vouch for).
std::optional<std::string> tracestate_to_forward(std::string_view header);

}  // namespace llmproxy
