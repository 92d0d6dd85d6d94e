// One request's place in a trace: its own span (kind SERVER), which continues the client's
// traceparent when that is valid (else starts a trace), and the spans of its upstream attempts
// (kind CLIENT, its children), whose context goes upstream in traceparent. Spans are recorded
// only when an exporter is configured and the trace is sampled (the client's sampled flag, or
// sample_ratio for a new trace); otherwise the client's traceparent and tracestate pass upstream
// as they came.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "http/headers.hpp"
#include "tracing/span_exporter.hpp"
#include "tracing/trace_context.hpp"

namespace llmproxy {

class RequestTrace {
  public:
    // headers: the client's request headers. exporter: null when tracing is off.
    RequestTrace(const HeaderList& headers, SpanExporter* exporter, double sample_ratio);

    bool recording() const { return exporter_ != nullptr; }

    // While recording: sets traceparent (for the attempt's span) and tracestate in headers, in
    // place of the client's.
    void put_upstream_headers(HeaderList& headers, const SpanId& attempt) const;

    // A span of this trace that started at start: the request's own (parent: the client's span),
    // or a child of it with a new id.
    Span own_span(std::string name) const;
    Span child_span(const SpanId& id, std::string name,
                    std::chrono::system_clock::time_point start) const;
    // [while recording] Ends span now and queues it for export.
    void finish(Span span) const;

  private:
    Span span_of(const SpanId& id, std::optional<SpanId> parent, std::string name, Span::Kind kind,
                 std::chrono::system_clock::time_point start) const;

    SpanExporter* exporter_;  // null unless recording
    TraceId trace_id_{};
    SpanId span_id_{};
    std::optional<SpanId> parent_;
    bool sampled_ = false;
    std::optional<std::string> tracestate_;
    std::chrono::system_clock::time_point start_;
};

// Nanoseconds since the Unix epoch.
std::uint64_t unix_ns(std::chrono::system_clock::time_point at);

}  // namespace llmproxy
