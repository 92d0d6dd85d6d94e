#include "pipeline/request_flow.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <optional>
#include <random>

#include "access/authentication.hpp"
#include "balance/attempt_record.hpp"
#include "http/header_rules.hpp"
#include "http/responses.hpp"
#include "json/json_fields.hpp"
#include "logging/log_context.hpp"
#include "logging/log_text.hpp"
#include "pipeline/attempt_plan.hpp"
#include "pipeline/attempt_report.hpp"
#include "pipeline/client_api_call.hpp"
#include "pipeline/first_content.hpp"
#include "pipeline/hook_calls.hpp"
#include "pipeline/provider_call.hpp"
#include "pipeline/request_facts.hpp"
#include "pipeline/request_limits.hpp"
#include "pipeline/retry_schedule.hpp"
#include "plugins/plugin_invoke.hpp"
#include "streaming/sse_parser.hpp"

namespace llmproxy {

namespace {

using Clock = std::chrono::steady_clock;

// A non-streaming upstream answer larger than this is refused rather than held in memory.
constexpr std::size_t kMaxUpstreamAnswerBytes = 256u << 20;
// A held stream head goes out once this many bytes of events without content have come, so that
// an upstream sending empty chunks cannot make the host hold them without bound.
constexpr std::size_t kMostHeldBytes = 64u << 10;
// A failed attempt's answer is read up to this (for the log, and so that its connection can be
// kept); a longer one closes its connection.
constexpr std::size_t kMaxDiscardedAnswerBytes = 64u << 10;

bool is_event_stream(std::string_view content_type) {
    return content_type.substr(0, 17) == "text/event-stream";
}

double ms_between(Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double, std::milli>(to - from).count();
}

// Token usage as an answer reports it: in OpenAI's "usage", or in Anthropic's (a route relaying
// Anthropic's API natively: input_tokens with the cache's tokens, and output_tokens, in a whole
// message, its stream's message_start and its message_delta events). A later report replaces an
// earlier one.
struct Usage {
    int64_t prompt = -1, completion = -1, total = -1;

    void read(std::string_view json) {
        std::optional<std::string_view> usage = json_fields::get(json, "/usage");
        // Anthropic's message_start: its input tokens count, its output ones are provisional.
        bool input_only = false;
        if (!usage || !usage->starts_with('{')) {
            usage = json_fields::get(json, "/message/usage");
            input_only = true;
        }
        if (!usage || !usage->starts_with('{'))
            return;
        auto number = [&](const char* pointer) -> std::optional<int64_t> {
            if (auto text = json_fields::get(*usage, pointer)) {
                int64_t value = 0;
                auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
                if (ec == std::errc() && end == text->data() + text->size() && value >= 0)
                    return std::min<int64_t>(value, 1'000'000'000'000LL);  // sums cannot overflow
            }
            return std::nullopt;
        };
        if (auto found = number("/prompt_tokens")) {
            prompt = *found;
            completion = number("/completion_tokens").value_or(completion);
            total = number("/total_tokens").value_or(total);
            return;
        }
        if (auto input = number("/input_tokens")) {
            prompt = *input + number("/cache_creation_input_tokens").value_or(0) +
                     number("/cache_read_input_tokens").value_or(0);
            total = -1;
        }
        if (auto output = number("/output_tokens"); output && !input_only) {
            completion = *output;
            total = -1;
        }
    }
};

// What on_finish needs, copied so that it can run after the request's objects are gone.
struct Finish {
    const RouteRuntime* route;
    std::vector<void*> states;
    std::size_t created;
    FlowOutcome outcome;
    double duration_ms;
    Usage usage;
    std::string upstream_model;  // of the last attempt
    std::string request_id;      // named in the hooks' log lines

    void run() const {
        RequestLogScope log_scope(&request_id);
        lp_request_outcome o{sizeof(lp_request_outcome),
                             outcome.status,
                             outcome.upstream_status,
                             outcome.streamed ? 1 : 0,
                             outcome.client_gone ? 1 : 0,
                             duration_ms,
                             outcome.first_byte_ms,
                             to_lp(outcome.error),
                             usage.prompt,
                             usage.completion,
                             usage.total,
                             outcome.attempts,
                             outcome.llm ? to_lp(outcome.llm->config->name) : lp_str{},
                             to_lp(upstream_model)};
        for (std::size_t i = 0; i < created; ++i) {
            const auto* proc = route->processors[i];
            const auto& vtable = proc->type->vtable;
            if (vtable.on_finish)
                invoke_plugin(proc->plugin, "on_finish",
                              [&] { vtable.on_finish(proc->instance, states[i], &o); });
            if (vtable.request_free)
                invoke_plugin(proc->plugin, "request_free",
                              [&] { vtable.request_free(proc->instance, states[i]); });
        }
    }
};

// A key's limits when the request has no key.
const Limits kNoLimits;

class RequestFlow : public SideCaller {
  public:
    RequestFlow(Runtime& runtime, const RouteRuntime& route, std::string body,
                const HttpRequest& request, const std::string& request_id,
                const RequestTrace& trace, HangUpWatch& watch, HttpResponse& response,
                std::shared_ptr<Cancellation> cancel, const ClientKey* key)
        : runtime_(runtime),
          route_(&route),
          body_(std::move(body)),
          request_(request),
          request_id_(request_id),
          trace_(trace),
          response_(response),
          watch_(watch),
          cancel_(std::move(cancel)),
          key_(key),
          processor_states_(route.processors.size(), nullptr) {}

    ~RequestFlow() override = default;
    RequestFlow(const RequestFlow&) = delete;
    RequestFlow& operator=(const RequestFlow&) = delete;

    FlowOutcome run() {
        try {
            serve();
        } catch (const ApiException& e) {
            fail(e.error());
        } catch (const std::exception& e) {
            fail(ApiError::internal(std::string("unexpected failure: ") + e.what()));
        }
        if (watching_)
            watch_.set(nullptr);
        if (GatewayMetrics* metrics = runtime_.metrics(); metrics && stream_)
            metrics->stream_open(-1);
        provider_.reset();
        outcome_.client_gone = outcome_.client_gone || cancel_->cancelled();
        outcome_.attempts = plan_ ? plan_->attempts() : 0;
        outcome_.fallbacks = plan_ ? plan_->fallbacks() : 0;
        if (llm_ && outcome_.attempts > 0)
            outcome_.llm = llm_;
        outcome_.first_byte_ms = first_byte_ ? ms_between(started_, *first_byte_) : -1.0;
        outcome_.input_tokens = usage_.prompt;
        outcome_.output_tokens = usage_.completion;
        if (limits_) {
            settle_tokens(*limits_, false);
            limits_.reset();  // concurrent places are given back once the answer has gone
        }
        auto now = Clock::now();
        Finish finish{route_,
                      std::move(processor_states_),
                      processors_created_,
                      outcome_,
                      ms_between(started_, now),
                      usage_,
                      outcome_.attempts > 0 ? facts_.model : std::string(),
                      request_id_};
        if (finish.created > 0)
            // The job holds the runtime (when shared-owned): a reload may drop it meanwhile.
            runtime_.finish_queue().submit(
                [finish = std::move(finish), runtime = runtime_.weak_from_this().lock()] {
                    finish.run();
                });
        return outcome_;
    }

    std::optional<Answer> call_llm(std::string_view llm_name, std::string body,
                                   lp_call& call) override {
        const LlmRuntime* llm = runtime_.llm(llm_name);
        try {
            if (!llm)
                throw ApiException(ApiError::internal(call.where() + " asked for [llm." +
                                                      std::string(llm_name) +
                                                      "], which is not configured"));
            RequestFacts facts = scan_request(body, llm->config->endpoint);
            if (facts.stream)
                throw ApiException(ApiError::bad_request(
                    "side_call_stream", call.where() + ": side calls cannot stream"));
            return side_call(*llm, body, facts);
        } catch (const ApiException& e) {
            const ApiError& error = e.error();
            call.set_error(
                error.status, error.type, error.code,
                "side call to [llm." + std::string(llm_name) + "] failed: " + error.message);
            return std::nullopt;
        }
    }

  private:
    void serve() {
        for (const auto& [name, value] : request_.headers)
            headers_.push_back({to_lp(name), to_lp(value)});
        if (route_->api && !route_->native && translate_request() == LP_RESPONDED)
            return;
        facts_ = scan_request(body_, route_->endpoint, &body_index_);
        // As the client asked, before processors or deployments; a name no configuration takes
        // (longer than kMaxModelName) is cut there, so spans and log lines stay small.
        outcome_.model = json_fields::utf8_prefix(facts_.model, kMaxModelName);
        choose_target();
        check_allowed();
        check_token();
        admit_limits();
        create_processor_states();
        for (std::size_t i = 0; i < route_->processors.size(); ++i) {
            const auto* proc = route_->processors[i];
            if (!proc->type->vtable.on_request)
                continue;
            RequestCall call(HookSite("processor", proc->config->name, "on_request"), body_,
                             nullptr, this, &body_index_);
            lp_request_view view = view_of(body_, facts_, llm_);
            lp_status status = invoke_hook(proc->plugin, call, [&] {
                return proc->type->vtable.on_request(proc->instance, processor_states_[i], &call,
                                                     &view);
            });
            if (status == LP_FAILED)
                throw ApiException(call.error_or_default());
            if (status == LP_RESPONDED)
                return answer_locally(call, i);
            refresh_facts(call);
        }
        call_upstream();
    }

    // The rate limits of the request's key and route (none: nothing to do); see RequestLimits.
    // With a token limit here or on the request's first llm, a stream is asked for its usage,
    // which the client then does not see unless it asked too.
    void admit_limits() {
        if ((key_ && key_->limits.any()) || route_->config->limits.any())
            RequestLimits::admit(
                limits_, runtime_.limits(),
                {{key_ ? std::string_view(key_->limit_holder) : std::string_view(),
                  key_ ? &key_->limits : &kNoLimits},
                 {route_->limit_holder, &route_->config->limits}},
                [&] { return usage_estimate(body_, facts_.max_tokens, nullptr, facts_.model); },
                &response_, epoch_ms(), runtime_.metrics());
        if (((limits_ && limits_->counts_usage()) || counts_usage(llm_->config->limits)) &&
            facts_.stream && !route_->native && route_->endpoint == Endpoint::chat)
            ask_for_stream_usage();
    }

    // The limits of the attempt's llm, charged for the attempt (none: nothing to do). A refusal
    // (LimitRefused) is the attempt's failure as a 429 would be, without the deployment's health
    // suffering: another deployment or a fallback may take the request (attempt()).
    void admit_attempt_limits(std::optional<RequestLimits>& limits) {
        if (llm_->config->limits.any())
            RequestLimits::admit(
                limits, runtime_.limits(), {{llm_->limit_holder, &llm_->config->limits}},
                [&] {  // after the provider's encode, which may have rewritten the body
                    return usage_estimate(body_, max_tokens_in(body_), &*plan_, facts_.model);
                },
                nullptr, epoch_ms(), runtime_.metrics());
    }

    // What a body may use, for the limits of tokens and their cost: its prompt, and its
    // max_tokens as read from it, priced as `plan`'s attempt with `model` is (price_for).
    UsageEstimate usage_estimate(std::string_view body, std::optional<std::int64_t> max_tokens,
                                 const AttemptPlan* plan, std::string_view model) const {
        UsageEstimate estimate = estimated_usage(body, max_tokens);
        estimate.model = model;
        estimate.price = price_for(plan, model);
        return estimate;
    }

    // The tokens the request (or its attempt: attempt_only) used correct a reservation: the
    // usage its answer reported; none when no upstream was asked or it answered with an error
    // (nothing billed); the reservation when nothing says (a timeout, a client that left, a
    // stream without usage).
    void settle_tokens(RequestLimits& limits, bool attempt_only) const {
        if (const auto use = token_use(usage_))
            limits.used(*use, price_for(plan_ ? &*plan_ : nullptr, facts_.model), epoch_ms());
        else if ((!attempt_only && !sent_upstream_) || outcome_.upstream_status >= 400)
            limits.used({}, nullptr, epoch_ms());
    }

    // What a usage report says was used; nullopt when it says nothing. Usage caps each figure:
    // sums cannot overflow. A total beyond input and output (an upstream counting more than it
    // splits) is priced as output.
    static std::optional<TokenUse> token_use(const Usage& usage) {
        if (usage.prompt >= 0 && usage.completion >= 0)
            return TokenUse{usage.prompt, std::max(usage.completion, usage.total - usage.prompt)};
        if (usage.total >= 0)
            return TokenUse{0, usage.total};
        return std::nullopt;
    }

    // A side call's answer, as its usage says, is charged to its llm's limits (settled) and to
    // the request's own token and cost limits (added: the request's client caused it).
    // A model with no price adds no cost.
    void charge_side_call(const Answer& answer, const AttemptPlan& plan, std::string_view model,
                          std::optional<RequestLimits>& llm_limits) {
        Usage usage;
        usage.read(answer.body);
        const std::optional<TokenUse> use = token_use(usage);
        if (!use)
            return;  // the reservations stand
        const Price* price = price_for(&plan, model);
        if (llm_limits)
            llm_limits->used(*use, price, epoch_ms());
        if (limits_)
            limits_->also_used(*use, price, epoch_ms());
    }

    // The price of the model an attempt of `plan` (null: none made yet) asks for, sending
    // `model`: its public model's (a fallback's own), else its deployment's name for it upstream,
    // else `model`'s; null when none has one.
    const Price* price_for(const AttemptPlan* plan, std::string_view model) const {
        const Config& config = runtime_.config();
        if (plan && plan->model())
            if (const Price* price = config.price_of(plan->model()->config->name))
                return price;
        if (const DeploymentRuntime* deployment = plan ? plan->deployment() : nullptr)
            if (const Price* price = config.price_of(deployment->config->model))
                return price;
        return config.price_of(model);
    }

    // stream_options.include_usage = true upstream, unless the client asked for it already.
    void ask_for_stream_usage() {
        if (facts_.include_usage)
            return;
        constexpr std::string_view kAsked = R"({"include_usage":true})";
        std::string error;
        if (!facts_.has_stream_options)  // most requests: it goes at the end, with no search
            json_fields::append_member(body_, "stream_options", kAsked, &body_index_);
        else if (json_fields::get(body_, "/stream_options", &body_index_)
                     .value_or("")
                     .starts_with('{'))
            error = json_fields::edit(body_, json_fields::Edit::add,
                                      "/stream_options/include_usage", "true", &body_index_);
        else  // null, or not options at all: replaced
            error = json_fields::edit(body_, json_fields::Edit::add, "/stream_options", kAsked,
                                      &body_index_);
        if (!error.empty()) {
            spdlog::debug("limits: cannot ask the upstream for the stream's usage: {}", error);
            return;
        }
        hide_usage_chunk_ = true;
        facts_.has_stream_options = facts_.include_usage = true;
    }

    // The upstream's answer headers that go on to the client. Under llm-proxy's own limits its
    // x-ratelimit-* headers stay behind: they describe the gateway's upstream key, shared by
    // every client, and the client's own standing is in llm-proxy's.
    HeaderList headers_for_client(const UpstreamResponse& upstream) const {
        HeaderList headers = response_headers_for_client(upstream.headers());
        if (limits_)
            std::erase_if(headers, [](const auto& header) {
                return header.first.size() > 12 &&
                       equals_ignoring_case(std::string_view(header.first).substr(0, 12),
                                            "x-ratelimit-");
            });
        return headers;
    }

    // The usage-only chunk a stream ends with when include_usage was asked for: no choice, and a
    // usage object.
    static bool is_usage_chunk(std::string_view data) {
        return json_fields::get(data, "/usage").value_or("").starts_with('{') &&
               !json_fields::get(data, "/choices/0");
    }

    void check_token() const {
        if (llm_->token_missing)
            throw ApiException({500, "server_error", "missing_api_key",
                                "llm '" + llm_->config->name + "' needs the environment variable " +
                                    llm_->config->token_env +
                                    " (its token_env), which is not set"});
    }

    // Attempts, each from the request as the processors left it, as the plan orders them: retries
    // on the target, then its fallbacks, until one answers or a failure goes to the client.
    void call_upstream() {
        // The request as the processors left it, kept only when another attempt may follow.
        std::optional<std::pair<std::string, RequestFacts>> kept;
        plan_->start_attempt();
        if (plan_->may_continue())
            kept.emplace(body_, facts_);
        for (;; plan_->start_attempt()) {
            Outcome outcome = attempt();
            if (outcome == Outcome::answered)
                return;
            // A client that left gets no further attempt (pause() returns at once then).
            if (!cancel_->pause(outcome == Outcome::retry ? wait_ms_ : 0))
                throw ApiException(ApiError::client_closed());  // fail() tells why
            if (outcome == Outcome::retry && wait_ms_ > 0)
                plan_->redraw();
            body_ = kept->first;
            body_index_.clear();  // it described the attempt's body
            facts_ = kept->second;
            follow_plan();
            check_token();
            check_allowed();  // the next llm may not stream
        }
    }

    enum class Outcome { answered, retry, next_target };

    // One attempt on llm_. answered: its answer (or its failure, when nothing follows it) went to
    // the client; retry: after wait_ms_, on the plan's next deployment; next_target: at once, on
    // the plan's fallback.
    Outcome attempt() {
        name_upstream_model();
        provider_.emplace(*llm_);
        UpstreamRequest upstream;
        upstream.headers =
            request_headers_for_upstream(request_.headers, !llm_->config->token_env.empty());
        upstream.headers.emplace_back("x-request-id", request_id_);
        RequestCall call(provider_->where("encode_request"), body_, &upstream, nullptr,
                         &body_index_);
        lp_request_view view = view_of(body_, facts_, llm_);
        if (provider_->encode(call, view) == LP_RESPONDED) {
            answer_locally(call, route_->processors.size());
            return Outcome::answered;
        }
        if (!llm_->upstream)
            throw ApiException(ApiError::internal(
                "llm '" + llm_->config->name + "' has no base_url, and its provider '" +
                llm_->config->provider + "' did not answer locally"));
        const bool may_continue = plan_->may_continue();
        outcome_.upstream_status = 0;  // until this attempt's answer comes
        usage_ = {};                   // what this attempt's answer reports
        watch_client();
        // Held to the attempt's end: its concurrent place, then its tokens settled.
        struct AttemptLimits {
            const RequestFlow& flow;
            std::optional<RequestLimits> limits;
            ~AttemptLimits() {
                if (limits)
                    try {
                        flow.settle_tokens(*limits, true);
                    } catch (const std::exception& e) {
                        spdlog::warn("limits: cannot settle the attempt's tokens: {}", e.what());
                    }
            }
        } attempt_limits{*this, {}};
        try {
            admit_attempt_limits(attempt_limits.limits);
        } catch (const LimitRefused& refused) {
            if (may_continue)
                if (auto next = after_failure(
                        AttemptFailure{AttemptFailure::Kind::status, refused.error().status,
                                       refused.retry_after_s() > 0
                                           ? std::optional(refused.retry_after_s() * 1000)
                                           : std::nullopt},
                        [&] { return std::string(refused.what()); }))
                    return *next;
            // Nothing follows: the client gets the 429, told when to come back.
            if (refused.retry_after_s() > 0)
                response_.set("Retry-After", std::to_string(refused.retry_after_s()));
            throw;
        }
        upstream.body = body_;
        attempt_started_ = Clock::now();
        sent_upstream_ = true;
        AttemptRecord record = record_attempt(*plan_, attempt_started_);
        AttemptReport report(runtime_.metrics(), trace_, *llm_, facts_.model);
        trace_.put_upstream_headers(upstream.headers, report.span_id());
        try {
            const WaitLimit first_byte =
                wait_limit(llm_->config->first_byte_timeout, "no answer head", attempt_started_);
            auto answer = upstream_timed(
                [&] { return llm_->upstream->send(upstream, *cancel_, &first_byte); });
            const int status = answer->status();
            outcome_.upstream_status = status;
            const auto asked = wait_asked(*answer);
            record.head(status, asked, Clock::now());
            report.head(status);
            answer->set_limit(wait_limit(llm_->config->idle_timeout, "nothing more", std::nullopt));
            // After a retry or a fallback, a last failure is logged too (it goes to the client).
            if ((may_continue || plan_->attempts() > 1) && status >= 400) {
                if (may_continue && status == 400 && plan_->has_context_fallback())
                    return after_client_error(*answer);
                AttemptFailure failure{AttemptFailure::Kind::status, status, asked};
                record.end();  // counted before the next attempt's deployment is drawn
                if (auto next = after_failure(failure, [&] { return discard(*answer); }))
                    return *next;
            }
            if (facts_.stream && status < 400 && is_event_stream(answer->content_type()))
                relay_stream(*answer,
                             may_continue && route_->config->hold_stream_head && !route_->native);
            else
                relay_whole(*answer);
            if (cancel_->cancelled()) {  // the client left: the answer was not seen to its end
                record.excuse();
                report.left();
            }
            return Outcome::answered;
        } catch (const ApiException& e) {
            judge(record, e.error());
            report.failed(e.error(), cancel_->cancelled());
            record.end();
            if (stream_ || answering_ || !(may_continue || plan_->attempts() > 1))
                throw;
            auto failure = attempt_failure(e.error());
            if (!failure)
                throw;
            if (auto next = after_failure(*failure, [&] { return e.error().message; }))
                return *next;
            throw;
        }
    }

    // The attempt about to start on the plan's deployment, counted in its health (when a model
    // balances it).
    static AttemptRecord record_attempt(AttemptPlan& plan, Clock::time_point started) {
        const ModelRuntime* model = plan.model();
        const DeploymentRuntime* deployment = plan.deployment();
        const bool reserved = plan.take_reservation();
        return AttemptRecord(model && deployment ? model->health.get() : nullptr,
                             deployment ? deployment->index : 0, started, reserved);
    }

    // An attempt failed with error: a failure of its deployment when the upstream could not be
    // reached, broke or was too slow; excused when the client left or the request's own deadline
    // ran out (earlier attempts may have spent it); nothing new when the error is not the
    // upstream's (a processor's, say).
    void judge(AttemptRecord& record, const ApiError& error) const {
        const int deadline = plan_->policy().deadline_ms;
        if (cancel_->cancelled() ||
            (deadline > 0 && Clock::now() >= started_ + std::chrono::milliseconds(deadline)))
            record.excuse();
        else if (attempt_failure(error))
            record.set(AttemptVerdict::failure);
    }

    // A wait of this attempt: its llm's timeout for the phase (for the whole phase, from
    // phase_start, when given; else for each read), within the attempt's total_timeout_ms and the
    // retry policy's deadline_ms.
    WaitLimit wait_limit(const LlmConfig::Timeout& timeout, std::string_view missing,
                         std::optional<Clock::time_point> phase_start) const {
        WaitLimit limit =
            phase_start ? WaitLimit::of_phase(timeout.ms, timeout.setting, missing, *phase_start)
                        : WaitLimit::of(timeout.ms, timeout.setting, missing);
        if (const int total = llm_->config->total_timeout_ms; total > 0)
            limit = limit.bound(attempt_started_ + std::chrono::milliseconds(total),
                                "total_timeout_ms", total);
        if (const int deadline = plan_->policy().deadline_ms; deadline > 0)
            limit = limit.bound(started_ + std::chrono::milliseconds(deadline),
                                "the retry policy's deadline_ms", deadline);
        return limit;
    }

    // What follows a failed attempt, logged at debug level (the access log has the request's
    // end): nullopt when nothing does. what() says what the attempt's upstream said; its answer
    // is read only when another attempt follows (it goes to the client otherwise).
    template <typename What>
    std::optional<Outcome> after_failure(const AttemptFailure& failure, What&& what) {
        const AttemptPlan::Decision decision = next_after(*plan_, "", failure, what);
        if (decision.next == AttemptPlan::Next::give_up)
            return std::nullopt;
        if (decision.next == AttemptPlan::Next::fall_back)
            return Outcome::next_target;
        wait_ms_ = decision.wait_ms;
        return Outcome::retry;
    }

    // What the plan does after its attempt failed, said in a debug line that `label` opens.
    template <typename What>
    static AttemptPlan::Decision next_after(AttemptPlan& plan, std::string_view label,
                                            const AttemptFailure& failure, What&& what) {
        thread_local std::minstd_rand random{std::random_device{}()};
        const LlmRuntime& failed = plan.llm();
        const AttemptPlan::Decision decision = plan.after_failure(
            failure, Clock::now(), std::uniform_real_distribution<double>(0.0, 1.0)(random));
        if (decision.next == AttemptPlan::Next::give_up) {
            spdlog::debug("{}attempt {} on [llm.{}] failed ({}); not retried", label,
                          plan.attempts(), failed.config->name, failure.name());
            return decision;
        }
        const std::string said = what();
        if (decision.next == AttemptPlan::Next::retry)
            spdlog::debug("{}attempt {} on [llm.{}] failed ({}): {}; retrying in {} ms", label,
                          plan.attempts(), failed.config->name, failure.name(),
                          printable(said, 512), decision.wait_ms);
        else
            spdlog::debug(
                "{}attempt {} on [llm.{}] failed ({}): {}; falling back to model {} on [llm.{}]",
                label, plan.attempts(), failed.config->name, failure.name(), printable(said, 512),
                plan.model()->config->name, plan.llm().config->name);
        return decision;
    }

    // A 400 from a target with context-window fallbacks: read, and when it says the request
    // exceeds the context window, the request goes on to them; otherwise it goes to the client.
    Outcome after_client_error(UpstreamResponse& upstream) {
        Answer answer = read_whole(upstream);
        if (is_context_window_error(answer.body) && plan_->after_context_overflow(Clock::now())) {
            spdlog::debug(
                "attempt {} on [llm.{}] exceeded the context window; falling back to model {}",
                plan_->attempts(), llm_->config->name, plan_->model()->config->name);
            return Outcome::next_target;
        }
        deliver(std::move(answer), route_->processors.size());
        return Outcome::answered;
    }

    // Reads what a failed attempt's answer says (up to kMaxDiscardedAnswerBytes), for the log.
    std::string discard(UpstreamResponse& answer) {
        try {
            return upstream_timed([&] { return answer.read_all(kMaxDiscardedAnswerBytes); });
        } catch (const ApiException& e) {
            return e.error().message;
        }
    }

    // A route that translates: the client's request becomes canonical before anything else sees
    // it. LP_RESPONDED: the client API answered it itself, and that answer has gone out.
    lp_status translate_request() {
        check_body_json(body_);  // the client API reads what the host's own check passed
        client_.emplace(*route_->api);
        RequestCall call(client_->where("decode_request"), body_, nullptr, nullptr, &body_index_);
        // The target is known before the model is when the path has one route, with a target_llm.
        lp_request_view view = view_of(body_, facts_, route_->next ? nullptr : route_->llm);
        view.api = to_lp(route_->config->api);
        if (client_->decode(call, view) != LP_RESPONDED)
            return LP_CONTINUE;
        send(std::move(*call.answer));
        return LP_RESPONDED;
    }

    // The route of the path_prefix that takes the request's model, and its llm: the route's
    // target_llm, or a deployment of the public model the request names.
    void choose_target() {
        if (key_)
            check_model_allowed(*key_, facts_.model);
        const RouteRuntime* route = route_;
        while (route && !route->takes(facts_.model))
            route = route->next;
        if (!route)
            throw ApiException(ApiError::model_not_found(
                facts_.model, "is taken by no route of '" + route_->config->path_prefix + "'"));
        route_ = route;
        processor_states_.assign(route->processors.size(), nullptr);
        const ModelRuntime* model = nullptr;
        if (!route->llm) {
            model = runtime_.model(facts_.model);
            if (!model)
                throw ApiException(ApiError::model_not_found(facts_.model));
            public_model_ = facts_.model;
        }
        plan_.emplace(route->config->retry ? &*route->config->retry : nullptr, route->llm, model,
                      started_);
        follow_plan();
    }

    // The plan's current llm is the attempt's, and the answer will say so.
    void follow_plan() {
        llm_ = &plan_->llm();
        response_.set("x-llm-proxy-llm", llm_->config->name);
    }

    // The deployment's own name for the model goes upstream (processors saw the public one),
    // unless a processor named another model, which then goes as it named it. A fallback's
    // deployment always gets its own name.
    void name_upstream_model() {
        const DeploymentRuntime* deployment = plan_->deployment();
        if (!deployment || deployment->config->model == facts_.model ||
            (facts_.model != public_model_ && !plan_->on_fallback()))
            return;
        name_model(body_, facts_, *deployment, &body_index_);
    }

    // body (described by facts, and index when given) names deployment's model from now on.
    static void name_model(std::string& body, RequestFacts& facts,
                           const DeploymentRuntime& deployment, json_fields::Index* index) {
        const std::string& model = deployment.config->model;
        const std::string error = json_fields::edit(body, json_fields::Edit::replace, "/model",
                                                    json_fields::quote(model), index);
        if (!error.empty())
            throw ApiException(
                ApiError::internal("the request's model could not be named for [llm." +
                                   deployment.llm->config->name + "]: " + error));
        facts.model = model;
    }

    // What a failed answer asks to wait before the next request (nothing for a success).
    static std::optional<std::int64_t> wait_asked(const UpstreamResponse& answer) {
        return answer.status() >= 400 ? requested_wait_ms(answer.headers(), std::time(nullptr))
                                      : std::nullopt;
    }

    // From the first upstream call on, a departing client cancels the upstream work at once.
    void watch_client() {
        if (!watching_)
            watch_.set(cancel_);
        watching_ = true;
    }

    // A side call's attempts (whole answers), as its llm's retry policy and fallbacks order them.
    Answer side_call(const LlmRuntime& llm, const std::string& body, const RequestFacts& facts) {
        AttemptPlan plan(nullptr, &llm, nullptr, Clock::now());
        for (;;) {
            plan.start_attempt();
            const LlmRuntime& target = plan.llm();
            std::string attempt_body = body;
            RequestFacts attempt_facts = facts;
            if (const DeploymentRuntime* deployment = plan.deployment())  // a fallback
                name_model(attempt_body, attempt_facts, *deployment, nullptr);
            ProviderCall provider(target);
            UpstreamRequest upstream;
            upstream.headers.emplace_back("x-request-id", request_id_);
            RequestCall encode(provider.where("encode_request"), attempt_body, &upstream, nullptr);
            lp_request_view view = view_of(attempt_body, attempt_facts, &target);
            if (provider.encode(encode, view) == LP_RESPONDED)
                return encode.answer ? std::move(*encode.answer) : Answer{};
            if (!target.upstream)
                throw ApiException(
                    ApiError::internal("llm '" + target.config->name + "' has no base_url"));
            // The llm's limits hold for side calls too (a refusal fails the side call).
            std::optional<RequestLimits> llm_limits;
            if (target.config->limits.any())
                RequestLimits::admit(
                    llm_limits, runtime_.limits(), {{target.limit_holder, &target.config->limits}},
                    [&] {
                        return usage_estimate(attempt_body, max_tokens_in(attempt_body), &plan,
                                              attempt_facts.model);
                    },
                    nullptr, epoch_ms(), runtime_.metrics());
            upstream.body = std::move(attempt_body);
            watch_client();
            AttemptRecord record = record_attempt(plan, Clock::now());
            AttemptReport report(runtime_.metrics(), trace_, target, attempt_facts.model);
            trace_.put_upstream_headers(upstream.headers, report.span_id());
            AttemptFailure failure;
            std::optional<ApiException> error;
            Answer answer;
            try {
                auto response =
                    upstream_timed([&] { return target.upstream->send(upstream, *cancel_); });
                answer.status = response->status();
                failure = {AttemptFailure::Kind::status, answer.status, wait_asked(*response)};
                record.head(answer.status, failure.retry_after_ms, Clock::now());
                report.head(answer.status);
                answer.content_type = response->content_type();
                answer.body =
                    upstream_timed([&] { return response->read_all(kMaxUpstreamAnswerBytes); });
            } catch (const ApiException& e) {
                report.failed(e.error(), cancel_->cancelled());
                auto upstream_failure = attempt_failure(e.error());
                if (!upstream_failure || cancel_->cancelled())
                    throw;
                record.set(AttemptVerdict::failure);
                failure = *upstream_failure;
                error = e;
            }
            record.end();
            if (!error && answer.status < 400) {
                provider.decode(answer, nullptr);
                charge_side_call(answer, plan, attempt_facts.model, llm_limits);
                return answer;
            }
            if (llm_limits && !error)  // an upstream error uses no tokens
                llm_limits->used({}, nullptr, epoch_ms());
            const auto decision = next_after(plan, "side call: ", failure, [&] {
                return error ? error->error().message : answer.body;
            });
            if (decision.next == AttemptPlan::Next::give_up) {
                if (error)
                    throw *error;
                provider.decode(answer, nullptr);
                return answer;
            }
            if (decision.next == AttemptPlan::Next::retry && decision.wait_ms > 0) {
                if (!cancel_->pause(decision.wait_ms))
                    throw ApiException(ApiError::client_closed());
                plan.redraw();
            }
        }
    }

    void check_allowed() {
        const auto& route = *route_->config;
        if (facts_.stream && !route.allow_streaming)
            throw ApiException(
                ApiError::bad_request("streaming_not_allowed",
                                      "the route '" + route.path_prefix +
                                          "' does not allow streaming (allow_streaming = false); "
                                          "send \"stream\": false"));
        if (!facts_.stream && !route.allow_non_streaming)
            throw ApiException(ApiError::bad_request(
                "non_streaming_not_allowed", "the route '" + route.path_prefix +
                                                 "' only allows streaming (allow_non_streaming = "
                                                 "false); send \"stream\": true"));
        if (facts_.stream && !llm_->config->supports_streaming)
            throw ApiException(ApiError::bad_request(
                "streaming_not_supported",
                "llm '" + llm_->config->name + "' of route '" + route.path_prefix +
                    "' does not support streaming "
                    "(supports_streaming = false); send \"stream\": false"));
    }

    // After a request hook: a replaced body is checked again in full; edited fields only need
    // the facts the host relies on read again.
    void refresh_facts(const BodyCall& call) {
        if (call.body_replaced()) {
            facts_ = scan_request(body_, llm_->config->endpoint, &body_index_);
        } else if (call.fields_edited()) {
            try {
                facts_ = read_facts(body_, llm_->config->endpoint, &body_index_);
            } catch (const ApiException& e) {
                throw ApiException(ApiError::internal(
                    call.where() + " left the request invalid: " + e.error().message));
            }
        } else {
            return;
        }
        check_allowed();
    }

    // llm: null when the target is not known yet (a client API's decode_request on a path whose
    // routes choose by model), giving an empty llm_name.
    lp_request_view view_of(const std::string& body, const RequestFacts& facts,
                            const LlmRuntime* llm) const {
        lp_request_view v{};
        v.struct_size = sizeof v;
        v.body = to_lp(body);
        v.path = to_lp(request_.target);
        v.model = to_lp(facts.model);
        v.route_prefix = to_lp(route_->config->path_prefix);
        v.llm_name = llm ? to_lp(llm->config->name) : lp_str{};
        v.endpoint = static_cast<lp_endpoint>(llm ? llm->config->endpoint : route_->endpoint);
        v.stream = facts.stream ? 1 : 0;
        v.headers = headers_.data();
        v.header_count = headers_.size();
        v.api = to_lp(route_->native ? std::string_view(route_->config->api) : kCanonicalApi);
        if (key_) {
            v.key_id = to_lp(key_->id);
            v.key_metadata = to_lp(key_->metadata_json);
        }
        return v;
    }

    void create_processor_states() {
        for (std::size_t i = 0; i < route_->processors.size(); ++i) {
            const auto* proc = route_->processors[i];
            if (proc->type->vtable.request_new) {
                lp_call call(HookSite("processor", proc->config->name, "request_new"));
                if (invoke_hook(proc->plugin, call, [&] {
                        return proc->type->vtable.request_new(proc->instance, &call,
                                                              &processor_states_[i]);
                    }) != LP_CONTINUE)
                    throw ApiException(call.error_or_default());
            }
            ++processors_created_;
        }
    }

    // A hook answered: the answer goes back through the processors before it (`depth` of them).
    void answer_locally(RequestCall& call, std::size_t depth) {
        if (call.answer || !facts_.stream)
            return deliver(call.answer ? std::move(*call.answer) : Answer{}, depth);
        ClientEventStream& stream = start_stream();
        call.emitted.check(call);
        if (!write_events(stream, call.emitted.events, depth) || !end_stream(stream))
            client_left();
    }

    void relay_whole(UpstreamResponse& upstream) {
        deliver(read_whole(upstream), route_->processors.size());
    }

    // A whole upstream answer, as the provider decodes it.
    Answer read_whole(UpstreamResponse& upstream) {
        Answer answer;
        answer.status = upstream.status();
        answer.content_type = upstream.content_type();
        if (answer.content_type.empty())
            answer.content_type = "application/json";
        answer.headers = headers_for_client(upstream);
        answer.body = upstream_timed([&] { return upstream.read_all(kMaxUpstreamAnswerBytes); });
        provider_->decode(answer, this);
        return answer;
    }

    void deliver(Answer answer, std::size_t depth) {
        answering_ = true;  // from here on a failure is the answer's, never the upstream's
        for (std::size_t i = depth; i-- > 0;) {
            const auto* proc = route_->processors[i];
            if (!proc->type->vtable.on_response)
                continue;
            ResponseCall call(HookSite("processor", proc->config->name, "on_response"), answer,
                              this);
            const std::string body = answer.body;  // stable while the hook may replace the answer
            lp_status status = invoke_hook(proc->plugin, call, [&] {
                return proc->type->vtable.on_response(proc->instance, processor_states_[i], &call,
                                                      answer.status, to_lp(body));
            });
            if (status == LP_FAILED)
                throw ApiException(call.error_or_default());
        }
        if (answer.status < 300)
            usage_.read(answer.body);
        if (client_)
            answer = translated(std::move(answer));
        send(std::move(answer));
    }

    // A canonical answer in the form the client API gives its clients.
    Answer translated(Answer answer) {
        if (answer.status < 400) {
            client_->encode(answer);
            return answer;
        }
        auto shaped = client_error_answer(*route_->api, client_->state(), canonical_error(answer));
        if (!shaped)
            return answer;
        shaped->headers = std::move(answer.headers);  // retry-after still applies
        return std::move(*shaped);
    }

    void send(Answer answer) {
        for (const auto& [name, value] : answer.headers)
            response_.set(name, value);
        mark_first_byte();
        response_.send(answer.status, answer.content_type, answer.body);
        outcome_.status = answer.status;
        if (answer.status >= 400)
            outcome_.error = "answered " + std::to_string(answer.status);
    }

    ClientEventStream& start_stream() {
        outcome_.streamed = true;
        outcome_.status = 200;
        mark_first_byte();
        ClientEventStream& stream = stream_.emplace(response_);
        if (GatewayMetrics* metrics = runtime_.metrics())
            metrics->stream_open(1);  // until run() ends
        return stream;
    }

    // Relays an upstream event stream. held: the client's response head waits until an event
    // carries content (or the stream ends), so that a failure before it can be tried again.
    void relay_stream(UpstreamResponse& upstream, bool held) {
        const std::size_t depth = route_->processors.size();
        ClientEventStream* stream = nullptr;
        auto open = [&] {
            for (const auto& [name, value] : headers_for_client(upstream))
                response_.set(name, value);
            stream = &start_stream();
        };
        if (!held)
            open();
        SseParser parser(llm_->config->max_event_bytes);
        std::vector<StreamEvent> batch;
        std::size_t looked_at = 0;   // events of the held batch known to carry no content
        std::size_t held_bytes = 0;  // their data
        bool first_event = true;
        auto collect = [&](const SseEvent& event) {
            if (first_event) {  // the first event came: from now on, gaps are idle time
                first_event = false;
                upstream.set_limit(
                    wait_limit(llm_->config->idle_timeout, "nothing more", std::nullopt));
            }
            provider_->decode(event, batch);
        };
        upstream.set_limit(wait_limit(llm_->config->first_event_timeout, "no event", Clock::now()));
        // What was decoded before a failure goes out first, when the stream is open.
        auto flush_before_failure = [&] {
            if (stream)
                write_events(*stream, batch, depth);
        };
        auto feed = [&](std::string_view bytes) {
            try {
                parser.feed(bytes, collect);
            } catch (const SseEventTooLarge& e) {
                flush_before_failure();  // the whole ones
                throw ApiException(ApiError::bad_gateway(
                    "upstream_event_too_large",
                    std::string(e.what()) + " ([llm." + llm_->config->name + "] max_event_bytes)"));
            } catch (const ApiException&) {
                flush_before_failure();  // the provider failed on an event
                throw;
            }
        };
        char buffer[16384];
        // Failures from here on propagate: to another attempt while the stream is held, else to
        // fail(), which ends the stream with an error event.
        while (std::size_t n = upstream.read_some(buffer, sizeof buffer)) {
            feed(std::string_view(buffer, n));
            if (!stream) {
                while (looked_at < batch.size() && !is_content_event(batch[looked_at].data))
                    held_bytes += batch[looked_at++].data.size();
                if (looked_at == batch.size() && held_bytes < kMostHeldBytes)
                    continue;  // still nothing to show: held
                open();
            }
            if (!write_events(*stream, batch, depth) || !stream->flush())
                return client_left();
            batch.clear();
        }
        parser.finish(collect);
        try {
            provider_->end(batch);
        } catch (const ApiException&) {
            flush_before_failure();
            throw;
        }
        if (!stream)
            open();
        if (!write_events(*stream, batch, depth) || !end_stream(*stream))
            return client_left();
    }

    // Runs events through the stream hooks of the first `depth` processors (in reverse) and
    // queues what comes out. Returns false when the client is gone. Consumes events: the caller
    // clears the vector before it fills it again, and keeps its capacity.
    bool write_events(ClientEventStream& stream, std::vector<StreamEvent>& events,
                      std::size_t depth) {
        std::erase_if(events, is_done_marker);
        for (std::size_t i = depth; i-- > 0;) {
            const auto* proc = route_->processors[i];
            if (!proc->type->vtable.on_stream_event)
                continue;
            std::vector<StreamEvent> out;
            for (auto& event : events) {
                StreamCall call(HookSite("processor", proc->config->name, "on_stream_event"),
                                event.data);
                lp_sse_event e{sizeof(lp_sse_event), to_lp(event.name), to_lp(event.data), {}};
                lp_status status = invoke_hook(proc->plugin, call, [&] {
                    return proc->type->vtable.on_stream_event(proc->instance, processor_states_[i],
                                                              &call, &e);
                });
                if (status == LP_FAILED) {
                    for (auto& done : out)
                        stream.write(done.name, done.data);
                    throw ApiException(call.error_or_default());
                }
                call.emitted.check(call);
                if (!call.emitted.events.empty()) {
                    for (auto& ev : call.emitted.events)
                        if (!is_done_marker(ev))
                            out.push_back(std::move(ev));
                } else if (status != LP_DROP) {
                    out.push_back(std::move(event));  // as the hook's field edits left it
                }
            }
            events = std::move(out);
        }
        for (std::size_t i = 0; i < events.size(); ++i) {
            if (events[i].data.find("\"usage\"") == std::string::npos)
                continue;
            usage_.read(events[i].data);  // in order: the last report counts
            // Asked for by llm-proxy, not the client.
            if (hide_usage_chunk_ && is_usage_chunk(events[i].data))
                events.erase(events.begin() + static_cast<std::ptrdiff_t>(i--));
        }
        if (client_) {
            std::vector<StreamEvent> out;
            try {
                for (auto& event : events)
                    client_->encode(event, out);
            } catch (const ApiException&) {
                write_all(stream, out);  // what was translated before the failure goes out first
                throw;
            }
            events = std::move(out);
        }
        return write_all(stream, events);
    }

    static bool write_all(ClientEventStream& stream, const std::vector<StreamEvent>& events) {
        for (const auto& event : events)
            if (!stream.write(event.name, event.data))
                return false;
        return true;
    }

    // The stream ended cleanly: its end goes out, and everything with it. A canonical stream ends
    // with [DONE], a translated one with the client API's closing events, a native one as the
    // upstream ended it.
    bool end_stream(ClientEventStream& stream) {
        if (client_) {
            std::vector<StreamEvent> closing;
            try {
                client_->end(closing);
            } catch (const ApiException&) {
                write_all(stream, closing);
                throw;
            }
            return write_all(stream, closing) && stream.flush();
        }
        if (route_->native)
            return stream.flush();
        return stream.write({}, "[DONE]") && stream.flush();
    }

    // Runs upstream I/O, counting its time as the upstream's rather than llm-proxy's own.
    template <typename Io>
    auto upstream_timed(Io&& io) -> decltype(io()) {
        auto t0 = Clock::now();
        struct Account {
            double& total;
            Clock::time_point t0;
            ~Account() { total += ms_between(t0, Clock::now()); }
        } account{upstream_ms_, t0};
        return io();
    }

    // The answer's head is about to go out: llm-proxy's own share of the time so far is known,
    // and travels with it so that users can check what the gateway costs them.
    void mark_first_byte() {
        first_byte_ = Clock::now();
        outcome_.overhead_ms = std::max(0.0, ms_between(started_, *first_byte_) - upstream_ms_);
        char value[32];
        std::snprintf(value, sizeof value, "%.3f", outcome_.overhead_ms);
        response_.set("x-llm-proxy-overhead-ms", value);
        set_attempts_header();
    }

    void set_attempts_header() {
        char value[16];
        auto end = std::to_chars(value, value + sizeof value, plan_ ? plan_->attempts() : 0).ptr;
        response_.set("x-llm-proxy-attempts", std::string_view(value, end - value));
    }

    void client_left() {
        outcome_.client_gone = true;
        cancel_->cancel();  // closes the upstream connection now
        outcome_.error = "the client disconnected";
    }

    void fail(const ApiError& failure) {
        ApiError error = failure;
        if (cancel_->cancelled()) {
            if (cancel_->reason() == Cancellation::Reason::client_left) {
                outcome_.error = error.message;
                outcome_.client_gone = true;  // nobody is listening any more
                if (!stream_)
                    outcome_.status = 499;
                return;
            }
            // The client is still there: it learns why its answer ends here.
            error = {503, "server_error", "shutting_down",
                     "llm-proxy is shutting down, and the answer did not finish within its "
                     "shutdown_grace_ms"};
        }
        outcome_.error = error.message;
        void* client_state = client_ ? client_->state() : nullptr;
        if (stream_) {
            spdlog::warn("stream on route {} failed after it started: {}",
                         route_->config->path_prefix, error.message);
            try {
                auto events = route_->api ? client_error_events(*route_->api, client_state, error)
                                          : std::vector<StreamEvent>{};
                if (events.empty())
                    stream_->write_error(error);
                else if (write_all(*stream_, events))
                    stream_->flush();
            } catch (const std::exception& e) {
                spdlog::debug("cannot send the error event: {}", e.what());
            }
            return;
        }
        outcome_.status = error.status;
        set_attempts_header();
        try {
            if (auto shaped = route_->api ? client_error_answer(*route_->api, client_state, error)
                                          : std::nullopt) {
                outcome_.status = shaped->status;
                response_.send(shaped->status, shaped->content_type, shaped->body);
            } else {
                send_error(response_, error);
            }
        } catch (const std::exception& e) {
            spdlog::debug("cannot send the error response: {}", e.what());
        }
    }

    Runtime& runtime_;
    const RouteRuntime* route_;        // the first of its path_prefix, until the model chooses
    const LlmRuntime* llm_ = nullptr;  // chosen with the route, once the model is known
    std::optional<AttemptPlan> plan_;  // made with the route's choice
    Clock::time_point attempt_started_;
    bool answering_ = false;    // the answer is going through the processors to the client
    int wait_ms_ = 0;           // before the next attempt, when it is a retry
    std::string public_model_;  // the model the request named, when it names the target
    std::string body_;
    json_fields::Index body_index_;  // of body_, shared by the request hooks
    const HttpRequest& request_;
    const std::string& request_id_;
    const RequestTrace& trace_;
    HttpResponse& response_;
    HangUpWatch& watch_;
    bool watching_ = false;
    std::shared_ptr<Cancellation> cancel_;
    const ClientKey* key_;                 // null on a route without auth
    std::optional<RequestLimits> limits_;  // none when no limit applies
    bool hide_usage_chunk_ = false;        // the stream's usage was asked for by llm-proxy
    bool sent_upstream_ = false;           // an attempt's request went to an upstream
    Clock::time_point started_ = Clock::now();
    std::optional<Clock::time_point> first_byte_;
    RequestFacts facts_;
    std::vector<lp_header> headers_;
    std::vector<void*> processor_states_;
    std::size_t processors_created_ = 0;
    std::optional<ClientApiCall> client_;  // set on a route whose client API translates
    std::optional<ProviderCall> provider_;
    std::optional<ClientEventStream> stream_;  // set once the answer is a stream
    Usage usage_;
    double upstream_ms_ = 0;  // time spent waiting on upstreams (side calls included)
    FlowOutcome outcome_;
};

}  // namespace

FlowOutcome run_request_flow(Runtime& runtime, const RouteRuntime& route, std::string body,
                             const HttpRequest& request, const std::string& request_id,
                             const RequestTrace& trace, HangUpWatch& watch, HttpResponse& response,
                             std::shared_ptr<Cancellation> cancel, const ClientKey* key) {
    RequestFlow flow(runtime, route, std::move(body), request, request_id, trace, watch, response,
                     std::move(cancel), key);
    return flow.run();
}

}  // namespace llmproxy
