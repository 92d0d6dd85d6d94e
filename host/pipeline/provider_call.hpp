// One exchange with a provider plugin: its per-request state (request_new, and request_free
// exactly once) and its codec hooks, with failures turned into ApiException.
#pragma once

#include <string>
#include <vector>

#include "pipeline/hook_calls.hpp"
#include "runtime/runtime.hpp"
#include "streaming/sse_parser.hpp"

namespace llmproxy {

class ProviderCall {
  public:
    // Calls request_new. Throws ApiException when it fails.
    explicit ProviderCall(const LlmRuntime& llm);
    ~ProviderCall();  // request_free
    ProviderCall(const ProviderCall&) = delete;
    ProviderCall& operator=(const ProviderCall&) = delete;

    // encode_request into call (upstream shape, or a local answer). Returns LP_CONTINUE or
    // LP_RESPONDED; throws ApiException on LP_FAILED, and when the hook set a method or path
    // that cannot go on a request line.
    lp_status encode(RequestCall& call, const lp_request_view& request);
    // decode_response on a whole upstream answer, in place.
    void decode(Answer& answer, SideCaller* side_caller);
    // decode_stream_event: the canonical events for one upstream event, appended to out (an
    // event passed on keeps its name).
    void decode(const SseEvent& event, std::vector<StreamEvent>& out);
    // end_stream: final events appended to out; throws after appending when it fails.
    void end(std::vector<StreamEvent>& out);

    HookSite where(const char* hook) const;

  private:
    const LlmRuntime& llm_;
    const lp_provider& vtable_;
    void* state_ = nullptr;
    std::string event_data_;            // the event a stream hook sees, reused
    std::vector<StreamEvent> emitted_;  // lent to each stream hook (StreamCall's spare)
};

}  // namespace llmproxy
