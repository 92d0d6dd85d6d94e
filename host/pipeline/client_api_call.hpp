// One request's exchange with the client API of its route (sdk/include/llm_proxy/client_api.h):
// its per-request state (request_new, and request_free exactly once) and its codec hooks, with
// failures turned into ApiException.
#pragma once

#include <optional>
#include <vector>

#include "http/api_error.hpp"
#include "pipeline/hook_calls.hpp"
#include "runtime/runtime.hpp"

namespace llmproxy {

class ClientApiCall {
  public:
    // Calls request_new. Throws ApiException when it fails.
    explicit ClientApiCall(const ClientApiRuntime& api);
    ~ClientApiCall();  // request_free
    ClientApiCall(const ClientApiCall&) = delete;
    ClientApiCall& operator=(const ClientApiCall&) = delete;

    // decode_request: the client's body (call's body) becomes a canonical request in place.
    // Returns LP_CONTINUE, or LP_RESPONDED when the hook answered itself (call.answer, in the
    // client's format). Throws ApiException when the hook failed or left the body as it was.
    lp_status decode(RequestCall& call, const lp_request_view& request);
    // encode_response: a whole canonical answer (status below 400) into the client's, in place.
    void encode(Answer& answer);
    // encode_stream_event: the client's events for one canonical event, appended to out.
    void encode(StreamEvent& event, std::vector<StreamEvent>& out);
    // end_stream: the events that close the client's stream, appended to out.
    void end(std::vector<StreamEvent>& out);

    void* state() const { return state_; }
    HookSite where(const char* hook) const;

  private:
    const ClientApiRuntime& api_;
    const lp_client_api& vtable_;
    void* state_ = nullptr;
    std::vector<StreamEvent> emitted_;  // lent to each stream hook (StreamCall's spare)
};

// encode_error: a failure as the client API shapes it for its clients. state is the request's
// (null before there is one). Before a stream has started: the whole error answer, or nullopt when
// the client API gave none (the host's OpenAI-style error goes out then). Never throws.
std::optional<Answer> client_error_answer(const ClientApiRuntime& api, void* state,
                                          const ApiError& error);
// Once a stream has started: the events that end it (empty: the host's error event goes out).
std::vector<StreamEvent> client_error_events(const ClientApiRuntime& api, void* state,
                                             const ApiError& error);

// The canonical (OpenAI-style) error of an error answer: its body's error object, or a
// description of the status when the body has none.
ApiError canonical_error(const Answer& answer);

}  // namespace llmproxy
