#include "pipeline/provider_call.hpp"

#include "plugins/plugin_invoke.hpp"

namespace llmproxy {

ProviderCall::ProviderCall(const LlmRuntime& llm) : llm_(llm), vtable_(llm.provider->vtable) {
    if (!vtable_.request_new)
        return;
    lp_call call(where("request_new"));
    if (invoke_hook(llm_.plugin, call, [&] {
            return vtable_.request_new(llm_.instance, &call, &state_);
        }) != LP_CONTINUE)
        throw ApiException(call.error_or_default());
}

ProviderCall::~ProviderCall() {
    if (vtable_.request_free)
        invoke_plugin(llm_.plugin, "request_free",
                      [&] { vtable_.request_free(llm_.instance, state_); });
}

HookSite ProviderCall::where(const char* hook) const {
    return HookSite("provider", llm_.config->provider, hook);
}

lp_status ProviderCall::encode(RequestCall& call, const lp_request_view& request) {
    lp_status status = invoke_hook(llm_.plugin, call, [&] {
        return vtable_.encode_request(llm_.instance, state_, &call, &request);
    });
    if (call.refused_value())
        throw ApiException(*call.refused_value());
    if (status == LP_FAILED)
        throw ApiException(call.error_or_default());
    return status == LP_RESPONDED ? LP_RESPONDED : LP_CONTINUE;
}

void ProviderCall::decode(Answer& answer, SideCaller* side_caller) {
    if (!vtable_.decode_response)
        return;
    ResponseCall call(where("decode_response"), answer, side_caller);
    const std::string body = answer.body;  // stable while the hook may replace the answer
    if (invoke_hook(llm_.plugin, call, [&] {
            return vtable_.decode_response(llm_.instance, state_, &call, answer.status,
                                           to_lp(body));
        }) == LP_FAILED)
        throw ApiException(call.error_or_default());
}

void ProviderCall::decode(const SseEvent& event, std::vector<StreamEvent>& out) {
    if (!vtable_.decode_stream_event) {
        out.push_back({event.event, event.data});
        return;
    }
    std::string& data = event_data_;  // what the hook's field edits change
    data.assign(event.data);
    StreamCall call(where("decode_stream_event"), data, &emitted_);
    lp_sse_event e{sizeof(lp_sse_event), to_lp(event.event), to_lp(event.data), to_lp(event.id)};
    lp_status status = invoke_hook(llm_.plugin, call, [&] {
        return vtable_.decode_stream_event(llm_.instance, state_, &call, &e);
    });
    call.deliver(status, event.event, data, out);
}

void ProviderCall::end(std::vector<StreamEvent>& out) {
    if (!vtable_.end_stream)
        return;
    std::string no_event;
    StreamCall call(where("end_stream"), no_event);
    lp_status status = invoke_hook(
        llm_.plugin, call, [&] { return vtable_.end_stream(llm_.instance, state_, &call); });
    call.emitted.check(call);
    for (auto& ev : call.emitted.events)
        out.push_back(std::move(ev));
    if (status == LP_FAILED)
        throw ApiException(call.error_or_default());
}

}  // namespace llmproxy
