// The anthropic provider's request encoder: OpenAI chat requests to Anthropic Messages requests,
// one mapping row per test, and every field it refuses.
#include <doctest/doctest.h>

#include <llm_proxy/cpp/plugin.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "anthropic/request_encoder.hpp"
#include "anthropic/simple_request.hpp"

using nlohmann::json;

namespace {

json user(json content) {
    return {{"role", "user"}, {"content", std::move(content)}};
}

json request(std::vector<json> messages, json extra = json::object()) {
    json body = {{"model", "claude-sonnet-4-5"}, {"messages", json(std::move(messages))}};
    body.update(extra);
    return body;
}

// The encoded request; its fast path (simple_request.hpp), where it applies, must agree with the
// full encoder, on the body as dump() writes it and as a client that spaces its JSON does.
json encode(const json& body, anthropic::EncoderSettings settings = {}) {
    json encoded;
    for (const std::string& text : {body.dump(), body.dump(1)}) {
        const auto fast = anthropic::encode_request(text, settings);
        const auto full = anthropic::encode_request_in_full(text, settings);
        encoded = json::parse(fast.body);
        CHECK_MESSAGE(encoded == json::parse(full.body), text);
        CHECK(fast.include_usage == full.include_usage);
    }
    return encoded;
}

// The refusal of a request; fails the test when it is encoded.
llm_proxy::Error refusal(const json& body) {
    try {
        anthropic::encode_request(body.dump(), {});
    } catch (const llm_proxy::Error& e) {
        return e;
    }
    FAIL_CHECK("encoded, though it should be refused: " << body.dump());
    return llm_proxy::Error("");
}

void check_refused(const json& body, const std::string& field, const std::string& code) {
    auto e = refusal(body);
    CHECK_MESSAGE(e.status == 400, body.dump());
    CHECK(e.type == "invalid_request_error");
    CHECK_MESSAGE(e.code == code, body.dump());
    CHECK_MESSAGE(std::string(e.what()).find("'" + field + "'") != std::string::npos,
                  e.what() << " should name " << field);
}

json text(const std::string& t) {
    return {{"type", "text"}, {"text", t}};
}

json tool_call(const std::string& id, const std::string& name, const std::string& arguments) {
    return {
        {"id", id}, {"type", "function"}, {"function", {{"name", name}, {"arguments", arguments}}}};
}

}  // namespace

TEST_CASE("anthropic request: model, messages and the default max_tokens") {
    json out = encode(request({user("Hello")}));
    CHECK(out == json({{"model", "claude-sonnet-4-5"},
                       {"max_tokens", 4096},
                       {"messages", {{{"role", "user"}, {"content", {text("Hello")}}}}}}));
    CHECK(encode(request({user("Hello")}), {.default_max_tokens = 100})["max_tokens"] == 100);
}

TEST_CASE("anthropic request: max_completion_tokens, then max_tokens, set max_tokens") {
    CHECK(encode(request({user("x")}, {{"max_tokens", 50}}))["max_tokens"] == 50);
    CHECK(encode(request({user("x")}, {{"max_completion_tokens", 70}}))["max_tokens"] == 70);
    CHECK(encode(request({user("x")},
                         {{"max_tokens", 50}, {"max_completion_tokens", 70}}))["max_tokens"] == 70);
    CHECK(encode(request({user("x")}, {{"max_tokens", 0}}))["max_tokens"] == 0);
    CHECK(encode(request({user("x")}, {{"max_tokens", nullptr}}))["max_tokens"] == 4096);
    check_refused(request({user("x")}, {{"max_tokens", -1}}), "max_tokens", "invalid_value");
    check_refused(request({user("x")}, {{"max_completion_tokens", 1.5}}), "max_completion_tokens",
                  "invalid_value");
}

TEST_CASE("anthropic request: system and developer messages become system blocks in order") {
    json out = encode(request(
        {{{"role", "system"}, {"content", "Be brief."}},
         user("Hi"),
         {{"role", "developer"},
          {"content",
           {text("Rule one."),
            text("  "),
            {{"type", "text"}, {"text", "Cached."}, {"cache_control", {{"type", "ephemeral"}}}}}}},
         {{"role", "system"}, {"content", " \n"}}}));
    CHECK(out["system"] == json({text("Be brief."),
                                 text("Rule one."),
                                 {{"type", "text"},
                                  {"text", "Cached."},
                                  {"cache_control", {{"type", "ephemeral"}}}}}));
    CHECK(out["messages"] == json({{{"role", "user"}, {"content", {text("Hi")}}}}));
    CHECK_FALSE(encode(request({user("Hi")})).contains("system"));
    check_refused(
        request({{{"role", "system"},
                  {"content",
                   {{{"type", "image_url"}, {"image_url", {{"url", "https://x/y.png"}}}}}}}}),
        "messages[0].content[0].type", "unsupported_parameter");
}

TEST_CASE("anthropic request: user text parts, and blank texts dropped") {
    json out = encode(request({user({text("a"), text(""), text(" \t"), text("b")})}));
    CHECK(out["messages"] == json({{{"role", "user"}, {"content", {text("a"), text("b")}}}}));
    // A turn left without blocks is dropped; the turns around it merge.
    out = encode(request({user("one"), user("   "), user({text("two")})}));
    CHECK(out["messages"] == json({{{"role", "user"}, {"content", {text("one"), text("two")}}}}));
}

TEST_CASE("anthropic request: image parts, data: URLs to base64 blocks and http(s) to url blocks") {
    json out = encode(request(
        {user({{{"type", "image_url"},
                {"image_url", {{"url", "data:image/png;base64,iVBORw0KGgo="}, {"detail", "high"}}}},
               {{"type", "image_url"}, {"image_url", {{"url", "https://example.com/cat.jpg"}}}},
               {{"type", "image_url"},
                {"image_url", {{"url", "http://example.com/dog.webp"}}},
                {"cache_control", {{"type", "ephemeral"}}}},
               {{"type", "image_url"},
                {"image_url", {{"url", "data:application/pdf;base64,JVBERi0="}}}}})}));
    CHECK(
        out["messages"][0]["content"] ==
        json({{{"type", "image"},
               {"source",
                {{"type", "base64"}, {"media_type", "image/png"}, {"data", "iVBORw0KGgo="}}}},
              {{"type", "image"},
               {"source", {{"type", "url"}, {"url", "https://example.com/cat.jpg"}}}},
              {{"type", "image"},
               {"source", {{"type", "url"}, {"url", "http://example.com/dog.webp"}}},
               {"cache_control", {{"type", "ephemeral"}}}},
              {{"type", "document"},
               {"source",
                {{"type", "base64"}, {"media_type", "application/pdf"}, {"data", "JVBERi0="}}}}}));
    for (const char* type : {"image/jpeg", "image/gif", "image/webp"}) {
        json in = request(
            {user({{{"type", "image_url"},
                    {"image_url", {{"url", std::string("data:") + type + ";base64,AA=="}}}}})});
        CHECK(encode(in)["messages"][0]["content"][0]["source"]["media_type"] == type);
    }
    check_refused(request({user({{{"type", "image_url"},
                                  {"image_url", {{"url", "data:image/bmp;base64,Qk0="}}}}})}),
                  "messages[0].content[0].image_url.url", "unsupported_value");
    check_refused(
        request(
            {user({{{"type", "image_url"}, {"image_url", {{"url", "ftp://example.com/a.png"}}}}})}),
        "messages[0].content[0].image_url.url", "invalid_value");
    check_refused(
        request(
            {user({{{"type", "image_url"}, {"image_url", {{"url", "data:image/png,rawbytes"}}}}})}),
        "messages[0].content[0].image_url.url", "invalid_value");
}

TEST_CASE("anthropic request: file parts become document blocks, file_id is refused") {
    json out = encode(request({user(
        {text("Summarise"),
         {{"type", "file"},
          {"file", {{"file_data", "data:application/pdf;base64,JVBERi0="}, {"filename", "a.pdf"}}}},
         {{"type", "file"}, {"file", {{"file_data", "JVBERi0x"}}}}})}));
    CHECK(
        out["messages"][0]["content"] ==
        json({text("Summarise"),
              {{"type", "document"},
               {"source",
                {{"type", "base64"}, {"media_type", "application/pdf"}, {"data", "JVBERi0="}}},
               {"title", "a.pdf"}},
              {{"type", "document"},
               {"source",
                {{"type", "base64"}, {"media_type", "application/pdf"}, {"data", "JVBERi0x"}}}}}));
    check_refused(request({user({{{"type", "file"}, {"file", {{"file_id", "file-abc"}}}}})}),
                  "messages[0].content[0].file.file_id", "unsupported_parameter");
    check_refused(
        request(
            {user({{{"type", "file"}, {"file", {{"file_data", "data:text/csv;base64,YSxi"}}}}})}),
        "messages[0].content[0].file.file_data", "unsupported_value");
}

TEST_CASE("anthropic request: audio input and unknown part types are refused") {
    check_refused(request({user({text("hi"),
                                 {{"type", "input_audio"},
                                  {"input_audio", {{"data", "AA"}, {"format", "wav"}}}}})}),
                  "messages[0].content[1]", "unsupported_parameter");
    check_refused(request({user({{{"type", "video"}}})}), "messages[0].content[0].type",
                  "unsupported_parameter");
}

TEST_CASE("anthropic request: assistant tool_calls become tool_use blocks after the text") {
    json out = encode(
        request({user("Weather in Paris and Rome?"),
                 {{"role", "assistant"},
                  {"content", "Let me check."},
                  {"tool_calls",
                   {tool_call("call_1", "get_weather", R"({"city":"Paris","units":{"c":true}})"),
                    tool_call("call_2", "get_time", "")}}}}));
    CHECK(out["messages"][1] == json({{"role", "assistant"},
                                      {"content",
                                       {text("Let me check."),
                                        {{"type", "tool_use"},
                                         {"id", "call_1"},
                                         {"name", "get_weather"},
                                         {"input", {{"city", "Paris"}, {"units", {{"c", true}}}}}},
                                        {{"type", "tool_use"},
                                         {"id", "call_2"},
                                         {"name", "get_time"},
                                         {"input", json::object()}}}}}));
    // The arguments keep their key order.
    std::string body = anthropic::encode_request(
                           request({{{"role", "assistant"},
                                     {"tool_calls", {tool_call("c", "f", R"({"z":1,"a":2})")}}}})
                               .dump(),
                           {})
                           .body;
    CHECK(body.find(R"("input":{"z":1,"a":2})") != std::string::npos);
}

TEST_CASE("anthropic request: an assistant turn with only tool calls has only tool_use blocks") {
    for (json content : {json(nullptr), json(""), json("  "), json::array()}) {
        json out = encode(request({{{"role", "assistant"},
                                    {"content", content},
                                    {"tool_calls", {tool_call("c1", "f", "{}")}}}}));
        CHECK_MESSAGE(out["messages"][0]["content"] == json({{{"type", "tool_use"},
                                                              {"id", "c1"},
                                                              {"name", "f"},
                                                              {"input", json::object()}}}),
                      content.dump());
    }
}

TEST_CASE("anthropic request: tool call arguments that are not a JSON object are refused") {
    for (const char* arguments : {"{\"city\":", "[1,2]", "42", "not json"}) {
        check_refused(request({{{"role", "assistant"},
                                {"tool_calls",
                                 {tool_call("c0", "f", "{}"), tool_call("c1", "f", arguments)}}}}),
                      "messages[0].tool_calls[1].function.arguments", "invalid_value");
    }
    // Nested deeper than a document may be: refused before it is parsed.
    std::string deep = std::string(300, '[') + std::string(300, ']');
    check_refused(request({{{"role", "assistant"},
                            {"tool_calls", {tool_call("c0", "f", "{\"a\":" + deep + "}")}}}}),
                  "messages[0].tool_calls[0].function.arguments", "invalid_value");
    check_refused(request({{{"role", "assistant"},
                            {"tool_calls",
                             {{{"id", "c"}, {"type", "custom"}, {"custom", {{"name", "x"}}}}}}}}),
                  "messages[0].tool_calls[0].type", "unsupported_parameter");
}

TEST_CASE("anthropic request: tool messages become tool_result blocks, first in one user turn") {
    json out = encode(request(
        {user("Weather?"),
         {{"role", "assistant"},
          {"tool_calls",
           {tool_call("call_1", "get_weather", "{}"), tool_call("call_2", "get_weather", "{}")}}},
         {{"role", "tool"}, {"tool_call_id", "call_1"}, {"content", "Sunny"}},
         user("And tomorrow?"),
         {{"role", "tool"}, {"tool_call_id", "call_2"}, {"content", {text("Rain"), text(" ")}}},
         {{"role", "tool"}, {"tool_call_id", "call_3"}, {"content", ""}}}));
    REQUIRE(out["messages"].size() == 3);
    CHECK(out["messages"][2] ==
          json({{"role", "user"},
                {"content",
                 {{{"type", "tool_result"}, {"tool_use_id", "call_1"}, {"content", "Sunny"}},
                  {{"type", "tool_result"}, {"tool_use_id", "call_2"}, {"content", {text("Rain")}}},
                  {{"type", "tool_result"}, {"tool_use_id", "call_3"}},
                  text("And tomorrow?")}}}));
}

TEST_CASE("anthropic request: tool ids get '_' for characters Anthropic does not take, alike") {
    json out = encode(request(
        {{{"role", "assistant"}, {"tool_calls", {tool_call("functions.Bash:0", "Bash", "{}")}}},
         {{"role", "tool"}, {"tool_call_id", "functions.Bash:0"}, {"content", "ok"}}}));
    CHECK(out["messages"][0]["content"][0]["id"] == "functions_Bash_0");
    CHECK(out["messages"][1]["content"][0]["tool_use_id"] == "functions_Bash_0");
    CHECK(out["messages"][0]["content"].size() == 1);
}

TEST_CASE("anthropic request: message fields with no equivalent are dropped or refused") {
    json out = encode(request({{{"role", "user"}, {"content", "hi"}, {"name", "ann"}},
                               {{"role", "assistant"},
                                {"content", "ok"},
                                {"refusal", nullptr},
                                {"annotations", json::array()},
                                {"reasoning_content", "thought"},
                                {"audio", nullptr},
                                {"function_call", nullptr}}}));
    CHECK(out["messages"] == json({{{"role", "user"}, {"content", {text("hi")}}},
                                   {{"role", "assistant"}, {"content", {text("ok")}}}}));
    check_refused(request({{{"role", "assistant"}, {"content", "x"}, {"audio", {{"id", "a1"}}}}}),
                  "messages[0].audio", "unsupported_parameter");
    check_refused(
        request({{{"role", "assistant"}, {"function_call", {{"name", "f"}, {"arguments", "{}"}}}}}),
        "messages[0].function_call", "unsupported_parameter");
    check_refused(request({{{"role", "function"}, {"name", "f"}, {"content", "x"}}}),
                  "messages[0].role", "unsupported_parameter");
    check_refused(request({{{"role", "user"}, {"content", "x"}, {"tool_call_id", "c"}}}),
                  "messages[0].tool_call_id", "unsupported_parameter");
    check_refused(request({{{"role", "robot"}, {"content", "x"}}}), "messages[0].role",
                  "invalid_value");
}

TEST_CASE("anthropic request: stop to stop_sequences, blank ones refused") {
    CHECK(encode(request({user("x")}, {{"stop", "END"}}))["stop_sequences"] == json({"END"}));
    CHECK(encode(request({user("x")}, {{"stop", {"a", "\nb"}}}))["stop_sequences"] ==
          json({"a", "\nb"}));
    CHECK_FALSE(encode(request({user("x")}, {{"stop", json::array()}})).contains("stop_sequences"));
    check_refused(request({user("x")}, {{"stop", "\n"}}), "stop", "unsupported_value");
    check_refused(request({user("x")}, {{"stop", {"ok", ""}}}), "stop", "unsupported_value");
    check_refused(request({user("x")}, {{"stop", {"ok", 5}}}), "stop", "invalid_value");
}

TEST_CASE("anthropic request: temperature from 0 to 1 passes, above 1 is refused") {
    CHECK(encode(request({user("x")}, {{"temperature", 0.7}}))["temperature"] == 0.7);
    CHECK(encode(request({user("x")}, {{"temperature", 1}}))["temperature"] == 1);
    check_refused(request({user("x")}, {{"temperature", 1.2}}), "temperature", "unsupported_value");
    check_refused(request({user("x")}, {{"temperature", -0.1}}), "temperature", "invalid_value");
}

TEST_CASE("anthropic request: top_p, and Anthropic's own top_k and thinking, pass through") {
    json thinking = {{"type", "enabled"}, {"budget_tokens", 2048}};
    json out =
        encode(request({user("x")}, {{"top_p", 0.9}, {"top_k", 40}, {"thinking", thinking}}));
    CHECK(out["top_p"] == 0.9);
    CHECK(out["top_k"] == 40);
    CHECK(out["thinking"] == thinking);
}

TEST_CASE("anthropic request: tools become Anthropic tools") {
    json parameters = {{"type", "object"},
                       {"properties", {{"city", {{"type", "string"}}}}},
                       {"required", {"city"}},
                       {"additionalProperties", false}};
    json out = encode(request({user("x")}, {{"tools",
                                             {{{"type", "function"},
                                               {"function",
                                                {{"name", "get_weather"},
                                                 {"description", "Weather now"},
                                                 {"parameters", parameters},
                                                 {"strict", true}}}},
                                              {{"type", "function"},
                                               {"function", {{"name", "ping"}}},
                                               {"cache_control", {{"type", "ephemeral"}}}}}}}));
    CHECK(out["tools"] ==
          json({{{"name", "get_weather"},
                 {"description", "Weather now"},
                 {"input_schema", parameters},
                 {"strict", true}},
                {{"name", "ping"},
                 {"input_schema", {{"type", "object"}, {"properties", json::object()}}},
                 {"cache_control", {{"type", "ephemeral"}}}}}));
    CHECK_FALSE(out.contains("tool_choice"));
    CHECK_FALSE(encode(request({user("x")}, {{"tools", json::array()}})).contains("tools"));
    check_refused(
        request({user("x")}, {{"tools", {{{"type", "custom"}, {"custom", {{"name", "x"}}}}}}}),
        "tools[0].type", "unsupported_parameter");
}

TEST_CASE("anthropic request: tool_choice and parallel_tool_calls") {
    json tools = {{{"type", "function"}, {"function", {{"name", "f"}}}}};
    auto choice = [&](json extra) {
        extra["tools"] = tools;
        json out = encode(request({user("x")}, extra));
        return out.value("tool_choice", json());
    };
    CHECK(choice({{"tool_choice", "auto"}}) == json({{"type", "auto"}}));
    CHECK(choice({{"tool_choice", "required"}}) == json({{"type", "any"}}));
    CHECK(choice({{"tool_choice", "none"}}) == json({{"type", "none"}}));
    CHECK(choice({{"tool_choice", {{"type", "function"}, {"function", {{"name", "f"}}}}}}) ==
          json({{"type", "tool"}, {"name", "f"}}));
    CHECK(choice({{"tool_choice", "auto"}, {"parallel_tool_calls", false}}) ==
          json({{"type", "auto"}, {"disable_parallel_tool_use", true}}));
    CHECK(choice({{"tool_choice", "required"}, {"parallel_tool_calls", false}}) ==
          json({{"type", "any"}, {"disable_parallel_tool_use", true}}));
    CHECK(choice({{"tool_choice", {{"type", "function"}, {"function", {{"name", "f"}}}}},
                  {"parallel_tool_calls", false}}) ==
          json({{"type", "tool"}, {"name", "f"}, {"disable_parallel_tool_use", true}}));
    CHECK(choice({{"tool_choice", "none"}, {"parallel_tool_calls", false}}) ==
          json({{"type", "none"}}));
    CHECK(choice({{"parallel_tool_calls", false}}) ==
          json({{"type", "auto"}, {"disable_parallel_tool_use", true}}));
    CHECK(choice({{"parallel_tool_calls", true}}).is_null());
    // Without tools, parallel_tool_calls has nothing to say.
    CHECK_FALSE(
        encode(request({user("x")}, {{"parallel_tool_calls", false}})).contains("tool_choice"));
    check_refused(
        request({user("x")}, {{"tools", tools}, {"tool_choice", {{"type", "allowed_tools"}}}}),
        "tool_choice.type", "unsupported_parameter");
    check_refused(request({user("x")}, {{"tools", tools}, {"tool_choice", "sometimes"}}),
                  "tool_choice", "invalid_value");
}

TEST_CASE("anthropic request: response_format text and json_schema, json_object refused") {
    CHECK_FALSE(encode(request({user("x")}, {{"response_format", {{"type", "text"}}}}))
                    .contains("output_config"));
    json schema = {{"type", "object"}, {"properties", {{"a", {{"type", "integer"}}}}}};
    json out = encode(
        request({user("x")},
                {{"response_format",
                  {{"type", "json_schema"},
                   {"json_schema", {{"name", "answer"}, {"schema", schema}, {"strict", true}}}}}}));
    CHECK(out["output_config"] ==
          json({{"format", {{"type", "json_schema"}, {"schema", schema}}}}));
    check_refused(request({user("x")}, {{"response_format", {{"type", "json_object"}}}}),
                  "response_format", "unsupported_value");
    check_refused(
        request({user("x")},
                {{"response_format", {{"type", "json_schema"}, {"json_schema", {{"name", "a"}}}}}}),
        "response_format.json_schema.schema", "invalid_value");
}

TEST_CASE("anthropic request: reasoning_effort to adaptive thinking and an effort") {
    auto effort = [](const char* value) {
        return encode(request({user("x")}, {{"reasoning_effort", value}}));
    };
    CHECK_FALSE(effort("none").contains("thinking"));
    CHECK_FALSE(effort("none").contains("output_config"));
    const std::pair<const char*, const char*> rows[] = {{"minimal", "low"},
                                                        {"low", "low"},
                                                        {"medium", "medium"},
                                                        {"high", "high"},
                                                        {"xhigh", "xhigh"}};
    for (auto [openai, anthropic] : rows) {
        json out = effort(openai);
        CHECK(out["thinking"] == json({{"type", "adaptive"}}));
        CHECK_MESSAGE(out["output_config"] == json({{"effort", anthropic}}), openai);
    }
    json out = encode(request(
        {user("x")},
        {{"reasoning_effort", "high"},
         {"response_format",
          {{"type", "json_schema"}, {"json_schema", {{"schema", {{"type", "object"}}}}}}}}));
    CHECK(out["output_config"] ==
          json({{"effort", "high"},
                {"format", {{"type", "json_schema"}, {"schema", {{"type", "object"}}}}}}));
    check_refused(request({user("x")}, {{"reasoning_effort", "extreme"}}), "reasoning_effort",
                  "invalid_value");
    check_refused(
        request({user("x")}, {{"reasoning_effort", "low"}, {"thinking", {{"type", "adaptive"}}}}),
        "reasoning_effort", "invalid_value");
}

TEST_CASE("anthropic request: user and safety_identifier to metadata.user_id") {
    CHECK(encode(request({user("x")}, {{"user", "u-1"}}))["metadata"] ==
          json({{"user_id", "u-1"}}));
    CHECK(
        encode(request({user("x")}, {{"user", "u-1"}, {"safety_identifier", "s-2"}}))["metadata"] ==
        json({{"user_id", "s-2"}}));
    check_refused(request({user("x")}, {{"user", 7}}), "user", "invalid_value");
}

TEST_CASE("anthropic request: stream passes, stream_options.include_usage is kept apart") {
    json body =
        request({user("x")}, {{"stream", true}, {"stream_options", {{"include_usage", true}}}});
    auto encoded = anthropic::encode_request(body.dump(), {});
    CHECK(encoded.include_usage);
    json out = json::parse(encoded.body);
    CHECK(out["stream"] == true);
    CHECK_FALSE(out.contains("stream_options"));
    CHECK_FALSE(anthropic::encode_request(request({user("x")}, {{"stream", true}}).dump(), {})
                    .include_usage);
}

TEST_CASE("anthropic request: fields without effect on the answer are accepted and not sent") {
    json body = request({user("x")}, {{"store", true},
                                      {"metadata", {{"tag", "a"}}},
                                      {"prompt_cache_key", "k"},
                                      {"service_tier", "auto"},
                                      {"n", 1},
                                      {"logprobs", false},
                                      {"top_logprobs", 0},
                                      {"logit_bias", json::object()},
                                      {"presence_penalty", 0},
                                      {"frequency_penalty", 0.0},
                                      {"modalities", {"text"}},
                                      {"seed", nullptr},
                                      {"audio", nullptr},
                                      {"functions", nullptr}});
    CHECK(encode(body) == encode(request({user("x")})));
}

TEST_CASE("anthropic request: every field that cannot be translated is refused, naming it") {
    const std::pair<const char*, json> refused[] = {
        {"n", 2},
        {"logprobs", true},
        {"top_logprobs", 3},
        {"logit_bias", {{"50256", -100}}},
        {"presence_penalty", 0.5},
        {"frequency_penalty", -0.2},
        {"seed", 42},
        {"audio", {{"voice", "alloy"}, {"format", "wav"}}},
        {"modalities", {"text", "audio"}},
        {"prediction", {{"type", "content"}, {"content", "x"}}},
        {"functions", {{{"name", "f"}}}},
        {"function_call", "auto"},
        {"web_search_options", json::object()},
        {"service_tier", "flex"},
        {"verbosity", "low"},
        {"some_new_field", true},
    };
    for (const auto& [field, value] : refused)
        check_refused(request({user("x")}, {{field, value}}), field, "unsupported_parameter");
}

TEST_CASE("anthropic request: the fast path takes simple requests, and agrees with the encoder") {
    auto message = [](const char* role, json content) {
        return json{{"role", role}, {"content", std::move(content)}};
    };
    // Each is taken by the fast path, and encode() holds it to the full encoder's result.
    const json simple[] = {
        request({user("hello")}),
        request({message("system", "Be brief."), message("developer", "  "),
                 message("developer", "Use French."), user("a \"quoted\" caf\u00e9\n")},
                {{"stream", true}, {"max_tokens", 100}, {"temperature", 0.5}, {"top_p", 1}}),
        // consecutive messages of one side merge; blank texts drop, and a side with only blank
        // texts between two turns of the other leaves them apart
        request({user("a"), user(""), user("b"), message("assistant", " \n"), user("c"),
                 message("assistant", "d"), message("assistant", "e"), user("f")},
                {{"max_completion_tokens", 7}, {"max_tokens", 9}, {"temperature", 1}}),
        request({}, {{"stream", false}, {"temperature", 0}, {"top_p", 0.25}}),
        json{{"messages", {user("no model")}}},
    };
    for (const json& body : simple) {
        CHECK_MESSAGE(anthropic::encode_simple_request(body.dump(), {}).has_value(), body.dump());
        encode(body);
    }
    const json merged = encode(simple[2]);
    CHECK(merged["max_tokens"] == 7);
    CHECK(merged["messages"] == json::array({
                                    {{"role", "user"}, {"content", {text("a"), text("b")}}},
                                    {{"role", "user"}, {"content", {text("c")}}},
                                    {{"role", "assistant"}, {"content", {text("d"), text("e")}}},
                                    {{"role", "user"}, {"content", {text("f")}}},
                                }));
    CHECK(encode(simple[1])["system"] == json::array({text("Be brief."), text("Use French.")}));

    // Each is left to the full encoder, which translates it or refuses it.
    const json other[] = {
        request({user("x")}, {{"stream_options", {{"include_usage", true}}}}),
        request({user("x")}, {{"temperature", 1.5}}),
        request({user("x")}, {{"max_tokens", -1}}),
        request({user("x")}, {{"max_tokens", 1.5}}),
        request({user("x")}, {{"stream", nullptr}}),
        request({user("x")}, {{"top_p", "high"}}),
        request({user({text("parts")})}),
        request({message("tool", "r")}),
        request({json{{"role", "user"}, {"content", "x"}, {"name", "n"}}}),
        request({json{{"role", "user"}}}),
        json{{"model", "m"}},
        json{{"model", 1}, {"messages", json::array()}},
    };
    for (const json& body : other)
        CHECK_MESSAGE(!anthropic::encode_simple_request(body.dump(), {}).has_value(), body.dump());
    CHECK(!anthropic::encode_simple_request(R"({"messages":[],"messages":[]})", {}));
    CHECK(!anthropic::encode_simple_request(R"({"messages":[{"role":"user","role":"user",)"
                                            R"("content":"x"}]})",
                                            {}));
    CHECK(!anthropic::encode_simple_request(R"({"messages":[]} x)", {}));
}
