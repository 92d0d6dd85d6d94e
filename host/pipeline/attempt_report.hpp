// What one upstream attempt came to, told when it ends: counted in
// llm_proxy_upstream_attempts_total by outcome (the answer's status class, the failure that ended
// it, or the client leaving), and, while the request's trace records, a CLIENT span with the GenAI
// attributes whose context went upstream in traceparent.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "pipeline/retry_schedule.hpp"
#include "runtime/runtime.hpp"
#include "tracing/request_trace.hpp"

namespace llmproxy {

class AttemptReport {
  public:
    // metrics null (metrics off): counts nothing. model: the name the upstream gets.
    AttemptReport(GatewayMetrics* metrics, const RequestTrace& trace, const LlmRuntime& llm,
                  std::string_view model);
    ~AttemptReport();
    AttemptReport(const AttemptReport&) = delete;
    AttemptReport& operator=(const AttemptReport&) = delete;

    // The attempt's span, to name as the parent in the upstream request's traceparent.
    const SpanId& span_id() const { return span_id_; }

    // The answer's head came with this status.
    void head(int status);
    // The attempt failed with error (client_left: while the client was gone, whatever the error).
    void failed(const ApiError& error, bool client_left);
    // The client left before the answer was read to its end.
    void left() { outcome_ = AttemptOutcome::cancelled; }

  private:
    void report();  // counts the attempt, and ends its span

    GatewayMetrics* metrics_;
    const RequestTrace& trace_;
    const LlmRuntime& llm_;
    std::string model_;
    SpanId span_id_{};
    std::chrono::system_clock::time_point start_;
    int status_ = 0;  // the answer's; 0 before its head
    std::string error_;
    AttemptOutcome outcome_ = AttemptOutcome::other;
};

}  // namespace llmproxy
