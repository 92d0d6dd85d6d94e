// The anthropic provider's answer and error decoders: Anthropic messages to chat.completion, and
// Anthropic errors to OpenAI errors.
#include <doctest/doctest.h>

#include <llm_proxy/cpp/plugin.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "anthropic/error_decoder.hpp"
#include "anthropic/response_decoder.hpp"
#include "anthropic_stop_reasons.hpp"

using nlohmann::json;

namespace {

json message(json content, const char* stop_reason = "end_turn", json usage = nullptr) {
    if (usage.is_null())
        usage = {{"input_tokens", 10},
                 {"cache_creation_input_tokens", 0},
                 {"cache_read_input_tokens", 0},
                 {"output_tokens", 5}};
    return {{"id", "msg_01"},
            {"type", "message"},
            {"role", "assistant"},
            {"model", "claude-sonnet-4-5-20250929"},
            {"content", std::move(content)},
            {"stop_reason", stop_reason},
            {"stop_sequence", nullptr},
            {"usage", std::move(usage)}};
}

json decode(const json& m) {
    return json::parse(anthropic::decode_response(m.dump(), 1770000000));
}

json text(const std::string& t) {
    return {{"type", "text"}, {"text", t}};
}

}  // namespace

TEST_CASE("anthropic answer: text to a chat.completion with id, model, created and usage") {
    json out = decode(message({text("Hello"), text(", world")}));
    CHECK(out == json({{"id", "msg_01"},
                       {"object", "chat.completion"},
                       {"created", 1770000000},
                       {"model", "claude-sonnet-4-5-20250929"},
                       {"choices",
                        {{{"index", 0},
                          {"message", {{"role", "assistant"}, {"content", "Hello, world"}}},
                          {"logprobs", nullptr},
                          {"finish_reason", "stop"}}}},
                       {"usage",
                        {{"prompt_tokens", 10},
                         {"completion_tokens", 5},
                         {"total_tokens", 15},
                         {"prompt_tokens_details", {{"cached_tokens", 0}}}}}}));
}

TEST_CASE("anthropic answer: tool_use blocks to tool_calls with arguments as a JSON string") {
    json out = decode(message({text("Let me check."),
                               {{"type", "tool_use"},
                                {"id", "toolu_1"},
                                {"name", "get_weather"},
                                {"input", {{"city", "Paris"}, {"days", {1, 2}}}}},
                               {{"type", "tool_use"},
                                {"id", "toolu_2"},
                                {"name", "updateIssueList"},
                                {"input", json::object()}}},
                              "tool_use"));
    const json& choice = out["choices"][0];
    CHECK(choice["finish_reason"] == "tool_calls");
    CHECK(choice["message"]["content"] == "Let me check.");
    const json& calls = choice["message"]["tool_calls"];
    REQUIRE(calls.size() == 2);
    CHECK(calls[0]["id"] == "toolu_1");
    CHECK(calls[0]["type"] == "function");
    CHECK(calls[0]["function"]["name"] == "get_weather");
    CHECK(json::parse(calls[0]["function"]["arguments"].get<std::string>()) ==
          json({{"city", "Paris"}, {"days", {1, 2}}}));
    CHECK(calls[1]["function"]["arguments"] == "{}");
    // Arguments keep the order the model wrote them in.
    std::string raw = anthropic::decode_response(
        R"({"type":"message","content":[{"type":"tool_use","id":"t","name":"f","input":{"z":1,"a":2}}]})",
        0);
    CHECK(raw.find(R"("arguments":"{\"z\":1,\"a\":2}")") != std::string::npos);
}

TEST_CASE("anthropic answer: content is null with only tool calls, empty with nothing at all") {
    json out = decode(
        message({{{"type", "tool_use"}, {"id", "t"}, {"name", "f"}, {"input", json::object()}}},
                "tool_use"));
    CHECK(out["choices"][0]["message"]["content"].is_null());
    out = decode(message(json::array(), "refusal"));
    CHECK(out["choices"][0]["message"]["content"] == "");
    CHECK_FALSE(out["choices"][0]["message"].contains("tool_calls"));
}

TEST_CASE(
    "anthropic answer: thinking to reasoning_content, signatures and redacted thinking dropped") {
    json out =
        decode(message({{{"type", "thinking"}, {"thinking", "First, "}, {"signature", "EsEC"}},
                        {{"type", "redacted_thinking"}, {"data", "abc"}},
                        {{"type", "thinking"}, {"thinking", "then."}, {"signature", "EsED"}},
                        text("42")}));
    json expected = {
        {"role", "assistant"}, {"content", "42"}, {"reasoning_content", "First, then."}};
    CHECK(out["choices"][0]["message"] == expected);
    CHECK_FALSE(
        decode(message({text("x")}))["choices"][0]["message"].contains("reasoning_content"));
}

TEST_CASE("anthropic answer: every stop_reason has its finish_reason") {
    for (auto [stop_reason, finish_reason] : kStopReasons)
        CHECK_MESSAGE(decode(message({text("x")}, stop_reason))["choices"][0]["finish_reason"] ==
                          finish_reason,
                      stop_reason);
}

TEST_CASE("anthropic answer: cached tokens count in prompt_tokens and cached_tokens") {
    json out = decode(message({text("x")}, "end_turn",
                              {{"input_tokens", 100},
                               {"cache_creation_input_tokens", 20},
                               {"cache_read_input_tokens", 300},
                               {"output_tokens", 7}}));
    CHECK(out["usage"] == json({{"prompt_tokens", 420},
                                {"completion_tokens", 7},
                                {"total_tokens", 427},
                                {"prompt_tokens_details", {{"cached_tokens", 300}}}}));
    // Null cache counts (Anthropic may send them) count as 0; absurd counts are clamped.
    out = decode(message({text("x")}, "end_turn",
                         {{"input_tokens", 3},
                          {"cache_creation_input_tokens", nullptr},
                          {"cache_read_input_tokens", nullptr},
                          {"output_tokens", 18446744073709551615ull}}));
    CHECK(out["usage"]["prompt_tokens"] == 3);
    CHECK(out["usage"]["completion_tokens"] == 1'000'000'000'000'000);
}

TEST_CASE("anthropic answer: a body that is not an Anthropic message is a 502") {
    const std::string not_messages[] = {
        "<html>oops</html>",
        R"({"id":"c1","object":"chat.completion","choices":[]})",
        R"({"type":"completion","content":[{"type":"text","text":"x"}]})",
        R"({"type":"message","content":"text"})",
        R"({"type":"message","content":[1]})",
        std::string(R"({"type":"message","content":[{"type":"tool_use","input":)") +
            std::string(100000, '[') + std::string(100000, ']') + "}]}",
    };
    for (const auto& body : not_messages) {
        try {
            anthropic::decode_response(body, 0);
            FAIL("decoded: " << body.substr(0, 80));
        } catch (const llm_proxy::Error& e) {
            CHECK(e.status == 502);
            CHECK(e.code == "upstream_invalid_answer");
        }
    }
}

TEST_CASE("anthropic errors: status, type and code, the upstream's message kept") {
    struct Row {
        int status;
        const char* anthropic_type;
        int openai_status;
        const char* openai_type;
    };
    const Row rows[] = {
        {400, "invalid_request_error", 400, "invalid_request_error"},
        {401, "authentication_error", 401, "authentication_error"},
        {402, "billing_error", 402, "invalid_request_error"},
        {403, "permission_error", 403, "permission_error"},
        {404, "not_found_error", 404, "invalid_request_error"},
        {413, "request_too_large", 413, "invalid_request_error"},
        {422, "invalid_request_error", 422, "invalid_request_error"},
        {429, "rate_limit_error", 429, "rate_limit_error"},
        {500, "api_error", 500, "server_error"},
        {504, "timeout_error", 504, "server_error"},
        {529, "overloaded_error", 503, "server_error"},
    };
    for (const auto& row : rows) {
        json body = {{"type", "error"},
                     {"error", {{"type", row.anthropic_type}, {"message", "Said \"so\"."}}},
                     {"request_id", "req_1"}};
        auto error = anthropic::decode_error(row.status, body.dump());
        CHECK_MESSAGE(error.status == row.openai_status, row.status);
        CHECK(error.anthropic_body);
        CHECK(json::parse(error.body()) == json({{"error",
                                                  {{"message", "Said \"so\"."},
                                                   {"type", row.openai_type},
                                                   {"param", nullptr},
                                                   {"code", row.anthropic_type}}}}));
    }
}

TEST_CASE("anthropic errors: a prompt too long for the context window is context_length_exceeded") {
    for (const char* message :
         {"prompt is too long: 215000 tokens > 200000 maximum",
          "input length and `max_tokens` exceed context limit: 190000 + 20000 > 200000"}) {
        json body = {{"type", "error"},
                     {"error", {{"type", "invalid_request_error"}, {"message", message}}}};
        auto error = anthropic::decode_error(400, body.dump());
        CHECK(error.code == "context_length_exceeded");
        CHECK(error.message == message);
    }
    json other = {
        {"type", "error"},
        {"error", {{"type", "invalid_request_error"}, {"message", "max_tokens: too big"}}}};
    CHECK(anthropic::decode_error(400, other.dump()).code == "invalid_request_error");
}

TEST_CASE("anthropic errors: a body of another shape keeps its status, quoted and printable") {
    std::string html =
        "<html>\r\n<body>Bad\tgateway \x01\xff</body></html>" + std::string(300, 'x');
    auto error = anthropic::decode_error(502, html);
    CHECK(error.status == 502);
    CHECK_FALSE(error.anthropic_body);
    CHECK(error.type == "server_error");
    CHECK(error.code.empty());
    CHECK(error.message ==
          "the upstream answered HTTP 502 with a body that is not an Anthropic error: <html>  "
          "<body>Bad gateway ?"
          "?</body></html>" +
              std::string(200 - 42, 'x') + "...");
    CHECK(json::parse(error.body())["error"]["code"].is_null());
    auto overloaded = anthropic::decode_error(529, "Overloaded");
    CHECK(overloaded.status == 503);
    CHECK(overloaded.message ==
          "the upstream answered HTTP 529 with a body that is not an Anthropic error: Overloaded");
    CHECK(anthropic::decode_error(429, R"({"error":"slow down"})").type == "rate_limit_error");
}

TEST_CASE("anthropic errors: the status of each error type, for errors in a stream") {
    CHECK(anthropic::status_of_error_type("overloaded_error") == 529);
    CHECK(anthropic::status_of_error_type("rate_limit_error") == 429);
    CHECK(anthropic::status_of_error_type("invalid_request_error") == 400);
    CHECK(anthropic::status_of_error_type("api_error") == 500);
    CHECK(anthropic::status_of_error_type("something_new") == 500);
}
