// One API request from the moment its body has been read: the route's processors and provider
// run as the processor ABI documents (requests in route order, answers in reverse), the upstream is
// called, and the answer is written whole or as a relayed event stream.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "access/key_file.hpp"
#include "http/hang_up_watch.hpp"
#include "http/http_request.hpp"
#include "http/http_response.hpp"
#include "loop/cancellation.hpp"
#include "runtime/runtime.hpp"
#include "tracing/request_trace.hpp"

namespace llmproxy {

struct FlowOutcome {
    int status = 0;           // what the client got (200 for a stream that started)
    int upstream_status = 0;  // 0 when no upstream answer arrived
    bool streamed = false;
    bool client_gone = false;
    std::string error;  // empty on success
    // llm-proxy's own time until the answer's head went out, upstream waits excluded; -1 when
    // no answer was sent (an error before the flow answered).
    double overhead_ms = -1;
    int attempts = 0;                 // upstream attempts made (0: answered before any)
    int fallbacks = 0;                // moves to a fallback model among them
    const LlmRuntime* llm = nullptr;  // the llm of the last attempt; null: none
    std::string model;                // the model the client asked for
    double first_byte_ms = -1;        // until the answer's head went out; -1: none
    std::int64_t input_tokens = -1, output_tokens = -1;  // as the answer said; -1: it did not
};

// Never throws: every failure becomes an error response, or an SSE error event once a stream has
// started. watch is the client connection's: a departing client cancels the upstream call at once
// through cancel. cancel with Reason::shutting_down ends the request with a 503 shutting_down
// error (an error event when its stream has started). request_id goes upstream as x-request-id
// (the client's own is not forwarded), side calls included; each upstream attempt is a span of
// trace (when it records), whose context goes upstream in traceparent. key: the client key the
// request was authenticated with (null on a route without auth), whose models are checked (403)
// and whose id and metadata the hooks see.
FlowOutcome run_request_flow(Runtime& runtime, const RouteRuntime& route, std::string body,
                             const HttpRequest& request, const std::string& request_id,
                             const RequestTrace& trace, HangUpWatch& watch, HttpResponse& response,
                             std::shared_ptr<Cancellation> cancel, const ClientKey* key = nullptr);

}  // namespace llmproxy
