// The anthropic client API's stream encoder: canonical chat.completion.chunk events to the
// Messages stream an Anthropic client expects. Every stream is also checked against the rules the
// Anthropic SDK enforces (message_start first and once, one block at a time with contiguous
// indexes, deltas of the block's own kind, message_delta after the last block, message_stop
// last), and accumulated the way the SDK accumulates it.
#include <doctest/doctest.h>

#include <llm_proxy/cpp/plugin.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "anthropic/client_stream_encoder.hpp"
#include "anthropic/json_object_progress.hpp"
#include "anthropic/text_chunk.hpp"
#include "anthropic_finish_reasons.hpp"

using nlohmann::json;

namespace {

struct Event {
    std::string name;
    json data;
};

anthropic::ReplyFacts facts() {
    anthropic::ReplyFacts f;
    f.message_id = "msg_0123456789abcdefABCDEFGH";
    f.model = "claude-sonnet-4-5";
    return f;
}

// A chunk, its members in the order OpenAI writes them (a text chunk then takes the encoder's
// fast path, text_chunk.hpp).
std::string chunk(nlohmann::ordered_json delta, nlohmann::ordered_json finish_reason = nullptr) {
    return nlohmann::ordered_json{{"id", "chatcmpl-1"},
                                  {"object", "chat.completion.chunk"},
                                  {"created", 1770000000},
                                  {"model", "gpt-x"},
                                  {"choices",
                                   {{{"index", 0},
                                     {"delta", std::move(delta)},
                                     {"logprobs", nullptr},
                                     {"finish_reason", std::move(finish_reason)}}}}}
        .dump();
}

std::string role() {
    return chunk({{"role", "assistant"}, {"content", ""}});
}
std::string text(const std::string& t) {
    return chunk({{"content", t}});
}
std::string reasoning(const std::string& t) {
    return chunk({{"reasoning_content", t}});
}
std::string tool_start(int index, const std::string& id, const std::string& name,
                       const std::string& arguments = "") {
    return chunk({{"tool_calls",
                   {{{"index", index},
                     {"id", id},
                     {"type", "function"},
                     {"function", {{"name", name}, {"arguments", arguments}}}}}}});
}
std::string tool_arguments(int index, const std::string& arguments) {
    return chunk({{"tool_calls", {{{"index", index}, {"function", {{"arguments", arguments}}}}}}});
}
std::string finish(const std::string& reason) {
    return chunk(json::object(), reason);
}
std::string usage(int prompt, int completion, int cached = 0) {
    return json{{"id", "chatcmpl-1"},
                {"object", "chat.completion.chunk"},
                {"created", 1770000000},
                {"model", "gpt-x"},
                {"choices", json::array()},
                {"usage",
                 {{"prompt_tokens", prompt},
                  {"completion_tokens", completion},
                  {"total_tokens", prompt + completion},
                  {"prompt_tokens_details", {{"cached_tokens", cached}}}}}}
        .dump();
}

void collect(std::span<const anthropic::ClientEvent> events, std::vector<Event>& out) {
    for (const auto& e : events)
        out.push_back({std::string(e.name), json::parse(e.data)});
}

// The chunks with their data spaced out: read in full, never by the encoder's fast path.
std::vector<std::string> spaced(const std::vector<std::string>& chunks) {
    std::vector<std::string> out;
    for (const auto& c : chunks)
        out.push_back(c.empty() || c.front() != '{' ? c : "{ " + c.substr(1));
    return out;
}

// The events of a whole stream: each chunk, then finish(). The same chunks spaced out must give
// the same events.
std::vector<Event> encode_all(const std::vector<std::string>& chunks,
                              const anthropic::ReplyFacts& f) {
    std::vector<Event> runs[2];
    for (int spaced_out = 0; spaced_out < 2; ++spaced_out) {
        anthropic::ClientStreamEncoder encoder(f);
        for (const auto& c : spaced_out ? spaced(chunks) : chunks)
            collect(encoder.encode(c), runs[spaced_out]);
        collect(encoder.finish(), runs[spaced_out]);
    }
    REQUIRE(runs[0].size() == runs[1].size());
    for (std::size_t i = 0; i < runs[0].size(); ++i) {
        CHECK(runs[0][i].name == runs[1][i].name);
        CHECK(runs[0][i].data == runs[1][i].data);
    }
    return runs[0];
}

std::vector<Event> encode_all(const std::vector<std::string>& chunks) {
    const anthropic::ReplyFacts f = facts();
    return encode_all(chunks, f);
}

// The message an Anthropic SDK builds from the events, checking the order it enforces.
json accumulate(const std::vector<Event>& events) {
    json message;
    int open = -1;
    bool delta_seen = false;
    std::string partial_json;
    REQUIRE(!events.empty());
    for (std::size_t i = 0; i < events.size(); ++i) {
        const Event& e = events[i];
        INFO("event " << i << ": " << e.name << " " << e.data.dump());
        CHECK(e.data["type"] == e.name);
        if (e.name == "message_start") {
            REQUIRE(i == 0);
            message = e.data["message"];
            continue;
        }
        REQUIRE(i > 0);
        if (e.name == "content_block_start") {
            REQUIRE(open == -1);
            REQUIRE(e.data["index"] == message["content"].size());
            message["content"].push_back(e.data["content_block"]);
            open = e.data["index"];
            partial_json.clear();
        } else if (e.name == "content_block_delta") {
            REQUIRE(e.data["index"] == open);
            json& block = message["content"][open];
            const json& delta = e.data["delta"];
            if (delta["type"] == "text_delta") {
                REQUIRE(block["type"] == "text");
                block["text"] = block["text"].get<std::string>() + delta["text"].get<std::string>();
            } else if (delta["type"] == "thinking_delta") {
                REQUIRE(block["type"] == "thinking");
                block["thinking"] =
                    block["thinking"].get<std::string>() + delta["thinking"].get<std::string>();
            } else {
                REQUIRE(delta["type"] == "input_json_delta");
                REQUIRE(block["type"] == "tool_use");
                partial_json += delta["partial_json"].get<std::string>();
            }
        } else if (e.name == "content_block_stop") {
            REQUIRE(e.data["index"] == open);
            json& block = message["content"][open];
            if (block["type"] == "tool_use") {
                block["input"] = json::parse(partial_json);
                REQUIRE(block["input"].is_object());
            }
            open = -1;
        } else if (e.name == "message_delta") {
            REQUIRE(open == -1);
            REQUIRE_FALSE(delta_seen);
            delta_seen = true;
            message["stop_reason"] = e.data["delta"]["stop_reason"];
            message["stop_sequence"] = e.data["delta"]["stop_sequence"];
            message["usage"] = e.data["usage"];
        } else {
            REQUIRE(e.name == "message_stop");
            REQUIRE(delta_seen);
            REQUIRE(i + 1 == events.size());
        }
    }
    REQUIRE(events.back().name == "message_stop");
    return message;
}

std::vector<std::string> names(const std::vector<Event>& events) {
    std::vector<std::string> out;
    for (const auto& e : events)
        out.push_back(e.name);
    return out;
}

llm_proxy::Error failure(const std::vector<std::string>& chunks) {
    try {
        encode_all(chunks);
    } catch (const llm_proxy::Error& e) {
        return e;
    }
    FAIL("encoded, though it should fail");
    return llm_proxy::Error("");
}

json usage_object(int input, int cache_creation, int cache_read, int output) {
    return {{"input_tokens", input},
            {"cache_creation_input_tokens", cache_creation},
            {"cache_read_input_tokens", cache_read},
            {"output_tokens", output}};
}

}  // namespace

TEST_CASE("anthropic client stream: text only, event by event") {
    auto events = encode_all({role(), text("Hel"), text("lo"), finish("stop"), usage(12, 2)});
    std::vector<std::string> expected = {
        R"({"type":"message_start","message":{"id":"msg_0123456789abcdefABCDEFGH","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}}})",
        R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})",
        R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}})",
        R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"lo"}})",
        R"({"type":"content_block_stop","index":0})",
        R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":2}})",
        R"({"type":"message_stop"})"};
    REQUIRE(events.size() == expected.size());
    for (std::size_t i = 0; i < events.size(); ++i)
        CHECK(events[i].data == json::parse(expected[i]));
    CHECK(names(events) == std::vector<std::string>{"message_start", "content_block_start",
                                                    "content_block_delta", "content_block_delta",
                                                    "content_block_stop", "message_delta",
                                                    "message_stop"});
    json message = accumulate(events);
    CHECK(message["content"] == json{{{"type", "text"}, {"text", "Hello"}}});
}

TEST_CASE("anthropic client stream: the data is written as exact JSON text") {
    const anthropic::ReplyFacts f = facts();
    anthropic::ClientStreamEncoder encoder(f);
    encoder.encode(role());
    auto events = encoder.encode(text("say \"hi\"\n"));
    REQUIRE(events.size() == 2);
    CHECK(events[0].name == "content_block_start");
    CHECK(events[1].name == "content_block_delta");
    CHECK(
        events[1].data ==
        R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"say \"hi\"\n"}})");
}

TEST_CASE(
    "anthropic client stream: message_start comes first and once, whatever the first chunk "
    "holds") {
    auto events = encode_all({text("Hi"), text(" there"), finish("stop")});
    CHECK(events[0].name == "message_start");
    int starts = 0;
    for (const auto& e : events)
        starts += e.name == "message_start";
    CHECK(starts == 1);
    accumulate(events);
}

TEST_CASE("anthropic client stream: text then tools, each tool streamed live in its own block") {
    const anthropic::ReplyFacts f = facts();
    anthropic::ClientStreamEncoder encoder(f);
    std::vector<Event> events;
    collect(encoder.encode(role()), events);
    collect(encoder.encode(text("Let me check.")), events);
    collect(encoder.encode(tool_start(0, "call_a", "get_weather")), events);
    collect(encoder.encode(tool_arguments(0, "{\"city\":")), events);
    collect(encoder.encode(tool_arguments(0, "\"Paris\"}")), events);
    auto second = encoder.encode(tool_start(1, "call_b", "get_time"));
    // The first tool's arguments are whole: its block closes and the second opens at once.
    REQUIRE(second.size() == 2);
    CHECK(second[0].name == "content_block_stop");
    CHECK(second[1].name == "content_block_start");
    collect(second, events);
    auto fragment = encoder.encode(tool_arguments(1, "{\"tz\":\"CET\"}"));
    REQUIRE(fragment.size() == 1);
    CHECK(fragment[0].name == "content_block_delta");
    collect(fragment, events);
    collect(encoder.encode(finish("tool_calls")), events);
    collect(encoder.encode(usage(30, 20)), events);
    collect(encoder.finish(), events);

    json message = accumulate(events);
    CHECK(message["content"] == json{{{"type", "text"}, {"text", "Let me check."}},
                                     {{"type", "tool_use"},
                                      {"id", "call_a"},
                                      {"name", "get_weather"},
                                      {"input", {{"city", "Paris"}}}},
                                     {{"type", "tool_use"},
                                      {"id", "call_b"},
                                      {"name", "get_time"},
                                      {"input", {{"tz", "CET"}}}}});
    CHECK(message["stop_reason"] == "tool_use");
    CHECK(message["usage"] == usage_object(30, 0, 0, 20));
}

TEST_CASE(
    "anthropic client stream: two parallel tools interleaved by index keep their own "
    "arguments") {
    auto events = encode_all({role(), tool_start(0, "call_a", "search"),
                              tool_start(1, "call_b", "search"), tool_arguments(0, "{\"q\":"),
                              tool_arguments(1, "{\"q\":"), tool_arguments(1, "\"dogs\"}"),
                              tool_arguments(0, "\"cats\"}"), finish("tool_calls")});
    json message = accumulate(events);
    REQUIRE(message["content"].size() == 2);
    CHECK(message["content"][0]["id"] == "call_a");
    CHECK(message["content"][0]["input"] == json{{"q", "cats"}});
    CHECK(message["content"][1]["id"] == "call_b");
    CHECK(message["content"][1]["input"] == json{{"q", "dogs"}});
}

TEST_CASE("anthropic client stream: tools started in one chunk each get a block") {
    std::string both = chunk({{"tool_calls",
                               {{{"index", 0},
                                 {"id", "call_a"},
                                 {"type", "function"},
                                 {"function", {{"name", "a"}, {"arguments", "{\"x\":1}"}}}},
                                {{"index", 1},
                                 {"id", "call_b"},
                                 {"type", "function"},
                                 {"function", {{"name", "b"}, {"arguments", "{\"y\":2}"}}}}}}});
    json message = accumulate(encode_all({role(), both, finish("tool_calls")}));
    REQUIRE(message["content"].size() == 2);
    CHECK(message["content"][0]["input"] == json{{"x", 1}});
    CHECK(message["content"][1]["input"] == json{{"y", 2}});
}

TEST_CASE("anthropic client stream: a tool without arguments gets {} as its input") {
    auto events = encode_all({role(), tool_start(0, "call_a", "now"), finish("tool_calls")});
    json message = accumulate(events);
    CHECK(message["content"][0]["input"] == json::object());
    bool sent_braces = false;
    for (const auto& e : events)
        sent_braces |= e.name == "content_block_delta" && e.data["delta"]["partial_json"] == "{}";
    CHECK(sent_braces);
}

TEST_CASE(
    "anthropic client stream: tool arguments that are not one JSON object fail the stream "
    "naming the tool") {
    for (const char* arguments :
         {"{\"city\":", "[1]", "{} {}", "\"x\"", "{\"a\":tru}", "{\"a\" 1}"}) {
        auto e = failure(
            {role(), tool_start(0, "call_a", "get_weather", arguments), finish("tool_calls")});
        CHECK_MESSAGE(e.status == 502, arguments);
        CHECK_MESSAGE(std::string(e.what()).find("\"get_weather\"") != std::string::npos, e.what());
    }
}

TEST_CASE("anthropic client stream: arguments for a tool whose block closed fail the stream") {
    auto e = failure({role(), tool_start(0, "call_a", "a", "{}"), tool_start(1, "call_b", "b"),
                      tool_arguments(0, "{\"late\":1}"), finish("tool_calls")});
    CHECK(e.status == 502);
    CHECK(e.code == "upstream_invalid_event");
}

TEST_CASE("anthropic client stream: a long tool name goes back as the client's own") {
    anthropic::ReplyFacts f = facts();
    const std::string long_name(80, 'n');
    const std::string sent = f.tool_names.upstream_name(long_name);
    json message = accumulate(
        encode_all({role(), tool_start(0, "call_a", sent, "{}"), finish("tool_calls")}, f));
    CHECK(message["content"][0]["name"] == long_name);
}

TEST_CASE("anthropic client stream: tool ids get Anthropic's characters, or one when missing") {
    json message = accumulate(encode_all({role(), tool_start(0, "functions.Bash:0", "Bash", "{}"),
                                          tool_start(1, "", "Bash", "{}"), finish("tool_calls")}));
    CHECK(message["content"][0]["id"] == "functions_Bash_0");
    CHECK(message["content"][1]["id"] == "toolu_0123456789abcdefABCDEFGH_1");
}

TEST_CASE("anthropic client stream: tool calls without an index follow their id") {
    std::string first = chunk({{"tool_calls",
                                {{{"id", "call_a"},
                                  {"type", "function"},
                                  {"function", {{"name", "a"}, {"arguments", "{\"x\":"}}}}}}});
    // Some upstreams repeat the id on every fragment.
    std::string more =
        chunk({{"tool_calls", {{{"id", "call_a"}, {"function", {{"arguments", "1"}}}}}}});
    std::string last = chunk({{"tool_calls", {{{"function", {{"arguments", "}"}}}}}}});
    std::string second = chunk({{"tool_calls",
                                 {{{"id", "call_b"},
                                   {"type", "function"},
                                   {"function", {{"name", "b"}, {"arguments", "{}"}}}}}}});
    json message =
        accumulate(encode_all({role(), first, more, last, second, finish("tool_calls")}));
    REQUIRE(message["content"].size() == 2);
    CHECK(message["content"][0]["input"] == json{{"x", 1}});
    CHECK(message["content"][1]["id"] == "call_b");
}

TEST_CASE("anthropic client stream: thinking then text, each in a block of its kind") {
    auto events = encode_all(
        {role(), reasoning("Think"), reasoning("ing."), text("Answer."), finish("stop")});
    json message = accumulate(events);
    CHECK(message["content"] ==
          json{{{"type", "thinking"}, {"thinking", "Thinking."}, {"signature", ""}},
               {{"type", "text"}, {"text", "Answer."}}});
}

TEST_CASE("anthropic client stream: thinking after text opens a new thinking block") {
    json message = accumulate(encode_all({role(), reasoning("Plan."), text("Step one."),
                                          reasoning("Check."), text("Done."), finish("stop")}));
    CHECK(message["content"] ==
          json{{{"type", "thinking"}, {"thinking", "Plan."}, {"signature", ""}},
               {{"type", "text"}, {"text", "Step one."}},
               {{"type", "thinking"}, {"thinking", "Check."}, {"signature", ""}},
               {{"type", "text"}, {"text", "Done."}}});
}

TEST_CASE("anthropic client stream: only the first choice is read") {
    std::string two = json{{"id", "chatcmpl-1"},
                           {"object", "chat.completion.chunk"},
                           {"choices",
                            {{{"index", 0}, {"delta", {{"content", "A"}}}},
                             {{"index", 1}, {"delta", {{"content", "B"}}}}}}}
                          .dump();
    json message = accumulate(encode_all({role(), two, finish("stop")}));
    CHECK(message["content"] == json{{{"type", "text"}, {"text", "A"}}});
}

TEST_CASE("anthropic client stream: the finish_reason waits for the usage chunk after it") {
    const anthropic::ReplyFacts f = facts();
    anthropic::ClientStreamEncoder encoder(f);
    std::vector<Event> events;
    collect(encoder.encode(role()), events);
    collect(encoder.encode(text("Hi")), events);
    CHECK(encoder.encode(finish("length")).empty());
    CHECK(encoder.encode(usage(100, 9, 40)).empty());
    collect(encoder.finish(), events);
    json message = accumulate(events);
    CHECK(message["stop_reason"] == "max_tokens");
    CHECK(message["usage"] == usage_object(60, 0, 40, 9));
}

TEST_CASE("anthropic client stream: cache writes count apart from the input, under either name") {
    for (const char* name : {"cache_write_tokens", "cache_creation_tokens"}) {
        json with_writes = json::parse(usage(100, 9, 40));
        with_writes["usage"]["prompt_tokens_details"][name] = 50;
        json message =
            accumulate(encode_all({role(), text("Hi"), finish("stop"), with_writes.dump()}));
        CHECK_MESSAGE(message["usage"] == usage_object(10, 50, 40, 9), name);
    }
    json litellm = json::parse(usage(100, 9));
    litellm["usage"]["cache_creation_input_tokens"] = 30;
    litellm["usage"]["prompt_tokens_details"]["cache_write_tokens"] = 0;
    json message = accumulate(encode_all({role(), text("Hi"), finish("stop"), litellm.dump()}));
    CHECK(message["usage"] == usage_object(70, 30, 0, 9));
}

TEST_CASE("anthropic client stream: a usage chunk before the finish_reason counts too") {
    json message = accumulate(encode_all({role(), text("Hi"), usage(10, 3), finish("stop")}));
    CHECK(message["stop_reason"] == "end_turn");
    CHECK(message["usage"] == usage_object(10, 0, 0, 3));
}

TEST_CASE("anthropic client stream: usage on the finish chunk itself counts") {
    json with_usage = json::parse(finish("stop"));
    with_usage["usage"] = {{"prompt_tokens", 7}, {"completion_tokens", 2}};
    json message = accumulate(encode_all({role(), text("Hi"), with_usage.dump()}));
    CHECK(message["usage"] == usage_object(7, 0, 0, 2));
}

TEST_CASE("anthropic client stream: a chunk with both content and a finish_reason") {
    json message = accumulate(encode_all({role(), chunk({{"content", "All at once."}}, "stop")}));
    CHECK(message["content"] == json{{{"type", "text"}, {"text", "All at once."}}});
    CHECK(message["stop_reason"] == "end_turn");
}

TEST_CASE("anthropic client stream: finish_reason to stop_reason") {
    for (auto [reason, stop] : kFinishReasons)
        CHECK_MESSAGE(
            accumulate(encode_all({role(), text("x"), finish(reason)}))["stop_reason"] == stop,
            reason);
}

TEST_CASE("anthropic client stream: a refusal is text with stop_reason refusal") {
    json message =
        accumulate(encode_all({role(), chunk({{"refusal", "I can't."}}), finish("stop")}));
    CHECK(message["content"] == json{{{"type", "text"}, {"text", "I can't."}}});
    CHECK(message["stop_reason"] == "refusal");
}

TEST_CASE("anthropic client stream: whitespace alone makes no text block") {
    json message = accumulate(encode_all(
        {role(), text("\n\n"), tool_start(0, "call_a", "a", "{}"), finish("tool_calls")}));
    REQUIRE(message["content"].size() == 1);
    CHECK(message["content"][0]["type"] == "tool_use");
    json kept = accumulate(encode_all({role(), text("\n"), text(" "), text("Hi"), finish("stop")}));
    CHECK(kept["content"] == json{{{"type", "text"}, {"text", "\n Hi"}}});
    CHECK(accumulate(encode_all({role(), text("  "), finish("stop")}))["content"] == json::array());
}

TEST_CASE("anthropic client stream: a stream that ended without a finish_reason fails") {
    auto e = failure({role(), text("Hal")});
    CHECK(e.status == 502);
    CHECK(e.code == "upstream_stream_truncated");
    auto empty = failure({});
    CHECK(empty.code == "upstream_stream_truncated");
}

TEST_CASE("anthropic client stream: an error object in the stream fails it with its message") {
    auto e =
        failure({role(), text("Hi"), R"({"error":{"message":"model overloaded","code":503}})"});
    CHECK(e.status == 502);
    CHECK(std::string(e.what()) == "model overloaded");
}

TEST_CASE("anthropic client stream: a chunk that is not a JSON object fails the stream") {
    for (const char* data : {"not json", "[1,2]", "{\"choices\":"}) {
        auto e = failure({role(), data});
        CHECK_MESSAGE(e.code == "upstream_invalid_event", data);
    }
}

TEST_CASE("anthropic client stream: nothing after the end") {
    const anthropic::ReplyFacts f = facts();
    anthropic::ClientStreamEncoder encoder(f);
    encoder.encode(role());
    encoder.encode(finish("stop"));
    CHECK(encoder.finish().size() == 2);
    CHECK(encoder.encode(text("late")).empty());
    CHECK(encoder.finish().empty());
}

TEST_CASE("anthropic client stream: JsonObjectProgress tells when one whole object arrived") {
    auto complete = [](std::vector<std::string> pieces) {
        anthropic::JsonObjectProgress progress;
        for (const auto& p : pieces)
            progress.feed(p);
        return progress.complete();
    };
    CHECK(complete({"{}"}));
    CHECK(complete({" {\"a\":", "[1,{\"b\":2}]", "} \n"}));
    CHECK(complete({"{\"s\":\"}{\\\"]\"}"}));
    CHECK_FALSE(complete({""}));
    CHECK_FALSE(complete({"{\"a\":1"}));
    CHECK_FALSE(complete({"{\"s\":\"}\""}));
    CHECK_FALSE(complete({"{} x"}));
    CHECK_FALSE(complete({"[{}]"}));
    CHECK_FALSE(complete({"x{}"}));
    CHECK_FALSE(complete({"{}", "{}"}));
}

TEST_CASE("anthropic client stream: text chunks as OpenAI writes them read as they do spaced out") {
    const std::string head =
        R"({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1770000000,)"
        R"("model":"gpt-x",)";
    auto with_text = [&](const std::string& literal, const std::string& after = "") {
        return head + R"("choices":[{"index":0,"delta":{"content":)" + literal +
               R"(},"logprobs":null,"finish_reason":null}])" + after + "}";
    };
    // Taken by the fast path.
    const std::vector<std::string> taken = {
        with_text(R"("plain")"),
        with_text(R"("")"),
        with_text(R"("\"q\" \\ \/ \n\u00e9\ud83d\ude00")"),
        with_text("\"caf\xc3\xa9\""),
        with_text(R"("x")", R"(,"usage":null,"obfuscation":"abc")"),
        R"({"id":"c","object":"chat.completion.chunk","created":1,"model":"m","service_tier":)"
        R"("default","system_fingerprint":null,"choices":[{"index":0,"delta":{"content":"x"}}]})",
        R"({"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}],"created":-1})",
    };
    // Left to the full reading (some of them fail there).
    const std::vector<std::string> left = {
        with_text(R"("\ud83d")"),
        with_text("\"\xc3\""),
        with_text("\"a\x01\""),
        with_text(R"("a)"),
        with_text(R"("x")", R"(,"usage":{"prompt_tokens":1})"),
        with_text(R"("x")", R"(,"error":null)"),
        with_text(R"("x")", R"(,"choices":[])"),
        with_text(R"("x")", R"(,"extra":{})"),
        with_text(R"("x")", R"(,"extra":1.5)"),
        with_text(R"("x")", R"(,"extra":01)"),
        with_text(R"("x")", R"(,"e\u0078tra":1)"),
        with_text(R"("x")") + " ",
        with_text(R"("x")") + "}",
        head + R"("choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"stop"}]})",
        head + R"("choices":[{"index":1,"delta":{"content":"x"}}]})",
        head + R"("choices":[{"index":0,"delta":{"content":"x","refusal":null}}]})",
        head + R"("choices":[{"index":0,"delta":{"role":"assistant","content":"x"}}]})",
        head + R"("choices":[{"index":0,"delta":{"content":null}}]})",
    };
    for (const auto& c : taken)
        CHECK_MESSAGE(anthropic::text_chunk_content(c).has_value(), c);
    for (const auto& c : left)
        CHECK_MESSAGE(!anthropic::text_chunk_content(c).has_value(), c);
    // Each, after a text block opened, encoded as it is and spaced out: the same events, or the
    // same failure.
    for (const auto* set : {&taken, &left}) {
        for (const auto& c : *set) {
            INFO(c);
            std::optional<std::string> failures[2];
            std::vector<Event> events[2];
            const anthropic::ReplyFacts f = facts();  // the encoder keeps a reference
            for (int spaced_out = 0; spaced_out < 2; ++spaced_out) {
                anthropic::ClientStreamEncoder encoder(f);
                encoder.encode(role());
                encoder.encode(text("open"));
                try {
                    collect(encoder.encode(spaced_out ? spaced(std::vector<std::string>{c})[0] : c),
                            events[spaced_out]);
                } catch (const llm_proxy::Error& e) {
                    failures[spaced_out] = e.code;  // the message quotes the chunk
                }
            }
            CHECK(failures[0] == failures[1]);
            REQUIRE(events[0].size() == events[1].size());
            for (std::size_t i = 0; i < events[0].size(); ++i)
                CHECK(events[0][i].data == events[1][i].data);
        }
    }
}
