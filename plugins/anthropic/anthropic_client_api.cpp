#include "anthropic/anthropic_client_api.hpp"

#include "anthropic/client_answer_mapping.hpp"
#include "anthropic/client_error_encoder.hpp"
#include "anthropic/client_request_decoder.hpp"
#include "anthropic/client_response_encoder.hpp"
#include "anthropic/client_stream_encoder.hpp"
#include "anthropic/message_id.hpp"

namespace anthropic {

namespace {

struct ClientRequest : llm_proxy::RequestState {
    ReplyFacts facts;
    ClientStreamEncoder stream{facts};
};

ClientRequest& request_of(llm_proxy::RequestState* state) {
    return *static_cast<ClientRequest*>(state);
}

// Only POST .../messages is translated (the SDK may add "?beta=true"): other endpoints of the
// Messages API, such as .../messages/count_tokens, have no canonical equivalent.
void check_messages_path(std::string_view target) {
    std::string_view path = target.substr(0, target.find('?'));
    if (path.ends_with('/'))
        path.remove_suffix(1);
    if (!path.ends_with("/messages"))
        throw llm_proxy::Error("there is no " + std::string(path) +
                                   " here: this route translates POST .../v1/messages only",
                               404, "not_found_error", "unknown_endpoint");
}

void emit(llm_proxy::Call& call, std::span<const ClientEvent> events) {
    for (const ClientEvent& event : events)
        call.emit_event(event.name, event.data);
}

}  // namespace

std::unique_ptr<llm_proxy::RequestState> AnthropicClientApi::new_request() {
    auto request = std::make_unique<ClientRequest>();
    request->facts.message_id = new_message_id();
    return request;
}

lp_status AnthropicClientApi::decode_request(llm_proxy::Call& call, const lp_request_view& request,
                                             llm_proxy::RequestState* state) {
    check_messages_path(llm_proxy::view(request.path));
    DecodedRequest decoded = decode_client_request(llm_proxy::view(request.body));
    ReplyFacts& facts = request_of(state).facts;
    facts.model = std::move(decoded.model);
    facts.tool_names = std::move(decoded.tool_names);
    call.set_body(decoded.body);
    return LP_CONTINUE;
}

lp_status AnthropicClientApi::encode_response(llm_proxy::Call& call, int, std::string_view body,
                                              llm_proxy::RequestState* state) {
    call.set_body(encode_client_response(body, request_of(state).facts));
    return LP_CONTINUE;
}

lp_status AnthropicClientApi::encode_stream_event(llm_proxy::Call& call, const lp_sse_event& event,
                                                  llm_proxy::RequestState* state) {
    auto events = request_of(state).stream.encode(llm_proxy::view(event.data));
    emit(call, events);
    return events.empty() ? LP_DROP : LP_CONTINUE;  // emitted events replace the chunk
}

lp_status AnthropicClientApi::end_stream(llm_proxy::Call& call, llm_proxy::RequestState* state) {
    emit(call, request_of(state).stream.finish());
    return LP_CONTINUE;
}

lp_status AnthropicClientApi::encode_error(llm_proxy::Call& call, bool in_stream, int status,
                                           std::string_view, std::string_view,
                                           std::string_view message, llm_proxy::RequestState*) {
    const std::string body = client_error_body(status, message);
    if (in_stream)
        call.emit_event(kErrorEvent, body);
    else
        call.respond(status, "application/json", body);
    return LP_CONTINUE;
}

}  // namespace anthropic
