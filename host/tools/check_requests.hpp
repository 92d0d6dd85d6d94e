// The requests `llm-proxy plugin check` puts through a plugin's hooks, the way the request flow
// runs them, with the checker playing client and upstream.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pipeline/hook_calls.hpp"
#include "runtime/runtime.hpp"
#include "tools/check_report.hpp"

namespace llmproxy {

// What the checker sends and what it answers as the upstream, for one kind of endpoint. The
// upstream's part is in OpenAI's format; a translating provider's check replaces it with its
// upstream's own (--upstream-answer, --upstream-stream).
struct Sample {
    Endpoint endpoint;
    std::string path;     // the client's request target
    std::string request;  // the client's body
    std::string answer;   // the upstream's whole answer
    std::string stream;   // the upstream's stream (chat only)
};

// The chat sample's stream has CRLF and LF line ends, a comment and a multi-line event.
const Sample& chat_sample();
const Sample& embedding_sample();

// One request through a provider: request_new, encode_request, then (unless it answered) the
// upstream answer, whole or the sample's stream, through the decode hooks; request_free. Throws
// when a hook fails.
void provider_request(const LlmRuntime& llm, const Sample& sample, bool stream, const Trace& trace);

// The canonical events a provider makes of an upstream stream fed in these pieces, each with a
// top-level "created" time set to 0.
std::vector<StreamEvent> decode_stream(const LlmRuntime& llm,
                                       const std::vector<std::string_view>& pieces);

// Encodes a request without an upstream answer after it: what the request flow does when the
// upstream fails first. A refusal by the hook is not an error here.
void provider_request_cut_before_answer(const LlmRuntime& llm, const Sample& sample);

// Feeds half of the sample's stream and stops: a client that left mid-stream.
void provider_request_cut_mid_stream(const LlmRuntime& llm, const Sample& sample);

// An upstream error answer through decode_response; returns what the client would get.
Answer provider_error_answer(const LlmRuntime& llm, const Trace& trace);

// One request through every hook of a processor: request_new, on_request, on_response (whole)
// or on_stream_event per event (stream), on_finish, request_free. Throws when a hook fails
// without saying why, lets an exception escape, or leaves a body that is not JSON; a hook may
// refuse a request with set_error (a guard does).
void processor_request(const ProcessorRuntime& proc, const Sample& sample, bool stream,
                       const Trace& trace);

}  // namespace llmproxy
