#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "tracing/span.hpp"
#include "tracing/trace_context.hpp"

using namespace llmproxy;

TEST_CASE("a valid traceparent is read, and written back the same") {
    const std::string header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    auto parent = parse_traceparent(header);
    REQUIRE(parent);
    CHECK(parent->sampled);
    CHECK(to_hex(parent->trace_id) == "4bf92f3577b34da6a3ce929d0e0e4736");
    CHECK(to_hex(parent->span_id) == "00f067aa0ba902b7");
    CHECK(format_traceparent(parent->trace_id, parent->span_id, true) == header);
    CHECK_FALSE(
        parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")->sampled);
    // Other flags than sampled do not sample.
    CHECK_FALSE(
        parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-02")->sampled);
}

TEST_CASE("what is not a traceparent is refused") {
    for (const char* header : {
             "",
             "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
             "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
             "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
             "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
             "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
             "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
             "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
             "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",
             "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
         }) {
        INFO(header);
        CHECK_FALSE(parse_traceparent(header));
    }
    CHECK(parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-later"));
}

TEST_CASE("new ids are random and never zero") {
    CHECK(new_trace_id() != new_trace_id());
    CHECK(new_span_id() != new_span_id());
    CHECK(to_hex(new_span_id()) != std::string(16, '0'));
}

TEST_CASE("a tracestate passes when short and printable") {
    CHECK(tracestate_to_forward("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7") ==
          "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
    CHECK_FALSE(tracestate_to_forward(std::string(513, 'a')));
    CHECK_FALSE(tracestate_to_forward("a=b\x01"));
}

TEST_CASE("spans become OTLP JSON: hex ids, nanoseconds and 64-bit integers as strings") {
    Span span;
    span.trace_id =
        parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")->trace_id;
    span.span_id = new_span_id();
    span.name = "chat \xff";  // not UTF-8: replaced, not thrown on
    span.start_unix_ns = 1700000000000000001;
    span.end_unix_ns = 1700000000000000002;
    span.error = true;
    span.status_message = "broken";
    span.set("n", std::int64_t{9007199254740993});
    span.set("b", true);
    const auto json = nlohmann::json::parse(otlp_json({span}, "svc"));
    const auto& s = json["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
    CHECK(s["traceId"] == "4bf92f3577b34da6a3ce929d0e0e4736");
    CHECK(s["startTimeUnixNano"] == "1700000000000000001");
    CHECK(s["attributes"][0]["value"]["intValue"] == "9007199254740993");
    CHECK(s["attributes"][1]["value"]["boolValue"] == true);
    CHECK(s["status"]["code"] == 2);
    CHECK_FALSE(s.contains("parentSpanId"));
    CHECK(json["resourceSpans"][0]["resource"]["attributes"][0]["value"]["stringValue"] == "svc");
}
