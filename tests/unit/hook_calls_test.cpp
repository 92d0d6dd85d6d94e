// The host side of the hooks' field access: what a stream hook reads and edits is the current
// event's data, and what the host hands out stays valid until the hook returns.
#include <doctest/doctest.h>

#include <string>

#include "pipeline/hook_calls.hpp"

using llmproxy::StreamCall;

namespace {

std::string text(lp_str s) {
    return std::string(s.ptr, s.len);
}

}  // namespace

TEST_CASE("a stream hook reads and edits the current event's data by JSON Pointer") {
    std::string data = R"({"choices":[{"index":0,"delta":{"content":"Hi \"you\""}}]})";
    StreamCall call("on_stream_event", data);
    lp_str value{};
    REQUIRE(call.get_field("/choices/0/delta/content", value));
    CHECK(text(value) == R"("Hi \"you\"")");
    REQUIRE(call.get_string_field("/choices/0/delta/content", value));
    CHECK(text(value) == R"(Hi "you")");
    CHECK_FALSE(call.get_field("/choices/0/delta/role", value));

    CHECK(call.edit_field(LP_EDIT_REPLACE, "/choices/0/delta/content", R"("Ho")"));
    CHECK(call.edit_field(LP_EDIT_ADD, "/seen", "true"));
    CHECK(data == R"({"choices":[{"index":0,"delta":{"content":"Ho"}}],"seen":true})");
    CHECK(text(value) == R"(Hi "you")");  // an earlier result still shows the text as it was
    CHECK_FALSE(call.edit_field(LP_EDIT_REPLACE, "/seen", "not json"));
    CHECK(call.emitted.events.empty());
}

TEST_CASE("views of a small event survive the hook's edits") {
    // Short enough to live inside the std::string object itself, where a move would take it.
    std::string data = R"({"a":1})";
    StreamCall call("on_stream_event", data);
    const lp_str before = llmproxy::to_lp(data);  // what the hook's lp_sse_event shows
    lp_str a{};
    REQUIRE(call.get_field("/a", a));
    REQUIRE(call.edit_field(LP_EDIT_REPLACE, "/a", "2"));
    REQUIRE(call.edit_field(LP_EDIT_REPLACE, "/a", "3"));
    CHECK(data == R"({"a":3})");
    CHECK(text(before) == R"({"a":1})");
    CHECK(text(a) == "1");
}

TEST_CASE("end_stream has no current event, and stream hooks cannot replace a body or call out") {
    std::string none;
    StreamCall call("end_stream", none);
    lp_str value{};
    CHECK_FALSE(call.get_field("/model", value));
    CHECK_FALSE(call.edit_field(LP_EDIT_ADD, "/x", "1"));
    call.set_body("{}");
    CHECK(none.empty());
    lp_llm_answer answer{sizeof answer, 0, {}};
    CHECK_FALSE(call.call_llm("any", "{}", answer));
    call.emit_event("{\"x\":1}");
    call.emit_named_event("message_stop", "{}");
    CHECK(call.emitted.events ==
          std::vector<llmproxy::StreamEvent>{{"", "{\"x\":1}"}, {"message_stop", "{}"}});
    call.emitted.check(call);  // nothing refused
}

TEST_CASE("an event name that would break the event: line is refused, naming the hook") {
    std::string data = "{}";
    StreamCall call("provider 'x' decode_stream_event", data);
    call.emit_named_event("ok\r\ndata: forged", "{}");
    call.emit_named_event("fine", "{}");
    CHECK(call.emitted.events == std::vector<llmproxy::StreamEvent>{{"fine", "{}"}});
    CHECK_THROWS_WITH_AS(
        call.emitted.check(call),
        doctest::Contains("provider 'x' decode_stream_event emitted an event named"),
        llmproxy::ApiException);
}

TEST_CASE("an answer hook's respond() replaces status and body, and keeps the upstream's headers") {
    llmproxy::Answer answer{529, "application/json", R"({"type":"error"})", {{"retry-after", "3"}}};
    llmproxy::ResponseCall call("decode_response", answer, nullptr);
    call.respond(503, "", R"({"error":{}})");
    CHECK(answer.status == 503);
    CHECK(answer.content_type == "application/json");
    CHECK(answer.body == R"({"error":{}})");
    CHECK(answer.headers == llmproxy::HeaderList{{"retry-after", "3"}});
}
