#include "pipeline/client_api_call.hpp"

#include <spdlog/spdlog.h>

#include "json/json_fields.hpp"
#include "logging/log_text.hpp"
#include "plugins/plugin_invoke.hpp"

namespace llmproxy {

namespace {

HookSite where_of(const ClientApiRuntime& api, const char* hook) {
    return HookSite("client API", api.type->name, hook);
}

// Runs encode_error into call. Returns false (and logs why) when the client API failed.
bool encode_error(const ClientApiRuntime& api, void* state, bool in_stream, const ApiError& error,
                  ErrorCall& call) {
    const auto& vtable = api.type->vtable;
    lp_status status = invoke_hook(api.plugin, call, [&] {
        return vtable.encode_error(api.instance, state, &call, in_stream ? 1 : 0, error.status,
                                   to_lp(error.type), to_lp(error.code), to_lp(error.message));
    });
    if (status == LP_FAILED) {
        spdlog::error("{} failed ({}); the client gets llm-proxy's own form of the error",
                      call.where(), call.error_or_default().message);
        return false;
    }
    return true;
}

}  // namespace

ClientApiCall::ClientApiCall(const ClientApiRuntime& api) : api_(api), vtable_(api.type->vtable) {
    if (!vtable_.request_new)
        return;
    lp_call call(where("request_new"));
    if (invoke_hook(api_.plugin, call, [&] {
            return vtable_.request_new(api_.instance, &call, &state_);
        }) != LP_CONTINUE)
        throw ApiException(call.error_or_default());
}

ClientApiCall::~ClientApiCall() {
    if (vtable_.request_free)
        invoke_plugin(api_.plugin, "request_free",
                      [&] { vtable_.request_free(api_.instance, state_); });
}

HookSite ClientApiCall::where(const char* hook) const {
    return where_of(api_, hook);
}

lp_status ClientApiCall::decode(RequestCall& call, const lp_request_view& request) {
    lp_status status = invoke_hook(api_.plugin, call, [&] {
        return vtable_.decode_request(api_.instance, state_, &call, &request);
    });
    if (status == LP_FAILED)
        throw ApiException(call.error_or_default());
    if (status == LP_RESPONDED && call.answer)
        return LP_RESPONDED;
    if (!call.body_replaced())
        throw ApiException(ApiError::internal(
            call.where() + " gave the request no canonical form (set_body was not called)"));
    return LP_CONTINUE;
}

void ClientApiCall::encode(Answer& answer) {
    ResponseCall call(where("encode_response"), answer, nullptr);
    const std::string body = answer.body;  // stable while the hook may replace the answer
    if (invoke_hook(api_.plugin, call, [&] {
            return vtable_.encode_response(api_.instance, state_, &call, answer.status,
                                           to_lp(body));
        }) == LP_FAILED)
        throw ApiException(call.error_or_default());
}

void ClientApiCall::encode(StreamEvent& event, std::vector<StreamEvent>& out) {
    StreamCall call(where("encode_stream_event"), event.data, &emitted_);
    lp_sse_event e{sizeof(lp_sse_event), to_lp(event.name), to_lp(event.data), {}};
    lp_status status = invoke_hook(api_.plugin, call, [&] {
        return vtable_.encode_stream_event(api_.instance, state_, &call, &e);
    });
    call.deliver(status, event.name, event.data, out);
}

void ClientApiCall::end(std::vector<StreamEvent>& out) {
    if (!vtable_.end_stream)
        return;
    std::string no_event;
    StreamCall call(where("end_stream"), no_event);
    lp_status status = invoke_hook(
        api_.plugin, call, [&] { return vtable_.end_stream(api_.instance, state_, &call); });
    call.emitted.check(call);
    for (auto& ev : call.emitted.events)
        out.push_back(std::move(ev));
    if (status == LP_FAILED)
        throw ApiException(call.error_or_default());
}

std::optional<Answer> client_error_answer(const ClientApiRuntime& api, void* state,
                                          const ApiError& error) {
    ErrorCall call(where_of(api, "encode_error"));
    if (!encode_error(api, state, false, error, call))
        return std::nullopt;
    return std::move(call.answer);
}

std::vector<StreamEvent> client_error_events(const ClientApiRuntime& api, void* state,
                                             const ApiError& error) {
    ErrorCall call(where_of(api, "encode_error"));
    if (!encode_error(api, state, true, error, call))
        return {};
    try {
        call.emitted.check(call);
    } catch (const ApiException& e) {
        spdlog::error("{}; the client gets llm-proxy's own error event", e.what());
        return {};
    }
    return std::move(call.emitted.events);
}

ApiError canonical_error(const Answer& answer) {
    auto field = [&](const char* pointer) {
        return json_fields::get_string(answer.body, pointer).value_or("");
    };
    ApiError error{answer.status, field("/error/type"), field("/error/code"),
                   field("/error/message")};
    if (error.type.empty())
        error.type = answer.status >= 500 ? "server_error" : "invalid_request_error";
    if (error.message.empty())
        error.message = "the upstream answered " + std::to_string(answer.status) +
                        (answer.body.empty() ? "" : ": " + printable(answer.body, 512));
    return error;
}

}  // namespace llmproxy
