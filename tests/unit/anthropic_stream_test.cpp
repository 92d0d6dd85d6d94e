// The anthropic provider's stream decoder: Anthropic Messages stream events to OpenAI
// chat.completion.chunk events, one mapping row per test.
#include <doctest/doctest.h>

#include <llm_proxy/cpp/plugin.hpp>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>
#include "anthropic_stop_reasons.hpp"

#include "anthropic/stream_decoder.hpp"

using nlohmann::json;

namespace {

constexpr std::int64_t kCreated = 1770933892;

// The note's recorded stream (shared/notes/anthropic.md, example A): text, then a tool call
// whose arguments come in fragments, with a ping in between.
const std::vector<std::pair<std::string, std::string>> kToolStream = {
    {"message_start",
     R"({"type":"message_start","message":{"id":"msg_01GE2RKp1VYsPzdFs3sS9z5S","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":565,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":7}}})"},
    {"content_block_start",
     R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"},
    {"ping", R"({"type":"ping"})"},
    {"content_block_delta",
     R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Let me check."}})"},
    {"content_block_stop", R"({"type":"content_block_stop","index":0})"},
    {"content_block_start",
     R"({"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01NUtLATC9gQf2pyshw9MSa7","name":"get_current_weather","input":{}}})"},
    {"content_block_delta",
     R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}})"},
    {"content_block_delta",
     R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"location\":"}})"},
    {"content_block_delta",
     R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":" \"Boston, MA\"}"}})"},
    {"content_block_stop", R"({"type":"content_block_stop","index":1})"},
    {"message_delta",
     R"({"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"input_tokens":565,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":48}})"},
    {"message_stop", R"({"type":"message_stop"})"},
};

// The chunks of a whole stream, as texts.
std::vector<std::string> decode_all(
    anthropic::StreamDecoder& decoder,
    const std::vector<std::pair<std::string, std::string>>& events) {
    std::vector<std::string> out;
    for (const auto& [name, data] : events)
        for (const auto& chunk : decoder.decode(name, data))
            out.push_back(chunk);
    return out;
}

// The events with their data spaced out: read in full, never by the decoder's fast path for
// text deltas (which takes them only as Anthropic writes them).
std::vector<std::pair<std::string, std::string>> spaced(
    const std::vector<std::pair<std::string, std::string>>& events) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [name, data] : events)
        out.emplace_back(name, data.empty() || data.front() != '{' ? data : "{ " + data.substr(1));
    return out;
}

// The chunks of a whole stream; the same events spaced out must give the same chunks, read as
// JSON (the fast path copies a text as written, where the full reading writes its own escapes).
std::vector<std::string> decode_all(const std::vector<std::pair<std::string, std::string>>& events,
                                    bool include_usage = false) {
    anthropic::StreamDecoder decoder(kCreated, include_usage);
    const std::vector<std::string> chunks = decode_all(decoder, events);
    anthropic::StreamDecoder in_full(kCreated, include_usage);
    const std::vector<std::string> full_chunks = decode_all(in_full, spaced(events));
    REQUIRE(chunks.size() == full_chunks.size());
    for (std::size_t i = 0; i < chunks.size(); ++i)
        CHECK(json::parse(chunks[i]) == json::parse(full_chunks[i]));
    return chunks;
}

// The note's example B: the same turn as OpenAI chunks, prefix P written out.
std::vector<std::string> expected_tool_chunks(bool include_usage) {
    const std::string p =
        R"({"id":"msg_01GE2RKp1VYsPzdFs3sS9z5S","object":"chat.completion.chunk","created":1770933892,"model":"claude-sonnet-4-5-20250929",)";
    const std::string usage_null = include_usage ? R"(,"usage":null)" : "";
    std::vector<std::string> out = {
        p + R"("choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}])" +
            usage_null + "}",
        p + R"("choices":[{"index":0,"delta":{"content":"Let me check."},"logprobs":null,"finish_reason":null}])" +
            usage_null + "}",
        p + R"("choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"toolu_01NUtLATC9gQf2pyshw9MSa7","type":"function","function":{"name":"get_current_weather","arguments":""}}]},"logprobs":null,"finish_reason":null}])" +
            usage_null + "}",
        p + R"("choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"location\":"}}]},"logprobs":null,"finish_reason":null}])" +
            usage_null + "}",
        p + R"("choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":" \"Boston, MA\"}"}}]},"logprobs":null,"finish_reason":null}])" +
            usage_null + "}",
        p + R"("choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}])" +
            usage_null + "}",
    };
    if (include_usage)
        out.push_back(
            p +
            R"("choices":[],"usage":{"prompt_tokens":565,"completion_tokens":48,"total_tokens":613,"prompt_tokens_details":{"cached_tokens":0}}})");
    return out;
}

std::vector<json> deltas(const std::vector<std::string>& chunks) {
    std::vector<json> out;
    for (const auto& c : chunks) {
        json chunk = json::parse(c);
        if (!chunk["choices"].empty())
            out.push_back(chunk["choices"][0]["delta"]);
    }
    return out;
}

std::pair<std::string, std::string> start(const std::string& id = "msg_1") {
    return {
        "message_start",
        R"({"type":"message_start","message":{"id":")" + id +
            R"(","type":"message","role":"assistant","model":"claude-x","content":[],"stop_reason":null,"usage":{"input_tokens":10,"output_tokens":1}}})"};
}

std::pair<std::string, std::string> block_start(int index, const std::string& block) {
    return {"content_block_start", R"({"type":"content_block_start","index":)" +
                                       std::to_string(index) + R"(,"content_block":)" + block +
                                       "}"};
}

std::pair<std::string, std::string> delta(int index, const std::string& d) {
    return {"content_block_delta", R"({"type":"content_block_delta","index":)" +
                                       std::to_string(index) + R"(,"delta":)" + d + "}"};
}

std::pair<std::string, std::string> block_stop(int index) {
    return {"content_block_stop",
            R"({"type":"content_block_stop","index":)" + std::to_string(index) + "}"};
}

std::pair<std::string, std::string> message_delta(
    const std::string& stop_reason, const std::string& usage = R"({"output_tokens":5})") {
    return {"message_delta", R"({"type":"message_delta","delta":{"stop_reason":")" + stop_reason +
                                 R"(","stop_sequence":null},"usage":)" + usage + "}"};
}

const std::pair<std::string, std::string> kStop = {"message_stop", R"({"type":"message_stop"})"};

// The error a decode throws; fails the test when none.
llm_proxy::Error thrown(anthropic::StreamDecoder& decoder, const std::string& name,
                        const std::string& data) {
    try {
        decoder.decode(name, data);
    } catch (const llm_proxy::Error& e) {
        return e;
    }
    FAIL("no error for " << data);
    return llm_proxy::Error("");
}

}  // namespace

TEST_CASE("anthropic stream: the note's text and tool stream, chunk for chunk") {
    anthropic::StreamDecoder decoder(kCreated);
    CHECK(decode_all(decoder, kToolStream) == expected_tool_chunks(false));
    CHECK(decoder.finished());
}

TEST_CASE("anthropic stream: with include_usage, usage null on chunks and a usage chunk last") {
    CHECK(decode_all(kToolStream, true) == expected_tool_chunks(true));
    // Set after the decoder was made, as the provider does in encode_request.
    anthropic::StreamDecoder decoder(kCreated);
    decoder.set_include_usage(true);
    CHECK(decode_all(decoder, kToolStream) == expected_tool_chunks(true));
}

TEST_CASE("anthropic stream: the event's data type wins, the event name stands in when absent") {
    std::vector<std::pair<std::string, std::string>> unnamed;
    for (const auto& [name, data] : kToolStream)
        unnamed.push_back({"", data});
    CHECK(decode_all(unnamed) == expected_tool_chunks(false));
    // A data type that differs from the name is what counts.
    auto chunks = decode_all({{"ping", start().second}});
    REQUIRE(chunks.size() == 1);
    CHECK(json::parse(chunks[0])["choices"][0]["delta"] ==
          json({{"role", "assistant"}, {"content", ""}}));
}

TEST_CASE(
    "anthropic stream: tool calls count from 0 in their own order, whatever the block index") {
    auto chunks = decode_all(
        {start(), block_start(0, R"({"type":"thinking","thinking":""})"),
         delta(0, R"({"type":"thinking_delta","thinking":"hm"})"), block_stop(0),
         block_start(1, R"({"type":"text","text":""})"), block_stop(1),
         block_start(2, R"({"type":"tool_use","id":"toolu_a","name":"f","input":{}})"),
         delta(2, R"({"type":"input_json_delta","partial_json":"{\"a\":1}"})"), block_stop(2),
         block_start(3, R"({"type":"tool_use","id":"toolu_b","name":"g","input":{}})"),
         delta(3, R"({"type":"input_json_delta","partial_json":"{\"b\":2}"})"), block_stop(3),
         message_delta("tool_use"), kStop});
    auto d = deltas(chunks);
    REQUIRE(d.size() == 7);
    CHECK(d[1] == json({{"reasoning_content", "hm"}}));
    CHECK(d[2]["tool_calls"][0] == json({{"index", 0},
                                         {"id", "toolu_a"},
                                         {"type", "function"},
                                         {"function", {{"name", "f"}, {"arguments", ""}}}}));
    CHECK(d[3]["tool_calls"][0] ==
          json({{"index", 0}, {"function", {{"arguments", "{\"a\":1}"}}}}));
    CHECK(d[4]["tool_calls"][0]["index"] == 1);
    CHECK(d[4]["tool_calls"][0]["id"] == "toolu_b");
    CHECK(d[5]["tool_calls"][0] ==
          json({{"index", 1}, {"function", {{"arguments", "{\"b\":2}"}}}}));
    CHECK(d[6] == json::object());
}

TEST_CASE("anthropic stream: a tool block without argument bytes gets arguments {} at its stop") {
    for (bool empty_fragment : {false, true}) {
        std::vector<std::pair<std::string, std::string>> events = {
            start(),
            block_start(0, R"({"type":"tool_use","id":"toolu_n","name":"now","input":{}})")};
        if (empty_fragment)
            events.push_back(delta(0, R"({"type":"input_json_delta","partial_json":""})"));
        events.insert(events.end(), {block_stop(0), message_delta("tool_use"), kStop});
        auto d = deltas(decode_all(events));
        REQUIRE(d.size() == 4);
        CHECK(d[2]["tool_calls"][0] == json({{"index", 0}, {"function", {{"arguments", "{}"}}}}));
    }
}

TEST_CASE("anthropic stream: text in content_block_start is sent, empty deltas are not") {
    auto d = deltas(decode_all({start(), block_start(0, R"({"type":"text","text":"Hi"})"),
                                delta(0, R"({"type":"text_delta","text":""})"),
                                delta(0, R"({"type":"text_delta","text":" there\n\"q\""})"),
                                block_stop(0), block_start(1, R"({"type":"text"})"), block_stop(1),
                                message_delta("end_turn"), kStop}));
    REQUIRE(d.size() == 4);
    CHECK(d[1] == json({{"content", "Hi"}}));
    CHECK(d[2] == json({{"content", " there\n\"q\""}}));
}

TEST_CASE(
    "anthropic stream: thinking to reasoning_content, signatures and redacted thinking dropped") {
    auto d = deltas(
        decode_all({start(), block_start(0, R"({"type":"thinking","thinking":"","signature":""})"),
                    delta(0, R"({"type":"thinking_delta","thinking":"Let me think"})"),
                    delta(0, R"({"type":"signature_delta","signature":"EsEC"})"), block_stop(0),
                    block_start(1, R"({"type":"redacted_thinking","data":"abc"})"), block_stop(1),
                    block_start(2, R"({"type":"text","text":""})"),
                    delta(2, R"({"type":"citations_delta","citation":{"type":"char_location"}})"),
                    delta(2, R"({"type":"text_delta","text":"42"})"), block_stop(2),
                    message_delta("end_turn"), kStop}));
    REQUIRE(d.size() == 4);
    CHECK(d[1] == json({{"reasoning_content", "Let me think"}}));
    CHECK(d[2] == json({{"content", "42"}}));
}

TEST_CASE("anthropic stream: every stop_reason has its finish_reason") {
    for (auto [stop_reason, finish_reason] : kStopReasons) {
        auto chunks = decode_all({start(), message_delta(stop_reason), kStop});
        REQUIRE(chunks.size() == 2);
        CHECK_MESSAGE(json::parse(chunks[1])["choices"][0]["finish_reason"] == finish_reason,
                      stop_reason);
    }
}

TEST_CASE("anthropic stream: a refusal with no content blocks still ends cleanly") {
    anthropic::StreamDecoder decoder(kCreated, true);
    auto chunks = decode_all(
        decoder,
        {start(),
         {"ping", R"({"type":"ping"})"},
         {"message_delta",
          R"({"type":"message_delta","delta":{"stop_reason":"refusal","stop_sequence":null,"stop_details":{"type":"refusal","category":"cyber"}},"usage":{"output_tokens":0}})"},
         kStop});
    REQUIRE(chunks.size() == 3);
    CHECK(json::parse(chunks[1])["choices"][0]["finish_reason"] == "content_filter");
    CHECK(decoder.finished());
}

TEST_CASE("anthropic stream: usage counts from message_start, replaced by message_delta's") {
    auto usage = [](const std::string& start_usage, const std::string& delta_usage) {
        auto chunks =
            decode_all({{"message_start",
                         R"({"type":"message_start","message":{"id":"m","model":"c","usage":)" +
                             start_usage + "}}"},
                        message_delta("end_turn", delta_usage),
                        kStop},
                       true);
        json last = json::parse(chunks.back());
        CHECK(last["choices"] == json::array());
        return last["usage"];
    };
    CHECK(
        usage(
            R"({"input_tokens":100,"cache_creation_input_tokens":20,"cache_read_input_tokens":300,"output_tokens":1})",
            R"({"output_tokens":48})") ==
        json({{"prompt_tokens", 420},
              {"completion_tokens", 48},
              {"total_tokens", 468},
              {"prompt_tokens_details", {{"cached_tokens", 300}}}}));
    // Non-null counts in message_delta are cumulative: they replace the earlier ones; nulls do not.
    CHECK(
        usage(
            R"({"input_tokens":100,"cache_creation_input_tokens":20,"cache_read_input_tokens":300,"output_tokens":1})",
            R"({"input_tokens":110,"cache_creation_input_tokens":null,"cache_read_input_tokens":0,"output_tokens":9})") ==
        json({{"prompt_tokens", 130},
              {"completion_tokens", 9},
              {"total_tokens", 139},
              {"prompt_tokens_details", {{"cached_tokens", 0}}}}));
}

TEST_CASE("anthropic stream: ping, unknown events and events after message_stop give nothing") {
    anthropic::StreamDecoder decoder(kCreated);
    CHECK(decoder.decode("ping", R"({"type":"ping"})").empty());  // before message_start too
    CHECK(decoder.decode("", "").empty());
    decoder.decode(start().first, start().second);
    CHECK(decoder.decode("ping", R"({"type":"ping"})").empty());
    CHECK(decoder.decode("future_event", R"({"type":"future_event","x":{"y":[1,2]}})").empty());
    auto server_tool =
        block_start(0, R"({"type":"server_tool_use","id":"srv","name":"web_search"})");
    CHECK(decoder.decode(server_tool.first, server_tool.second).empty());
    CHECK(decoder.decode(block_stop(0).first, block_stop(0).second).empty());
    auto future_delta = delta(0, R"({"type":"future_delta","x":1})");
    CHECK(decoder.decode(future_delta.first, future_delta.second).empty());
}

TEST_CASE("anthropic stream: after message_stop everything is dropped, errors included") {
    anthropic::StreamDecoder decoder(kCreated);
    decode_all(decoder, {start(), message_delta("end_turn"), kStop});
    CHECK(decoder.finished());
    CHECK(decoder
              .decode("content_block_delta",
                      delta(0, R"({"type":"text_delta","text":"late"})").second)
              .empty());
    CHECK(decoder.decode("error", R"({"type":"error","error":{"type":"api_error","message":"x"}})")
              .empty());
    CHECK(decoder.decode("x", "not json").empty());
}

TEST_CASE("anthropic stream: an error event fails with the mapped error, the message kept") {
    anthropic::StreamDecoder decoder(kCreated);
    decode_all(decoder, {start(), block_start(0, R"({"type":"text","text":""})"),
                         delta(0, R"({"type":"text_delta","text":"Hel"})")});
    auto e = thrown(
        decoder, "error",
        R"({"type":"error","error":{"details":null,"type":"overloaded_error","message":"Overloaded"}})");
    CHECK(e.status == 503);
    CHECK(e.type == "server_error");
    CHECK(e.code == "overloaded_error");
    CHECK(std::string(e.what()) == "Overloaded");
    CHECK_FALSE(decoder.finished());

    anthropic::StreamDecoder early(kCreated);
    e = thrown(early, "error",
               R"({"type":"error","error":{"type":"rate_limit_error","message":"Slow"}})");
    CHECK(e.status == 429);
    CHECK(e.type == "rate_limit_error");
}

TEST_CASE("anthropic stream: events that break the protocol fail with 502 upstream_invalid_event") {
    auto broken = [](std::vector<std::pair<std::string, std::string>> before,
                     std::pair<std::string, std::string> event, const std::string& says) {
        anthropic::StreamDecoder decoder(kCreated);
        decode_all(decoder, before);
        auto e = thrown(decoder, event.first, event.second);
        CHECK(e.status == 502);
        CHECK(e.code == "upstream_invalid_event");
        CHECK_MESSAGE(std::string(e.what()).find(says) != std::string::npos, e.what());
    };
    broken({}, {"message_start", "not json"}, "not a JSON object: not json");
    broken({}, {"message_start", "[1]"}, "not a JSON object");
    broken({}, {"message_start", R"("text")"}, "not a JSON object");
    broken({start()},
           {"content_block_delta",
            R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"})"},
           "not a JSON object");  // cut short
    broken({}, block_start(0, R"({"type":"text","text":""})"), "before message_start");
    broken({}, message_delta("end_turn"), "before message_start");
    broken({start()}, start(), "a second message_start");
    broken({start()}, delta(0, R"({"type":"text_delta","text":"x"})"), "no content_block_start");
    broken({start()}, block_stop(3), "no content_block_start");
    broken({start()},
           {"content_block_start",
            R"({"type":"content_block_start","content_block":{"type":"text"}})"},
           "without an index");
    broken({start(), block_start(0, R"({"type":"text","text":""})")},
           block_start(0, R"({"type":"text","text":""})"), "a second content_block_start");
    broken({start(), block_start(0, R"({"type":"text","text":""})")},
           delta(0, R"({"type":"input_json_delta","partial_json":"{"})"), "of another type");
    broken({start(), block_start(0, R"({"type":"tool_use","id":"t","name":"f"})")},
           delta(0, R"({"type":"text_delta","text":"x"})"), "of another type");
    broken({start(), block_start(0, R"({"type":"server_tool_use","id":"s","name":"web_search"})")},
           delta(0, R"({"type":"input_json_delta","partial_json":"{}"})"), "of another type");
    broken({start()}, kStop, "without a stop_reason");
    broken({start(), {"message_delta", R"({"type":"message_delta","delta":{"stop_reason":null}})"}},
           kStop, "without a stop_reason");
}

TEST_CASE("anthropic stream: a stream cut before message_stop is not finished") {
    anthropic::StreamDecoder decoder(kCreated);
    decode_all(decoder,
               {start(), block_start(0, R"({"type":"text","text":""})"),
                delta(0, R"({"type":"text_delta","text":"Hel"})"), message_delta("end_turn")});
    CHECK_FALSE(decoder.finished());
}

TEST_CASE(
    "anthropic stream: escapes and non-ASCII text come out as valid JSON with the same text") {
    const std::string text = "tab\there \"quoted\" back\\slash \x01 caf\xc3\xa9 \xf0\x9f\x98\x80";
    auto d = deltas(decode_all({start(), block_start(0, R"({"type":"text","text":""})"),
                                delta(0, json({{"type", "text_delta"}, {"text", text}}).dump()),
                                block_stop(0), message_delta("end_turn"), kStop}));
    REQUIRE(d.size() == 3);
    CHECK(d[1]["content"] == text);
    // \u escapes in the upstream's JSON are read, not copied.
    d = deltas(decode_all({start(), block_start(0, R"({"type":"text","text":""})"),
                           delta(0, R"({"type":"text_delta","text":"\u00e9\ud83d\ude00\/"})")}));
    CHECK(d[1]["content"] == "\xc3\xa9\xf0\x9f\x98\x80/");
}

TEST_CASE("anthropic stream: text deltas as Anthropic writes them read as they do spaced out") {
    const std::string start =
        R"({"type":"message_start","message":{"id":"m","model":"c","usage":{"input_tokens":1}}})";
    const std::string block =
        R"({"type":"content_block_start","index":3,"content_block":{"type":"text","text":""}})";
    auto delta = [](const std::string& index, const std::string& literal) {
        return R"({"type":"content_block_delta","index":)" + index +
               R"(,"delta":{"type":"text_delta","text":)" + literal + "}}";
    };
    // Each text literal, as the decoder takes it whole, or as it fails on it.
    const char* literals[] = {R"("plain")", R"("")", R"(" ")", R"("\"q\" \\ \/ \n\r\t\b\f")",
                              R"("\u00e9\u20ac\ud83d\ude00")", "\"caf\xc3\xa9\"", R"("\u0001")",
                              // not valid: the full reading refuses these
                              R"("\ud83d")", "\"\xc3\"", "\"a\x01\"", R"("a"b")", R"("a)", R"(a")",
                              R"("a"}")", R"(1)"};
    for (const char* literal : literals) {
        for (const std::string index : {"3", "03", "4", "-3", "9223372036854775808"}) {
            const std::vector<std::pair<std::string, std::string>> events = {
                {"message_start", start},
                {"content_block_start", block},
                {"content_block_delta", delta(index, literal)}};
            INFO(delta(index, literal));
            std::optional<std::string> failure, spaced_failure;
            std::vector<std::string> chunks, spaced_chunks;
            try {
                anthropic::StreamDecoder decoder(kCreated);
                chunks = decode_all(decoder, events);
            } catch (const llm_proxy::Error& e) {
                failure = e.what();
            }
            try {
                anthropic::StreamDecoder decoder(kCreated);
                spaced_chunks = decode_all(decoder, spaced(events));
            } catch (const llm_proxy::Error& e) {
                spaced_failure = std::string(e.what());
            }
            CHECK(failure.has_value() == spaced_failure.has_value());
            REQUIRE(chunks.size() == spaced_chunks.size());
            for (std::size_t i = 0; i < chunks.size(); ++i)
                CHECK(json::parse(chunks[i]) == json::parse(spaced_chunks[i]));
        }
    }
    // The plain one, taken whole: a role chunk and a text chunk.
    CHECK(decode_all({{"message_start", start},
                      {"content_block_start", block},
                      {"content_block_delta", delta("3", R"("x\u00e9")")}})
              .back()
              .find(R"("content":"x\u00e9")") != std::string::npos);
}
