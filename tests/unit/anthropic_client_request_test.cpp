// The anthropic client API's request decoder: Anthropic Messages requests to canonical (OpenAI
// chat) requests, one mapping row per test, and every field it refuses.
#include <doctest/doctest.h>

#include <llm_proxy/cpp/plugin.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "anthropic/client_request_decoder.hpp"
#include "anthropic/sha256.hpp"
#include "anthropic/simple_client_request.hpp"

using nlohmann::json;

namespace {

json user(json content) {
    return {{"role", "user"}, {"content", std::move(content)}};
}

json assistant(json content) {
    return {{"role", "assistant"}, {"content", std::move(content)}};
}

json request(std::vector<json> messages, json extra = json::object()) {
    json body = {{"model", "gpt-x"}, {"max_tokens", 1024}, {"messages", json(std::move(messages))}};
    body.update(extra);
    return body;
}

// The decoded request; its fast path (simple_client_request.hpp), where it applies, must agree
// with the full decoder, on the body as dump() writes it and as a client that spaces its JSON
// does.
json decode(const json& body) {
    json decoded;
    for (const std::string& text : {body.dump(), body.dump(1)}) {
        const auto fast = anthropic::decode_client_request(text);
        const auto full = anthropic::decode_client_request_in_full(text);
        decoded = json::parse(fast.body);
        CHECK_MESSAGE(decoded == json::parse(full.body), text);
        CHECK(fast.model == full.model);
        CHECK(fast.stream == full.stream);
    }
    return decoded;
}

// The refusal of a request; fails the test when it is decoded.
llm_proxy::Error refusal(const std::string& body) {
    try {
        anthropic::decode_client_request(body);
    } catch (const llm_proxy::Error& e) {
        return e;
    }
    FAIL("decoded, though it should be refused: " << body);
    return llm_proxy::Error("");
}

void check_refused(const json& body, const std::string& field) {
    auto e = refusal(body.dump());
    CHECK_MESSAGE(e.status == 400, body.dump());
    CHECK(e.type == "invalid_request_error");
    CHECK_MESSAGE(std::string(e.what()).find("'" + field + "'") != std::string::npos,
                  e.what() << " should name " << field);
}

json text(const std::string& t) {
    return {{"type", "text"}, {"text", t}};
}

json tool_use(const std::string& id, const std::string& name, json input) {
    return {{"type", "tool_use"}, {"id", id}, {"name", name}, {"input", std::move(input)}};
}

json tool(const std::string& name) {
    return {{"name", name},
            {"input_schema", {{"type", "object"}, {"properties", {{"q", {{"type", "string"}}}}}}}};
}

}  // namespace

TEST_CASE("anthropic client request: model, messages and max_tokens pass") {
    json out = decode(request({user("Hello")}));
    CHECK(out == json{{"model", "gpt-x"},
                      {"messages", {{{"role", "user"}, {"content", "Hello"}}}},
                      {"max_tokens", 1024}});
}

TEST_CASE(
    "anthropic client request: a missing model, messages or max_tokens is refused as "
    "Anthropic refuses it") {
    for (const char* field : {"model", "messages", "max_tokens"}) {
        json body = request({user("Hi")});
        body.erase(field);
        auto e = refusal(body.dump());
        CHECK(e.status == 400);
        CHECK(e.type == "invalid_request_error");
        CHECK(std::string(e.what()) == std::string(field) + ": Field required");
    }
}

TEST_CASE("anthropic client request: a body that is not a JSON object is refused") {
    for (const char* body : {"", "[]", "{\"model\":", "\"text\""}) {
        auto e = refusal(body);
        CHECK_MESSAGE(e.status == 400, body);
        CHECK_MESSAGE(std::string(e.what()).find("'(body)'") != std::string::npos, e.what());
    }
}

TEST_CASE("anthropic client request: a system string becomes the first system message") {
    json out = decode(request({user("Hi")}, {{"system", "Be brief."}}));
    CHECK(out["messages"][0] == json{{"role", "system"}, {"content", "Be brief."}});
    CHECK(out["messages"][1]["role"] == "user");
}

TEST_CASE("anthropic client request: system blocks become text parts, cache_control dropped") {
    json one = {{{"type", "text"}, {"text", "A"}, {"cache_control", {{"type", "ephemeral"}}}}};
    CHECK(decode(request({user("Hi")}, {{"system", one}}))["messages"][0] ==
          json{{"role", "system"}, {"content", "A"}});
    json two = {text("A"), text("B")};
    CHECK(decode(request({user("Hi")}, {{"system", two}}))["messages"][0] ==
          json{{"role", "system"}, {"content", {text("A"), text("B")}}});
    CHECK(decode(request({user("Hi")}, {{"system", ""}}))["messages"].size() == 1);
    check_refused(request({user("Hi")}, {{"system", {{{"type", "image"}}}}}), "system.0.type");
}

TEST_CASE(
    "anthropic client request: tool results become tool messages before the turn's other "
    "content") {
    json turn = user({text("Thanks. Next?"),
                      {{"type", "tool_result"}, {"tool_use_id", "toolu_1"}, {"content", "15 C"}},
                      {{"type", "tool_result"},
                       {"tool_use_id", "toolu_2"},
                       {"content", {text("a"), text("b")}},
                       {"is_error", true}},
                      {{"type", "tool_result"}, {"tool_use_id", "toolu_3"}}});
    json messages = decode(request({turn}))["messages"];
    REQUIRE(messages.size() == 4);
    CHECK(messages[0] == json{{"role", "tool"}, {"tool_call_id", "toolu_1"}, {"content", "15 C"}});
    CHECK(messages[1] ==
          json{{"role", "tool"}, {"tool_call_id", "toolu_2"}, {"content", {text("a"), text("b")}}});
    CHECK(messages[2] == json{{"role", "tool"}, {"tool_call_id", "toolu_3"}, {"content", ""}});
    CHECK(messages[3] == json{{"role", "user"}, {"content", "Thanks. Next?"}});
}

TEST_CASE("anthropic client request: a turn of tool results only adds no user message") {
    json turn = user(
        {{{"type", "tool_result"}, {"tool_use_id", "toolu_1"}, {"content", {text("only one")}}}});
    json messages = decode(request({turn}))["messages"];
    REQUIRE(messages.size() == 1);
    CHECK(messages[0] ==
          json{{"role", "tool"}, {"tool_call_id", "toolu_1"}, {"content", "only one"}});
}

TEST_CASE("anthropic client request: an image in a tool result is refused") {
    json image = {{"type", "image"},
                  {"source", {{"type", "url"}, {"url", "https://example.com/a.png"}}}};
    json turn = user(
        {{{"type", "tool_result"}, {"tool_use_id", "toolu_1"}, {"content", {text("x"), image}}}});
    check_refused(request({turn}), "messages.0.content.0.content.1.type");
}

TEST_CASE("anthropic client request: images, base64 as data: URLs and urls as they are") {
    json turn =
        user({text("What is this?"),
              {{"type", "image"},
               {"source", {{"type", "base64"}, {"media_type", "image/png"}, {"data", "iVBORw0K"}}}},
              {{"type", "image"},
               {"source", {{"type", "url"}, {"url", "https://example.com/cat.jpg"}}},
               {"cache_control", {{"type", "ephemeral"}}}}});
    json content = decode(request({turn}))["messages"][0]["content"];
    CHECK(content ==
          json{text("What is this?"),
               {{"type", "image_url"}, {"image_url", {{"url", "data:image/png;base64,iVBORw0K"}}}},
               {{"type", "image_url"}, {"image_url", {{"url", "https://example.com/cat.jpg"}}}}});
}

TEST_CASE("anthropic client request: an image of the Files API is refused") {
    json turn = user({{{"type", "image"}, {"source", {{"type", "file"}, {"file_id", "file_1"}}}}});
    check_refused(request({turn}), "messages.0.content.0.source.type");
}

TEST_CASE("anthropic client request: a base64 PDF document becomes a file part") {
    json pdf = {{"type", "base64"}, {"media_type", "application/pdf"}, {"data", "JVBERi0x"}};
    json titled = {{"type", "document"}, {"source", pdf}, {"title", "report.pdf"}};
    json untitled = {{"type", "document"}, {"source", pdf}};
    json content = decode(request({user({titled, untitled})}))["messages"][0]["content"];
    CHECK(content == json{{{"type", "file"},
                           {"file",
                            {{"filename", "report.pdf"},
                             {"file_data", "data:application/pdf;base64,JVBERi0x"}}}},
                          {{"type", "file"},
                           {"file",
                            {{"filename", "document.pdf"},
                             {"file_data", "data:application/pdf;base64,JVBERi0x"}}}}});
}

TEST_CASE("anthropic client request: documents other than base64 PDFs are refused") {
    json url_pdf = {{"type", "document"},
                    {"source", {{"type", "url"}, {"url", "https://example.com/a.pdf"}}}};
    check_refused(request({user({url_pdf})}), "messages.0.content.0.source");
    json plain = {{"type", "document"},
                  {"source", {{"type", "text"}, {"media_type", "text/plain"}, {"data", "x"}}}};
    check_refused(request({user({plain})}), "messages.0.content.0.source");
    json with_context = {
        {"type", "document"},
        {"source", {{"type", "base64"}, {"media_type", "application/pdf"}, {"data", "JVBE"}}},
        {"context", "quarterly figures"}};
    check_refused(request({user({with_context})}), "messages.0.content.0.context");
}

TEST_CASE(
    "anthropic client request: an assistant turn becomes one message with joined text and "
    "tool_calls") {
    json turn = assistant({{{"type", "thinking"}, {"thinking", "hmm"}, {"signature", "EsEC"}},
                           text("Let me "),
                           text("check."),
                           tool_use("toolu_1", "get_weather", {{"city", "Paris"}}),
                           tool_use("toolu_2", "get_time", json::object())});
    json message = decode(request({user("Weather?"), turn}))["messages"][1];
    CHECK(message["role"] == "assistant");
    CHECK(message["content"] == "Let me check.");
    REQUIRE(message["tool_calls"].size() == 2);
    CHECK(message["tool_calls"][0] ==
          json{{"id", "toolu_1"},
               {"type", "function"},
               {"function", {{"name", "get_weather"}, {"arguments", R"({"city":"Paris"})"}}}});
    CHECK(message["tool_calls"][1]["function"]["arguments"] == "{}");
}

TEST_CASE("anthropic client request: an assistant turn of tool calls only has null content") {
    json message = decode(request(
        {user("Go"), assistant({tool_use("toolu_1", "go", json::object())})}))["messages"][1];
    CHECK(message["content"].is_null());
    CHECK(message["tool_calls"].size() == 1);
}

TEST_CASE("anthropic client request: roles and block types it cannot translate are refused") {
    check_refused(request({{{"role", "system"}, {"content", "x"}}}), "messages.0.role");
    check_refused(request({user({{{"type", "search_result"}}})}), "messages.0.content.0.type");
    check_refused(request({user("Hi"), assistant({{{"type", "server_tool_use"}}})}),
                  "messages.1.content.0.type");
    check_refused(request({user({{{"type", "text"}, {"text", "x"}, {"extra", 1}}})}),
                  "messages.0.content.0.extra");
    check_refused(request({{{"role", "user"}, {"content", "x"}, {"name", "bob"}}}),
                  "messages.0.name");
}

TEST_CASE(
    "anthropic client request: tools become functions, and the tool's type stays out of "
    "parameters") {
    json schema = {{"type", "object"},
                   {"properties", {{"city", {{"type", "string"}}}}},
                   {"required", {"city"}},
                   {"additionalProperties", false}};
    json tools = {{{"type", "custom"},
                   {"name", "get_weather"},
                   {"description", "Weather by city"},
                   {"input_schema", schema},
                   {"strict", true},
                   {"cache_control", {{"type", "ephemeral"}}},
                   {"eager_input_streaming", true}}};
    json out = decode(request({user("Hi")}, {{"tools", tools}}));
    CHECK(out["tools"] == json{{{"type", "function"},
                                {"function",
                                 {{"name", "get_weather"},
                                  {"description", "Weather by city"},
                                  {"parameters", schema},
                                  {"strict", true}}}}});
}

TEST_CASE("anthropic client request: server tools and unknown tool members are refused") {
    json web_search = {{"type", "web_search_20250305"}, {"name", "web_search"}};
    check_refused(request({user("Hi")}, {{"tools", {tool("a"), web_search}}}), "tools.1.type");
    json examples = tool("a");
    examples["input_examples"] = json::array();
    check_refused(request({user("Hi")}, {{"tools", {examples}}}), "tools.0.input_examples");
    json no_schema = {{"name", "a"}};
    check_refused(request({user("Hi")}, {{"tools", {no_schema}}}), "tools.0.input_schema");
}

TEST_CASE("anthropic client request: SHA-256 as FIPS 180-4 gives it") {
    CHECK(anthropic::sha256_hex("") ==
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(anthropic::sha256_hex("abc") ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    // 56 bytes: the length needs a second padding block.
    CHECK(anthropic::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST_CASE(
    "anthropic client request: tool names over 64 characters are shortened the same way "
    "everywhere, and restored") {
    const std::string long_name(70, 'a');
    const std::string short_name =
        std::string(55, 'a') + "_" + anthropic::sha256_hex(long_name).substr(0, 8);
    const std::string fits(64, 'b');
    json body = request({user("Hi"), assistant({tool_use("toolu_1", long_name, json::object())})},
                        {{"tools", {tool(long_name), tool(fits)}},
                         {"tool_choice", {{"type", "tool"}, {"name", long_name}}}});
    auto decoded = anthropic::decode_client_request(body.dump());
    json out = json::parse(decoded.body);
    CHECK(short_name.size() == 64);
    CHECK(out["tools"][0]["function"]["name"] == short_name);
    CHECK(out["tools"][1]["function"]["name"] == fits);
    CHECK(out["tool_choice"]["function"]["name"] == short_name);
    CHECK(out["messages"][1]["tool_calls"][0]["function"]["name"] == short_name);
    CHECK(decoded.tool_names.client_name(short_name) == long_name);
    CHECK(decoded.tool_names.client_name(fits) == fits);
    CHECK(decoded.tool_names.client_name("other") == "other");
}

TEST_CASE("anthropic client request: a name that would collide with a shortened one is refused") {
    const std::string long_name(70, 'a');
    const std::string its_short =
        std::string(55, 'a') + "_" + anthropic::sha256_hex(long_name).substr(0, 8);
    check_refused(request({user("Hi")}, {{"tools", {tool(long_name), tool(its_short)}}}), "tools");
}

TEST_CASE("anthropic client request: tool_choice auto, any, tool and none") {
    json tools = {tool("get_weather")};
    auto choice = [&](json c) {
        return decode(request({user("Hi")}, {{"tools", tools}, {"tool_choice", std::move(c)}}));
    };
    CHECK(choice({{"type", "auto"}})["tool_choice"] == "auto");
    CHECK(choice({{"type", "any"}})["tool_choice"] == "required");
    CHECK(choice({{"type", "none"}})["tool_choice"] == "none");
    CHECK(choice({{"type", "tool"}, {"name", "get_weather"}})["tool_choice"] ==
          json{{"type", "function"}, {"function", {{"name", "get_weather"}}}});
    CHECK_FALSE(choice({{"type", "auto"}}).contains("parallel_tool_calls"));
    check_refused(request({user("Hi")}, {{"tool_choice", {{"type", "sometimes"}}}}),
                  "tool_choice.type");
}

TEST_CASE("anthropic client request: disable_parallel_tool_use becomes parallel_tool_calls false") {
    for (const char* type : {"auto", "any"}) {
        json out = decode(
            request({user("Hi")},
                    {{"tools", {tool("a")}},
                     {"tool_choice", {{"type", type}, {"disable_parallel_tool_use", true}}}}));
        CHECK(out["parallel_tool_calls"] == false);
        json allowed = decode(
            request({user("Hi")},
                    {{"tools", {tool("a")}},
                     {"tool_choice", {{"type", type}, {"disable_parallel_tool_use", false}}}}));
        CHECK_FALSE(allowed.contains("parallel_tool_calls"));
    }
}

TEST_CASE("anthropic client request: metadata.user_id becomes user") {
    CHECK(decode(request({user("Hi")}, {{"metadata", {{"user_id", "u-42"}}}}))["user"] == "u-42");
    check_refused(request({user("Hi")}, {{"metadata", {{"tenant", "x"}}}}), "metadata.tenant");
}

TEST_CASE("anthropic client request: stop_sequences, temperature and top_p") {
    json out = decode(
        request({user("Hi")},
                {{"stop_sequences", {"\n\nHuman:", "END"}}, {"temperature", 0.2}, {"top_p", 0.9}}));
    CHECK(out["stop"] == json{"\n\nHuman:", "END"});
    CHECK(out["temperature"] == 0.2);
    CHECK(out["top_p"] == 0.9);
    CHECK_FALSE(out.contains("stop_sequences"));
}

TEST_CASE("anthropic client request: a stream asks for the usage chunk") {
    auto decoded =
        anthropic::decode_client_request(request({user("Hi")}, {{"stream", true}}).dump());
    json out = json::parse(decoded.body);
    CHECK(decoded.stream);
    CHECK(out["stream"] == true);
    CHECK(out["stream_options"] == json{{"include_usage", true}});

    auto whole =
        anthropic::decode_client_request(request({user("Hi")}, {{"stream", false}}).dump());
    CHECK_FALSE(whole.stream);
    CHECK(json::parse(whole.body)["stream"] == false);
    CHECK_FALSE(json::parse(whole.body).contains("stream_options"));
}

TEST_CASE("anthropic client request: thinking budgets become reasoning_effort buckets") {
    auto effort = [](json thinking) {
        return decode(request({user("Hi")}, {{"thinking", std::move(thinking)}}));
    };
    const std::pair<int, const char*> buckets[] = {{1024, "low"},    {2047, "low"},
                                                   {2048, "medium"}, {4095, "medium"},
                                                   {4096, "high"},   {31999, "high"}};
    for (auto [budget, expected] : buckets)
        CHECK_MESSAGE(effort({{"type", "enabled"},
                              {"budget_tokens", budget}})["reasoning_effort"] == expected,
                      budget);
    CHECK(effort({{"type", "adaptive"}})["reasoning_effort"] == "medium");
    CHECK_FALSE(effort({{"type", "disabled"}}).contains("reasoning_effort"));
    check_refused(request({user("Hi")}, {{"thinking", {{"type", "enabled"}}}}),
                  "thinking.budget_tokens");
    check_refused(request({user("Hi")}, {{"thinking", {{"type", "sometimes"}}}}), "thinking.type");
}

TEST_CASE("anthropic client request: output_config.effort sets reasoning_effort") {
    auto with = [](const char* effort) {
        return decode(request({user("Hi")}, {{"thinking", {{"type", "adaptive"}}},
                                             {"output_config", {{"effort", effort}}}}));
    };
    CHECK(with("low")["reasoning_effort"] == "low");
    CHECK(with("high")["reasoning_effort"] == "high");
    CHECK(with("xhigh")["reasoning_effort"] == "xhigh");
    CHECK(with("max")["reasoning_effort"] == "xhigh");
    check_refused(request({user("Hi")}, {{"output_config", {{"effort", "huge"}}}}),
                  "output_config.effort");
}

TEST_CASE(
    "anthropic client request: output_config.format becomes a strict json_schema "
    "response_format") {
    json schema = {
        {"type", "object"},
        {"properties",
         {{"name", {{"type", "string"}}},
          {"tags",
           {{"type", "array"},
            {"items", {{"type", "object"}, {"properties", {{"label", {{"type", "string"}}}}}}}}}}},
        {"required", {"name"}}};
    json strict = {{"type", "object"},
                   {"properties",
                    {{"name", {{"type", "string"}}},
                     {"tags",
                      {{"type", "array"},
                       {"items",
                        {{"type", "object"},
                         {"properties", {{"label", {{"type", "string"}}}}},
                         {"additionalProperties", false},
                         {"required", {"label"}}}}}}}},
                   {"required", {"name", "tags"}},
                   {"additionalProperties", false}};
    json expected = {
        {"type", "json_schema"},
        {"json_schema", {{"name", "structured_output"}, {"schema", strict}, {"strict", true}}}};
    json format = {{"type", "json_schema"}, {"schema", schema}};
    CHECK(decode(request({user("Hi")}, {{"output_config",
                                         {{"format", format}}}}))["response_format"] == expected);
    CHECK(decode(request({user("Hi")}, {{"output_format", format}}))["response_format"] ==
          expected);
    check_refused(
        request({user("Hi")}, {{"output_format", format}, {"output_config", {{"format", format}}}}),
        "output_format");
    check_refused(request({user("Hi")}, {{"output_config", {{"format", {{"type", "text"}}}}}}),
                  "output_config.format");
}

TEST_CASE("anthropic client request: fields a canonical upstream cannot honour are refused") {
    const std::pair<const char*, json> refused[] = {
        {"top_k", 40},
        {"container", "container_1"},
        {"mcp_servers", json::array({{{"type", "url"}, {"url", "https://mcp.example.com"}}})},
        {"inference_geo", "eu"},
        {"context_management", json::object()},
        {"no_such_field", 1}};
    for (const auto& [field, value] : refused) {
        auto e = refusal(request({user("Hi")}, {{field, value}}).dump());
        CHECK(e.status == 400);
        CHECK(e.type == "invalid_request_error");
        CHECK(e.code == "unsupported_parameter");
        CHECK_MESSAGE(
            std::string(e.what()).find(std::string("'") + field + "'") != std::string::npos,
            e.what());
    }
}

TEST_CASE("anthropic client request: null fields count as not given") {
    json out = decode(request({user("Hi")}, {{"top_k", nullptr}, {"system", nullptr}}));
    CHECK_FALSE(out.contains("top_k"));
    CHECK(out["messages"].size() == 1);
}

TEST_CASE("anthropic client request: cache_control and service_tier are dropped") {
    json out = decode(request({user("Hi")}, {{"cache_control", {{"type", "ephemeral"}}},
                                             {"service_tier", "standard_only"}}));
    CHECK_FALSE(out.contains("cache_control"));
    CHECK_FALSE(out.contains("service_tier"));
}

TEST_CASE(
    "anthropic client request: the fast path takes simple requests, and agrees with the "
    "decoder") {
    // Each is taken by the fast path, and decode() holds it to the full decoder's result.
    const json simple[] = {
        request({user("hello")}),
        request({user("a \"quoted\" caf\u00e9\n"), assistant(""), user(" ")},
                {{"system", "Be brief."}, {"stream", true}, {"temperature", 0.5}, {"top_p", 1}}),
        request({user("x")}, {{"system", ""}, {"stream", false}, {"temperature", 2}}),
        request({}),
    };
    for (const json& body : simple) {
        CHECK_MESSAGE(anthropic::decode_simple_client_request(body.dump()).has_value(),
                      body.dump());
        decode(body);
    }
    const json streamed = decode(simple[1]);
    CHECK(streamed["messages"][0] == json{{"role", "system"}, {"content", "Be brief."}});
    CHECK(streamed["stream_options"] == json{{"include_usage", true}});
    CHECK(decode(simple[2])["messages"].size() == 1);

    // Each is left to the full decoder, which translates it or refuses it.
    const json other[] = {
        request({user("x")}, {{"stop_sequences", {"END"}}}),
        request({user("x")}, {{"system", {text("blocks")}}}),
        request({user({text("blocks")})}),
        request({json{{"role", "system"}, {"content", "x"}}}),
        request({user("x")}, {{"max_tokens", -1}}),
        request({user("x")}, {{"model", ""}}),
        request({user("x")}, {{"stream", "yes"}}),
        request({user("x")}, {{"top_k", 5}}),
        json{{"model", "m"}, {"messages", {user("no max_tokens")}}},
        json{{"max_tokens", 1}, {"messages", {user("no model")}}},
        json{{"model", "m"}, {"max_tokens", 1}},
    };
    for (const json& body : other)
        CHECK_MESSAGE(!anthropic::decode_simple_client_request(body.dump()).has_value(),
                      body.dump());
}
