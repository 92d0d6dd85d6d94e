// The anthropic client API's answer encoder: canonical chat.completion answers to Anthropic
// messages, one mapping row per test.
#include <doctest/doctest.h>

#include <llm_proxy/cpp/plugin.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "anthropic/client_response_encoder.hpp"
#include "anthropic/message_id.hpp"
#include "anthropic_finish_reasons.hpp"

using nlohmann::json;

namespace {

anthropic::ReplyFacts facts() {
    anthropic::ReplyFacts f;
    f.message_id = "msg_0123456789abcdefABCDEFGH";
    f.model = "claude-sonnet-4-5";
    return f;
}

json answer(json message, const std::string& finish_reason = "stop",
            json usage = {{"prompt_tokens", 12}, {"completion_tokens", 5}, {"total_tokens", 17}}) {
    message["role"] = "assistant";
    return {{"id", "chatcmpl-1"},
            {"object", "chat.completion"},
            {"created", 1770000000},
            {"model", "gpt-x"},
            {"choices", {{{"index", 0}, {"message", message}, {"finish_reason", finish_reason}}}},
            {"usage", std::move(usage)}};
}

json encode(const json& chat, const anthropic::ReplyFacts& f = facts()) {
    return json::parse(anthropic::encode_client_response(chat.dump(), f));
}

llm_proxy::Error failure(const std::string& chat) {
    try {
        anthropic::encode_client_response(chat, facts());
    } catch (const llm_proxy::Error& e) {
        return e;
    }
    FAIL("encoded, though it should fail: " << chat);
    return llm_proxy::Error("");
}

json tool_call(const std::string& id, const std::string& name, const std::string& arguments) {
    return {
        {"id", id}, {"type", "function"}, {"function", {{"name", name}, {"arguments", arguments}}}};
}

}  // namespace

TEST_CASE("anthropic client answer: a text answer is a message with the client's model") {
    json out = encode(answer({{"content", "Hello there."}}));
    CHECK(out == json{{"id", "msg_0123456789abcdefABCDEFGH"},
                      {"type", "message"},
                      {"role", "assistant"},
                      {"model", "claude-sonnet-4-5"},
                      {"content", {{{"type", "text"}, {"text", "Hello there."}}}},
                      {"stop_reason", "end_turn"},
                      {"stop_sequence", nullptr},
                      {"usage",
                       {{"input_tokens", 12},
                        {"cache_creation_input_tokens", 0},
                        {"cache_read_input_tokens", 0},
                        {"output_tokens", 5}}}});
}

TEST_CASE("anthropic client answer: finish_reason to stop_reason") {
    for (auto [finish, stop] : kFinishReasons)
        CHECK_MESSAGE(encode(answer({{"content", "x"}}, finish))["stop_reason"] == stop, finish);
    json no_reason = answer({{"content", "x"}});
    no_reason["choices"][0]["finish_reason"] = nullptr;
    CHECK(encode(no_reason)["stop_reason"] == "end_turn");
}

TEST_CASE("anthropic client answer: tool calls become tool_use blocks after the text") {
    json out = encode(answer({{"content", "Checking."},
                              {"tool_calls",
                               {tool_call("call_1", "get_weather", R"({"city":"Paris"})"),
                                tool_call("call_2", "get_time", "")}}},
                             "tool_calls"));
    CHECK(out["content"] == json{{{"type", "text"}, {"text", "Checking."}},
                                 {{"type", "tool_use"},
                                  {"id", "call_1"},
                                  {"name", "get_weather"},
                                  {"input", {{"city", "Paris"}}}},
                                 {{"type", "tool_use"},
                                  {"id", "call_2"},
                                  {"name", "get_time"},
                                  {"input", json::object()}}});
    CHECK(out["stop_reason"] == "tool_use");
}

TEST_CASE("anthropic client answer: tool ids get Anthropic's characters, or one when missing") {
    json out = encode(
        answer({{"content", nullptr},
                {"tool_calls",
                 {tool_call("functions.Bash:0", "Bash", "{}"), tool_call("", "Bash", "{}")}}},
               "tool_calls"));
    CHECK(out["content"][0]["id"] == "functions_Bash_0");
    CHECK(out["content"][1]["id"] == "toolu_0123456789abcdefABCDEFGH_1");
}

TEST_CASE("anthropic client answer: a shortened tool name is given back as the client's") {
    anthropic::ReplyFacts f = facts();
    const std::string long_name(70, 'x');
    const std::string sent = f.tool_names.upstream_name(long_name);
    json out = encode(answer({{"tool_calls", {tool_call("call_1", sent, "{}")}}}, "tool_calls"), f);
    CHECK(out["content"][0]["name"] == long_name);
}

TEST_CASE(
    "anthropic client answer: arguments that are not a JSON object fail the answer with "
    "502 naming the tool") {
    for (const char* arguments : {"{\"city\":", "[1,2]", "42", "not json"}) {
        auto e = failure(
            answer({{"tool_calls", {tool_call("call_1", "get_weather", arguments)}}}, "tool_calls")
                .dump());
        CHECK(e.status == 502);
        CHECK_MESSAGE(std::string(e.what()).find("\"get_weather\"") != std::string::npos, e.what());
    }
}

TEST_CASE("anthropic client answer: reasoning_content becomes a thinking block first") {
    json out =
        encode(answer({{"content", "Paris."}, {"reasoning_content", "France's capital..."}}));
    CHECK(out["content"] ==
          json{{{"type", "thinking"}, {"thinking", "France's capital..."}, {"signature", ""}},
               {{"type", "text"}, {"text", "Paris."}}});
}

TEST_CASE("anthropic client answer: never an empty or whitespace-only text block") {
    for (json content : {json(""), json("  \n"), json(nullptr)}) {
        json out =
            encode(answer({{"content", content}, {"tool_calls", {tool_call("call_1", "go", "{}")}}},
                          "tool_calls"));
        REQUIRE(out["content"].size() == 1);
        CHECK(out["content"][0]["type"] == "tool_use");
    }
    CHECK(encode(answer({{"content", ""}}))["content"] == json::array());
}

TEST_CASE("anthropic client answer: content given as text parts is joined") {
    json parts = {{{"type", "text"}, {"text", "Hel"}}, {{"type", "text"}, {"text", "lo"}}};
    CHECK(encode(answer({{"content", parts}}))["content"] ==
          json{{{"type", "text"}, {"text", "Hello"}}});
}

TEST_CASE("anthropic client answer: a refusal is a text block with stop_reason refusal") {
    json out = encode(answer({{"content", nullptr}, {"refusal", "I can't help with that."}}));
    CHECK(out["content"] == json{{{"type", "text"}, {"text", "I can't help with that."}}});
    CHECK(out["stop_reason"] == "refusal");
}

TEST_CASE("anthropic client answer: usage, cached tokens apart from the input") {
    json usage = {{"prompt_tokens", 100},
                  {"completion_tokens", 7},
                  {"total_tokens", 107},
                  {"prompt_tokens_details", {{"cached_tokens", 60}, {"cache_write_tokens", 30}}}};
    CHECK(encode(answer({{"content", "x"}}, "stop", usage))["usage"] ==
          json{{"input_tokens", 10},
               {"cache_creation_input_tokens", 30},
               {"cache_read_input_tokens", 60},
               {"output_tokens", 7}});
    json litellm = {{"prompt_tokens", 100},
                    {"completion_tokens", 7},
                    {"cache_creation_input_tokens", 20},
                    {"prompt_tokens_details", {{"cached_tokens", 0}}}};
    CHECK(encode(answer({{"content", "x"}}, "stop", litellm))["usage"]["input_tokens"] == 80);
    CHECK(encode(answer({{"content", "x"}}, "stop",
                        litellm))["usage"]["cache_creation_input_tokens"] == 20);
    json inconsistent = {{"prompt_tokens", 5},
                         {"completion_tokens", 1},
                         {"prompt_tokens_details", {{"cached_tokens", 9}}}};
    CHECK(encode(answer({{"content", "x"}}, "stop", inconsistent))["usage"]["input_tokens"] == 0);
    json none = answer({{"content", "x"}});
    none.erase("usage");
    CHECK(encode(none)["usage"] == json{{"input_tokens", 0},
                                        {"cache_creation_input_tokens", 0},
                                        {"cache_read_input_tokens", 0},
                                        {"output_tokens", 0}});
}

TEST_CASE("anthropic client answer: what is not a chat completion fails with 502") {
    for (const char* body : {"", "[]", "{}", R"({"choices":[]})", R"({"choices":[{"index":0}]})",
                             R"({"choices":[{"message":{"content":5}}]})"}) {
        auto e = failure(body);
        CHECK_MESSAGE(e.status == 502, body);
        CHECK(e.code == "upstream_invalid_answer");
    }
}

TEST_CASE("anthropic client answer: message ids look like Anthropic's and do not repeat") {
    const std::string a = anthropic::new_message_id(), b = anthropic::new_message_id();
    CHECK(a.size() == 28);
    CHECK(a.starts_with("msg_"));
    CHECK(a.substr(4).find_first_not_of(
              "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") ==
          std::string::npos);
    CHECK(a != b);
    std::string used;
    for (int i = 0; i < 50; ++i)
        for (char c : anthropic::new_message_id().substr(4))
            if (used.find(c) == std::string::npos)
                used.push_back(c);
    CHECK(used.size() > 40);  // of 62, in 1200 draws
}
