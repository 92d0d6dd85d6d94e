#include "tracing/span.hpp"

#include <charconv>

#include "json/json_fields.hpp"

namespace llmproxy {

namespace {

using json_fields::append_quoted;

template <typename Number>
void append_number(std::string& out, Number n) {
    char digits[32];
    const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
    out.append(digits, end);
}

void append_value(std::string& out, const Span::Value& value) {
    std::visit(
        [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::string>) {
                out += R"({"stringValue":)";
                append_quoted(out, v);
            } else if constexpr (std::is_same_v<T, std::int64_t>) {
                out += R"({"intValue":")";  // 64-bit integers go as strings in OTLP/JSON
                append_number(out, v);
                out += '"';
            } else {
                out += v ? R"({"boolValue":true)" : R"({"boolValue":false)";
            }
            out += '}';
        },
        value);
}

void append_span(std::string& out, const Span& span) {
    out +=
        R"({"traceId":")" + to_hex(span.trace_id) + R"(","spanId":")" + to_hex(span.span_id) + '"';
    if (span.parent)
        out += R"(,"parentSpanId":")" + to_hex(*span.parent) + '"';
    out += R"(,"name":)";
    append_quoted(out, span.name);
    out += R"(,"kind":)";
    append_number(out, static_cast<int>(span.kind));
    out += R"(,"startTimeUnixNano":")";
    append_number(out, span.start_unix_ns);
    out += R"(","endTimeUnixNano":")";
    append_number(out, span.end_unix_ns);
    out += R"(","attributes":[)";
    for (std::size_t i = 0; i < span.attributes.size(); ++i) {
        out += i == 0 ? R"({"key":)" : R"(,{"key":)";
        append_quoted(out, span.attributes[i].first);
        out += R"(,"value":)";
        append_value(out, span.attributes[i].second);
        out += '}';
    }
    out += ']';
    if (span.error) {
        out += R"(,"status":{"code":2,"message":)";
        append_quoted(out, span.status_message);
        out += '}';
    }
    out += '}';
}

}  // namespace

std::string otlp_json(const std::vector<Span>& spans, const std::string& service_name) {
    std::string out;
    out.reserve(256 + 1024 * spans.size());
    out += R"({"resourceSpans":[{"resource":{"attributes":[{"key":"service.name",)"
           R"("value":{"stringValue":)";
    append_quoted(out, service_name);
    out += R"(}}]},"scopeSpans":[{"scope":{"name":"llm-proxy"},"spans":[)";
    for (std::size_t i = 0; i < spans.size(); ++i) {
        if (i > 0)
            out += ',';
        append_span(out, spans[i]);
    }
    out += "]}]}]}";
    return out;
}

}  // namespace llmproxy
