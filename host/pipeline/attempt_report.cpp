#include "pipeline/attempt_report.hpp"

#include "json/json_fields.hpp"

namespace llmproxy {

AttemptReport::AttemptReport(GatewayMetrics* metrics, const RequestTrace& trace,
                             const LlmRuntime& llm, std::string_view model)
    : metrics_(metrics), trace_(trace), llm_(llm) {
    if (trace_.recording()) {
        model_ = model;
        span_id_ = new_span_id();
        start_ = std::chrono::system_clock::now();
    }
}

AttemptReport::~AttemptReport() {
    // A destructor must not throw (it may run while an error unwinds): what fails is lost.
    try {
        report();
    } catch (const std::exception&) {
    }
}

void AttemptReport::report() {
    if (metrics_)
        metrics_->attempt_done(llm_.index, outcome_);
    if (!trace_.recording())
        return;
    const std::string operation(operation_name(llm_.config->endpoint));
    Span span = trace_.child_span(span_id_, operation + ' ' + model_, start_);
    span.set("gen_ai.operation.name", operation);
    span.set("gen_ai.provider.name", llm_.config->provider);
    span.set("gen_ai.request.model", model_);
    span.set("llm_proxy.llm", llm_.config->name);
    span.set("llm_proxy.outcome", std::string(outcome_name(outcome_)));
    if (status_ > 0)
        span.set("http.response.status_code", std::int64_t{status_});
    if (outcome_ != AttemptOutcome::answered) {
        span.error = true;
        span.status_message = error_;
        span.set("error.type",
                 status_ >= 400 ? std::to_string(status_) : std::string(outcome_name(outcome_)));
    }
    trace_.finish(std::move(span));
}

void AttemptReport::head(int status) {
    status_ = status;
    outcome_ = status < 400    ? AttemptOutcome::answered
               : status == 408 ? AttemptOutcome::timeout_408
               : status == 429 ? AttemptOutcome::rate_limited
               : status >= 500 ? AttemptOutcome::server_error
                               : AttemptOutcome::client_error;
}

void AttemptReport::failed(const ApiError& error, bool client_left) {
    if (trace_.recording())
        error_ = json_fields::utf8_prefix(error.message, kMaxSpanText);
    if (client_left)
        return left();
    const auto failure = attempt_failure(error);
    if (!failure) {
        outcome_ = AttemptOutcome::other;
        return;
    }
    switch (failure->kind) {
        case AttemptFailure::Kind::connect:
            outcome_ = AttemptOutcome::connect;
            break;
        case AttemptFailure::Kind::broken:
            outcome_ = AttemptOutcome::broken;
            break;
        case AttemptFailure::Kind::timeout:
            outcome_ = AttemptOutcome::timeout;
            break;
        case AttemptFailure::Kind::status:
            head(failure->status);
            break;
    }
}

}  // namespace llmproxy
