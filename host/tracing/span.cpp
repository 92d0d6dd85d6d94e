#include "tracing/span.hpp"

#include <nlohmann/json.hpp>

namespace llmproxy {

namespace {

nlohmann::json any_value(const Span::Value& value) {
    return std::visit(
        [](const auto& v) -> nlohmann::json {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::string>)
                return {{"stringValue", v}};
            else if constexpr (std::is_same_v<T, std::int64_t>)
                return {{"intValue", std::to_string(v)}};  // OTLP/JSON: int64 as a string
            else if constexpr (std::is_same_v<T, double>)
                return {{"doubleValue", v}};
            else
                return {{"boolValue", v}};
        },
        value);
}

}  // namespace

std::string otlp_json(const std::vector<Span>& spans, const std::string& service_name) {
    nlohmann::json out_spans = nlohmann::json::array();
    for (const Span& span : spans) {
        nlohmann::json attributes = nlohmann::json::array();
        for (const auto& [key, value] : span.attributes)
            attributes.push_back({{"key", key}, {"value", any_value(value)}});
        nlohmann::json s = {{"traceId", to_hex(span.trace_id)},
                            {"spanId", to_hex(span.span_id)},
                            {"name", span.name},
                            {"kind", static_cast<int>(span.kind)},
                            {"startTimeUnixNano", std::to_string(span.start_unix_ns)},
                            {"endTimeUnixNano", std::to_string(span.end_unix_ns)},
                            {"attributes", std::move(attributes)}};
        if (span.parent)
            s["parentSpanId"] = to_hex(*span.parent);
        if (span.error)
            s["status"] = {{"code", 2}, {"message", span.status_message}};
        out_spans.push_back(std::move(s));
    }
    nlohmann::json resource = {
        {"attributes", nlohmann::json::array({{{"key", "service.name"},
                                               {"value", {{"stringValue", service_name}}}}})}};
    nlohmann::json body = {
        {"resourceSpans",
         nlohmann::json::array(
             {{{"resource", std::move(resource)},
               {"scopeSpans", nlohmann::json::array({{{"scope", {{"name", "llm-proxy"}}},
                                                      {"spans", std::move(out_spans)}}})}}})}};
    // Names and messages may hold bytes that are not UTF-8 (a client's model name): replaced.
    return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace llmproxy
