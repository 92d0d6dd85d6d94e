// A finished span, as llm-proxy exports it (OTLP's Span, the fields llm-proxy uses).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "tracing/trace_context.hpp"

namespace llmproxy {

// The most bytes of outside text (an error message, a path) a span keeps in one attribute.
inline constexpr std::size_t kMaxSpanText = 1024;

struct Span {
    enum class Kind { server = 2, client = 3 };  // OTLP's SpanKind values
    using Value = std::variant<std::string, std::int64_t, bool>;

    TraceId trace_id{};
    SpanId span_id{};
    std::optional<SpanId> parent;
    std::string name;
    Kind kind = Kind::server;
    std::uint64_t start_unix_ns = 0;
    std::uint64_t end_unix_ns = 0;
    bool error = false;  // OTLP status ERROR, else UNSET
    std::string status_message;
    std::vector<std::pair<const char*, Value>> attributes;  // keys: string literals

    // value: a std::string (or text it is made of), std::int64_t or bool.
    template <typename T>
    void set(const char* key, T&& value) {
        attributes.emplace_back(std::piecewise_construct, std::forward_as_tuple(key),
                                std::forward_as_tuple(std::forward<T>(value)));
    }
};

// The OTLP/HTTP JSON body (ExportTraceServiceRequest) of spans, under one resource whose
// service.name is service_name: ids as lower-case hex, times and 64-bit integers as decimal strings
// (OTLP/JSON), text as UTF-8 (bytes that are not become U+FFFD).
std::string otlp_json(const std::vector<Span>& spans, const std::string& service_name);

}  // namespace llmproxy
