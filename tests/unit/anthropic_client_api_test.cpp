// The anthropic client API through the real plugin ABI: anthropic.so loaded as the host loads it,
// its client API table called hook by hook, with an lp_call that records what the hooks hand the
// host.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "bundled_plugins.hpp"
#include "plugins/host_call.hpp"

using llmproxy::to_lp;
using nlohmann::json;

namespace {

const llmproxy::ClientApiType& api() {
    const auto* type = bundled_plugins().client_api("anthropic");
    REQUIRE(type != nullptr);
    return *type;
}

// What one hook handed the host.
struct RecordingCall : lp_call {
    RecordingCall() : lp_call("client API test") {}
    void set_body(std::string_view b) override { body = b; }
    void respond(int s, std::string_view type, std::string_view b) override {
        status = s;
        content_type = type;
        body = b;
    }
    void emit_event(std::string_view data) override { events.emplace_back("", data); }
    void emit_named_event(std::string_view name, std::string_view data) override {
        events.emplace_back(name, data);
    }
    std::string body;
    int status = 0;
    std::string content_type;
    std::vector<std::pair<std::string, std::string>> events;
};

// One instance of the client API and one request's state, freed as the host frees them.
class Request {
  public:
    Request() {
        std::string name = "anthropic";
        lp_client_api_config config{sizeof config, to_lp(name)};
        lp_call created("instance_new");
        REQUIRE(table().instance_new(&config, &created, &instance_) == LP_CONTINUE);
        lp_call call("request_new");
        const bool keeps_state = table().request_new != nullptr;
        REQUIRE(keeps_state);
        REQUIRE(table().request_new(instance_, &call, &state_) == LP_CONTINUE);
    }
    ~Request() {
        table().request_free(instance_, state_);
        table().instance_free(instance_);
    }

    lp_status decode(const std::string& body, RecordingCall& call,
                     const std::string& path = "/v1/messages") {
        lp_request_view view{};
        view.struct_size = sizeof view;
        view.body = to_lp(body);
        view.path = to_lp(path);
        return table().decode_request(instance_, state_, &call, &view);
    }
    lp_status encode(int status, const std::string& body, RecordingCall& call) {
        return table().encode_response(instance_, state_, &call, status, to_lp(body));
    }
    lp_status event(const std::string& data, RecordingCall& call) {
        lp_sse_event e{sizeof e, {}, to_lp(data), {}};
        return table().encode_stream_event(instance_, state_, &call, &e);
    }
    lp_status end(RecordingCall& call) { return table().end_stream(instance_, state_, &call); }
    lp_status error(bool in_stream, int status, const std::string& message, RecordingCall& call,
                    bool without_state = false) {
        return table().encode_error(instance_, without_state ? nullptr : state_, &call,
                                    in_stream ? 1 : 0, status, to_lp("server_error"), to_lp(""),
                                    to_lp(message));
    }

  private:
    static const lp_client_api& table() { return api().vtable; }
    void* instance_ = nullptr;
    void* state_ = nullptr;
};

const std::string kRequest =
    R"({"model":"claude-sonnet-4-5","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"Hi"}]})";

std::string chunk(const std::string& delta, const std::string& finish = "null") {
    return R"({"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":)" + delta +
           R"(,"finish_reason":)" + finish + "}]}";
}

}  // namespace

TEST_CASE("anthropic client API: exported as \"anthropic\", native for provider \"anthropic\"") {
    REQUIRE(api().vtable.native_provider != nullptr);
    CHECK(std::string(api().vtable.native_provider) == "anthropic");
    const bool ends_streams = api().vtable.end_stream != nullptr;
    CHECK(ends_streams);
}

TEST_CASE("anthropic client API: decode_request sets the canonical body") {
    Request request;
    RecordingCall call;
    CHECK(request.decode(kRequest, call) == LP_CONTINUE);
    json body = json::parse(call.body);
    CHECK(body["model"] == "claude-sonnet-4-5");
    CHECK(body["stream_options"]["include_usage"] == true);
}

TEST_CASE("anthropic client API: a request it cannot translate fails with the 400 it names") {
    Request request;
    RecordingCall call;
    CHECK(request.decode(R"({"model":"m","messages":[]})", call) == LP_FAILED);
    REQUIRE(call.error());
    CHECK(call.error()->status == 400);
    CHECK(call.error()->message == "max_tokens: Field required");
}

TEST_CASE("anthropic client API: POST .../messages is translated, other paths are not found") {
    for (const char* path : {"/v1/messages", "/v1/messages?beta=true", "/local/v1/messages/"}) {
        Request request;
        RecordingCall call;
        CHECK_MESSAGE(request.decode(kRequest, call, path) == LP_CONTINUE, path);
    }
    for (const char* path :
         {"/v1/messages/count_tokens", "/v1/complete", "/v1/messages/x?a=/messages"}) {
        Request request;
        RecordingCall call;
        CHECK_MESSAGE(request.decode(kRequest, call, path) == LP_FAILED, path);
        REQUIRE(call.error());
        CHECK(call.error()->status == 404);
        CHECK(call.body.empty());
    }
}

TEST_CASE("anthropic client API: encode_response names the client's model") {
    Request request;
    RecordingCall decoded;
    request.decode(kRequest, decoded);
    RecordingCall call;
    CHECK(
        request.encode(
            200,
            R"({"choices":[{"index":0,"message":{"role":"assistant","content":"Hello"},"finish_reason":"stop"}]})",
            call) == LP_CONTINUE);
    json message = json::parse(call.body);
    CHECK(message["model"] == "claude-sonnet-4-5");
    CHECK(message["id"].get<std::string>().starts_with("msg_"));
    CHECK(message["content"][0]["text"] == "Hello");
}

TEST_CASE(
    "anthropic client API: stream events go out named, and a chunk that gives none is dropped") {
    Request request;
    RecordingCall decoded;
    request.decode(kRequest, decoded);
    RecordingCall first;
    CHECK(request.event(chunk(R"({"role":"assistant","content":""})"), first) == LP_CONTINUE);
    REQUIRE(first.events.size() == 1);
    CHECK(first.events[0].first == "message_start");
    CHECK(json::parse(first.events[0].second)["message"]["model"] == "claude-sonnet-4-5");
    RecordingCall text;
    CHECK(request.event(chunk(R"({"content":"Hi"})"), text) == LP_CONTINUE);
    REQUIRE(text.events.size() == 2);
    CHECK(text.events[0].first == "content_block_start");
    CHECK(text.events[1].first == "content_block_delta");
    RecordingCall finish;
    CHECK(request.event(chunk("{}", R"("stop")"), finish) == LP_DROP);
    CHECK(finish.events.empty());
    RecordingCall end;
    CHECK(request.end(end) == LP_CONTINUE);
    REQUIRE(end.events.size() == 3);
    CHECK(end.events[0].first == "content_block_stop");
    CHECK(end.events[1].first == "message_delta");
    CHECK(end.events[2].first == "message_stop");
}

TEST_CASE("anthropic client API: a stream that ends without a finish_reason fails end_stream") {
    Request request;
    RecordingCall decoded;
    request.decode(kRequest, decoded);
    RecordingCall text;
    request.event(chunk(R"({"content":"Hal"})"), text);
    RecordingCall end;
    CHECK(request.end(end) == LP_FAILED);
    REQUIRE(end.error());
    CHECK(end.error()->status == 502);
    CHECK(end.events.empty());
}

TEST_CASE("anthropic client API: errors before a stream are whole Anthropic error answers") {
    Request request;
    RecordingCall call;
    CHECK(request.error(false, 529, "Overloaded", call) == LP_CONTINUE);
    CHECK(call.status == 529);
    CHECK(call.content_type == "application/json");
    CHECK(json::parse(call.body) ==
          json{{"type", "error"},
               {"error", {{"type", "overloaded_error"}, {"message", "Overloaded"}}}});
    CHECK(call.events.empty());

    RecordingCall stateless;
    CHECK(request.error(false, 413, "body too large", stateless, true) == LP_CONTINUE);
    CHECK(stateless.status == 413);
    CHECK(json::parse(stateless.body)["error"]["type"] == "request_too_large");
}

TEST_CASE("anthropic client API: an error mid-stream is one event named error") {
    Request request;
    RecordingCall call;
    CHECK(request.error(true, 502, "upstream went away", call) == LP_CONTINUE);
    REQUIRE(call.events.size() == 1);
    CHECK(call.events[0].first == "error");
    CHECK(json::parse(call.events[0].second) ==
          json{{"type", "error"},
               {"error", {{"type", "api_error"}, {"message", "upstream went away"}}}});
    CHECK(call.status == 0);
}
