#include "tracing/request_trace.hpp"

#include <random>

namespace llmproxy {

namespace {

bool draw(double ratio) {
    if (ratio >= 1)
        return true;
    thread_local std::mt19937_64 random{std::random_device{}()};
    return std::uniform_real_distribution<double>(0, 1)(random) < ratio;
}

void replace_header(HeaderList& headers, std::string_view name, std::string value) {
    std::erase_if(headers, [&](const auto& h) { return equals_ignoring_case(h.first, name); });
    headers.emplace_back(std::string(name), std::move(value));
}

}  // namespace

std::uint64_t unix_ns(std::chrono::system_clock::time_point at) {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(at.time_since_epoch()).count());
}

RequestTrace::RequestTrace(const HeaderList& headers, SpanExporter* exporter, double sample_ratio)
    : exporter_(nullptr) {
    if (!exporter)
        return;  // the client's headers pass as they came; nothing else to know
    // Several traceparent headers make none valid; several tracestate headers are one list.
    const std::string* traceparent = nullptr;
    int traceparents = 0;
    std::string tracestate;
    bool has_tracestate = false;
    for (const auto& [name, value] : headers) {
        if (equals_ignoring_case(name, "traceparent")) {
            traceparent = &value;
            ++traceparents;
        } else if (equals_ignoring_case(name, "tracestate")) {
            tracestate += (has_tracestate ? "," : "") + value;
            has_tracestate = true;
        }
    }
    auto parent = traceparents == 1 ? parse_traceparent(*traceparent) : std::nullopt;
    if (parent) {
        trace_id_ = parent->trace_id;
        parent_ = parent->span_id;
        sampled_ = parent->sampled;
        if (has_tracestate)
            tracestate_ = tracestate_to_forward(tracestate);
    } else {
        trace_id_ = new_trace_id();
        sampled_ = draw(sample_ratio);
    }
    span_id_ = new_span_id();
    start_ = std::chrono::system_clock::now();
    if (sampled_)
        exporter_ = exporter;
}

void RequestTrace::put_upstream_headers(HeaderList& headers, const SpanId& attempt) const {
    if (!recording())
        return;
    replace_header(headers, "traceparent", format_traceparent(trace_id_, attempt, sampled_));
    if (tracestate_)
        replace_header(headers, "tracestate", *tracestate_);
    else
        std::erase_if(headers,
                      [](const auto& h) { return equals_ignoring_case(h.first, "tracestate"); });
}

Span RequestTrace::own_span(std::string name) const {
    return span_of(span_id_, parent_, std::move(name), Span::Kind::server, start_);
}

Span RequestTrace::child_span(const SpanId& id, std::string name,
                              std::chrono::system_clock::time_point start) const {
    return span_of(id, span_id_, std::move(name), Span::Kind::client, start);
}

Span RequestTrace::span_of(const SpanId& id, std::optional<SpanId> parent, std::string name,
                           Span::Kind kind, std::chrono::system_clock::time_point start) const {
    Span span;
    span.trace_id = trace_id_;
    span.span_id = id;
    span.parent = parent;
    span.name = std::move(name);
    span.kind = kind;
    span.start_unix_ns = unix_ns(start);
    span.attributes.reserve(16);
    return span;
}

void RequestTrace::finish(Span span) const {
    span.end_unix_ns = unix_ns(std::chrono::system_clock::now());
    exporter_->submit(std::move(span));
}

}  // namespace llmproxy
