// A finished span, as llm-proxy exports it (OTLP's Span, the fields llm-proxy uses).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "tracing/trace_context.hpp"

namespace llmproxy {

struct Span {
    enum class Kind { server = 2, client = 3 };  // OTLP's SpanKind values
    using Value = std::variant<std::string, std::int64_t, double, bool>;

    TraceId trace_id{};
    SpanId span_id{};
    std::optional<SpanId> parent;
    std::string name;
    Kind kind = Kind::server;
    std::uint64_t start_unix_ns = 0;
    std::uint64_t end_unix_ns = 0;
    bool error = false;  // OTLP status ERROR, else UNSET
    std::string status_message;
    std::vector<std::pair<std::string, Value>> attributes;

    void set(std::string key, Value value) {
        attributes.emplace_back(std::move(key), std::move(value));
    }
};

// The OTLP/HTTP JSON body (ExportTraceServiceRequest) of spans, under one resource whose
// service.name is service_name: ids as lower-case hex, times as decimal strings of nanoseconds.
std::string otlp_json(const std::vector<Span>& spans, const std::string& service_name);

}  // namespace llmproxy
