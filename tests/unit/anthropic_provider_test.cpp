// The anthropic provider through the real plugin ABI: anthropic.so loaded as the host loads it,
// its hooks run by the host's own ProviderCall, as the request flow runs them.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "bundled_plugins.hpp"
#include "http/headers.hpp"
#include "pipeline/provider_call.hpp"
#include "plugins/plugin_invoke.hpp"
#include "plugins/plugin_registry.hpp"
#include "runtime/runtime.hpp"
#include "streaming/sse_parser.hpp"

using llmproxy::Answer;
using nlohmann::json;

namespace {

struct Settings {
    lp_endpoint endpoint = LP_ENDPOINT_CHAT;
    std::string base_url = "https://api.anthropic.com/v1";
    std::string api_key = "sk-ant-test";
    json options = json::object();
};

// instance_new's refusal of settings, "" when it accepts them (the instance is then freed).
std::string refusal(const Settings& s) {
    const auto* type = bundled_plugins().provider("anthropic");
    REQUIRE(type != nullptr);
    std::string name = "claude", options = s.options.dump();
    lp_provider_config config{sizeof config,
                              llmproxy::to_lp(name),
                              s.endpoint,
                              llmproxy::to_lp(s.base_url),
                              llmproxy::to_lp(s.api_key),
                              llmproxy::to_lp(options)};
    lp_call call("instance_new");
    void* instance = nullptr;
    if (type->vtable.instance_new(&config, &call, &instance) != LP_CONTINUE)
        return call.error_or_default().message;
    type->vtable.instance_free(instance);
    return "";
}

// One [llm.claude] served by the anthropic provider.
class Claude {
  public:
    explicit Claude(const Settings& s = {}) {
        config_.name = "claude";
        config_.provider = "anthropic";
        config_.base_url = s.base_url;
        config_.options_json = s.options.dump();
        llm_.config = &config_;
        llm_.provider = bundled_plugins().provider("anthropic");
        REQUIRE(llm_.provider != nullptr);
        llm_.plugin = "org.llm-proxy.anthropic [llm.claude]";
        lp_provider_config pc{sizeof pc,
                              llmproxy::to_lp(config_.name),
                              s.endpoint,
                              llmproxy::to_lp(config_.base_url),
                              llmproxy::to_lp(s.api_key),
                              llmproxy::to_lp(config_.options_json)};
        lp_call call("instance_new");
        REQUIRE(llm_.provider->vtable.instance_new(&pc, &call, &llm_.instance) == LP_CONTINUE);
    }
    ~Claude() { llm_.provider->vtable.instance_free(llm_.instance); }

    const llmproxy::LlmRuntime& llm() const { return llm_; }

  private:
    llmproxy::LlmConfig config_;
    llmproxy::LlmRuntime llm_;
};

struct Encoded {
    llmproxy::UpstreamRequest upstream;
    std::string body;
};

Encoded encode(llmproxy::ProviderCall& provider, const json& request,
               const llmproxy::HeaderList& client_headers = {}) {
    Encoded out;
    out.body = request.dump();
    out.upstream.headers = client_headers;  // what the host forwards from the client
    std::vector<lp_header> headers;
    for (const auto& [name, value] : client_headers)
        headers.push_back({llmproxy::to_lp(name), llmproxy::to_lp(value)});
    llmproxy::RequestCall call(provider.where("encode_request"), out.body, &out.upstream, nullptr);
    lp_request_view view{};
    view.struct_size = sizeof view;
    view.body = llmproxy::to_lp(out.body);
    view.endpoint = LP_ENDPOINT_CHAT;
    view.stream = request.value("stream", false) ? 1 : 0;
    view.headers = headers.data();
    view.header_count = headers.size();
    provider.encode(call, view);
    return out;
}

std::string header(const llmproxy::HeaderList& headers, std::string_view name) {
    const std::string* value = llmproxy::find_header(headers, name);
    return value ? *value : "(absent)";
}

const json kRequest = {{"model", "claude-sonnet-4-5"},
                       {"messages", {{{"role", "user"}, {"content", "Hi"}}}}};

const std::string kStream =
    "event: message_start\n"
    "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\","
    "\"role\":\"assistant\",\"model\":\"claude-x\",\"content\":[],\"usage\":{\"input_tokens\":5,"
    "\"output_tokens\":1}}}\n\n"
    "event: content_block_start\r\n"
    "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\","
    "\"text\":\"\"}}\r\n\r\n"
    "event: ping\n"
    "data: {\"type\":\"ping\"}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
    "\"text\":\"Hello\"}}\n\n"
    "event: content_block_stop\n"
    "data: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
    "event: message_delta\n"
    "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":"
    "{\"output_tokens\":2}}\n\n"
    "event: message_stop\n"
    "data: {\"type\":\"message_stop\"}\n\n";

json streamed_request() {
    json request = kRequest;
    request["stream"] = true;
    request["stream_options"] = {{"include_usage", true}};
    return request;
}

// The canonical events of an upstream stream fed in pieces; end_stream's failure is rethrown.
// Canonical events carry no event: name, so only their data is returned.
std::vector<std::string> relay(llmproxy::ProviderCall& provider,
                               const std::vector<std::string_view>& pieces) {
    std::vector<llmproxy::StreamEvent> events;
    llmproxy::SseParser parser;
    auto sink = [&](const llmproxy::SseEvent& e) { provider.decode(e, events); };
    for (auto piece : pieces)
        parser.feed(piece, sink);
    parser.finish(sink);
    provider.end(events);
    std::vector<std::string> out;
    for (auto& event : events) {
        CHECK(event.name.empty());
        out.push_back(std::move(event.data));
    }
    return out;
}

}  // namespace

TEST_CASE("anthropic provider: encode sets the path, the headers and the Messages body") {
    Claude claude({.options = {{"anthropic_beta", {"context-1m-2025-08-07"}}}});
    llmproxy::ProviderCall provider(claude.llm());
    auto encoded = encode(provider, kRequest,
                          {{"anthropic-beta", "context-1m-2025-08-07, output-128k-2025-02-19"}});
    CHECK(encoded.upstream.method == "POST");
    CHECK(encoded.upstream.path == "/messages");
    CHECK(header(encoded.upstream.headers, "x-api-key") == "sk-ant-test");
    CHECK(header(encoded.upstream.headers, "anthropic-version") == "2023-06-01");
    CHECK(header(encoded.upstream.headers, "anthropic-beta") ==
          "context-1m-2025-08-07,output-128k-2025-02-19");
    CHECK(header(encoded.upstream.headers, "content-type") == "application/json");
    CHECK(json::parse(encoded.body) ==
          json({{"model", "claude-sonnet-4-5"},
                {"max_tokens", 4096},
                {"messages",
                 {{{"role", "user"}, {"content", {{{"type", "text"}, {"text", "Hi"}}}}}}}}));
}

TEST_CASE("anthropic provider: options set max_tokens, the version and beta flags") {
    Claude claude({.options = {{"max_tokens", 1000},
                               {"anthropic_version", "2024-01-01"},
                               {"anthropic_beta", {"a-1", "b-2", "a-1"}}}});
    llmproxy::ProviderCall provider(claude.llm());
    auto encoded = encode(provider, kRequest);
    CHECK(json::parse(encoded.body)["max_tokens"] == 1000);
    CHECK(header(encoded.upstream.headers, "anthropic-version") == "2024-01-01");
    CHECK(header(encoded.upstream.headers, "anthropic-beta") == "a-1,b-2");
    // No flags, none from the client: no anthropic-beta header.
    Claude plain;
    llmproxy::ProviderCall plain_provider(plain.llm());
    CHECK(header(encode(plain_provider, kRequest).upstream.headers, "anthropic-beta") ==
          "(absent)");
}

TEST_CASE("anthropic provider: without token_env, the client's bearer key goes in x-api-key") {
    Claude claude({.api_key = ""});
    llmproxy::ProviderCall provider(claude.llm());
    auto encoded = encode(provider, kRequest, {{"Authorization", "Bearer sk-ant-client"}});
    CHECK(header(encoded.upstream.headers, "x-api-key") == "sk-ant-client");
    CHECK(header(encoded.upstream.headers, "authorization") == "(absent)");
    // A client that sends x-api-key itself is left as it is.
    llmproxy::ProviderCall second(claude.llm());
    encoded =
        encode(second, kRequest, {{"x-api-key", "sk-ant-own"}, {"Authorization", "Bearer other"}});
    CHECK(header(encoded.upstream.headers, "x-api-key") == "sk-ant-own");
    CHECK(header(encoded.upstream.headers, "authorization") == "Bearer other");
}

TEST_CASE("anthropic provider: a request that cannot be translated fails encode with a 400") {
    Claude claude;
    llmproxy::ProviderCall provider(claude.llm());
    json request = kRequest;
    request["n"] = 3;
    try {
        encode(provider, request);
        FAIL("encoded");
    } catch (const llmproxy::ApiException& e) {
        CHECK(e.error().status == 400);
        CHECK(e.error().code == "unsupported_parameter");
        CHECK(e.error().message.find("'n'") != std::string::npos);
    }
}

TEST_CASE("anthropic provider: a whole answer is decoded to a chat.completion") {
    Claude claude;
    llmproxy::ProviderCall provider(claude.llm());
    Answer answer{
        200,
        "application/json",
        R"({"id":"msg_9","type":"message","role":"assistant","model":"claude-x","content":[{"type":"text","text":"Hi!"}],"stop_reason":"end_turn","usage":{"input_tokens":3,"output_tokens":2}})",
        {{"request-id", "req_1"}}};
    provider.decode(answer, nullptr);
    json out = json::parse(answer.body);
    CHECK(answer.status == 200);
    CHECK(out["object"] == "chat.completion");
    CHECK(out["choices"][0]["message"]["content"] == "Hi!");
    CHECK(out["usage"]["total_tokens"] == 5);
    CHECK(header(answer.headers, "request-id") == "req_1");
}

TEST_CASE(
    "anthropic provider: error answers become OpenAI errors, upstream headers kept where the ABI "
    "allows") {
    Claude claude;
    llmproxy::ProviderCall provider(claude.llm());
    Answer limited{429,
                   "application/json",
                   R"({"type":"error","error":{"type":"rate_limit_error","message":"Slow down"}})",
                   {{"retry-after", "7"}}};
    provider.decode(limited, nullptr);
    CHECK(limited.status == 429);
    CHECK(json::parse(limited.body) == json({{"error",
                                              {{"message", "Slow down"},
                                               {"type", "rate_limit_error"},
                                               {"param", nullptr},
                                               {"code", "rate_limit_error"}}}}));
    CHECK(header(limited.headers, "retry-after") == "7");

    Answer overloaded{
        529,
        "application/json",
        R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})",
        {}};
    provider.decode(overloaded, nullptr);
    CHECK(overloaded.status == 503);
    CHECK(overloaded.content_type == "application/json");
    CHECK(json::parse(overloaded.body)["error"]["code"] == "overloaded_error");

    Answer html{502, "text/html", "<html>Bad gateway</html>", {}};
    provider.decode(html, nullptr);
    CHECK(html.status == 502);
    CHECK(html.content_type == "application/json");
    CHECK(json::parse(html.body)["error"]["message"] ==
          "the upstream answered HTTP 502 with a body that is not an Anthropic error: "
          "<html>Bad gateway</html>");
}

TEST_CASE(
    "anthropic provider: a stream through the ABI, split at every byte, gives the same events") {
    Claude claude;
    std::vector<std::string> whole;
    {
        llmproxy::ProviderCall provider(claude.llm());
        encode(provider, streamed_request());
        whole = relay(provider, {kStream});
    }
    REQUIRE(whole.size() == 4);
    CHECK(json::parse(whole[0])["choices"][0]["delta"] ==
          json({{"role", "assistant"}, {"content", ""}}));
    CHECK(json::parse(whole[1])["choices"][0]["delta"] == json({{"content", "Hello"}}));
    CHECK(json::parse(whole[2])["choices"][0]["finish_reason"] == "stop");
    CHECK(json::parse(whole[3])["usage"]["total_tokens"] == 7);
    for (const auto& event : whole)
        CHECK(event != "[DONE]");  // the host writes it
    std::string_view all = kStream;
    for (std::size_t cut = 1; cut < all.size(); ++cut) {
        llmproxy::ProviderCall provider(claude.llm());
        encode(provider, streamed_request());
        auto split = relay(provider, {all.substr(0, cut), all.substr(cut)});
        // created is read once per stream: the same second, or the next.
        for (std::size_t i = 0; i < split.size() && i < whole.size(); ++i) {
            json a = json::parse(split[i]), b = json::parse(whole[i]);
            a.erase("created");
            b.erase("created");
            REQUIRE_MESSAGE(a == b, "split at byte " << cut);
        }
        REQUIRE(split.size() == whole.size());
    }
}

TEST_CASE("anthropic provider: a stream cut before message_stop fails end_stream with 502") {
    Claude claude;
    llmproxy::ProviderCall provider(claude.llm());
    std::string cut = kStream.substr(0, kStream.find("event: message_stop"));
    try {
        relay(provider, {cut});
        FAIL("no failure");
    } catch (const llmproxy::ApiException& e) {
        CHECK(e.error().status == 502);
        CHECK(e.error().code == "upstream_stream_truncated");
    }
}

TEST_CASE("anthropic provider: a mid-stream error event fails the hook with the mapped error") {
    Claude claude;
    llmproxy::ProviderCall provider(claude.llm());
    std::string stream = kStream.substr(0, kStream.find("event: content_block_stop")) +
                         "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":"
                         "\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
    std::vector<llmproxy::StreamEvent> out;
    llmproxy::SseParser parser;
    try {
        parser.feed(stream, [&](const llmproxy::SseEvent& e) { provider.decode(e, out); });
        FAIL("no failure");
    } catch (const llmproxy::ApiException& e) {
        CHECK(e.error().status == 503);
        CHECK(e.error().type == "server_error");
        CHECK(e.error().code == "overloaded_error");
        CHECK(e.error().message == "Overloaded");
    }
    CHECK(out.size() == 2);  // the role chunk and "Hello" went out before
}

TEST_CASE("anthropic provider: settings are checked, naming the key") {
    CHECK(refusal({}) == "");
    CHECK(refusal({.endpoint = LP_ENDPOINT_EMBEDDING}) == "type must be \"chat\"");
    CHECK(refusal({.base_url = ""}) ==
          "base_url is required: the API root of Anthropic, e.g. base_url = "
          "\"https://api.anthropic.com/v1\"");
    CHECK(refusal({.options = {{"max_token", 10}}}) ==
          "unknown key options.max_token (known: max_tokens, anthropic_version, anthropic_beta)");
    CHECK(refusal({.options = {{"max_tokens", 0}}}) ==
          "options.max_tokens must be an integer of at least 1");
    CHECK(refusal({.options = {{"max_tokens", "100"}}}) ==
          "options.max_tokens must be an integer of at least 1");
    CHECK(refusal({.options = {{"anthropic_version", 2023}}}) ==
          "options.anthropic_version must be a version string, e.g. \"2023-06-01\"");
    CHECK(refusal({.options = {{"anthropic_version", "2023\r\nx: y"}}}) ==
          "options.anthropic_version must be a version string, e.g. \"2023-06-01\"");
    for (json beta : {json("a-1"), json({1}), json({"a,b"}), json({" "})})
        CHECK_MESSAGE(refusal({.options = {{"anthropic_beta", beta}}})
                          .starts_with("options.anthropic_beta must be an array of strings"),
                      beta.dump());
}
