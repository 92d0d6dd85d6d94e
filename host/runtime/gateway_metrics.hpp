// What llm-proxy counts while serving, as GET /metrics shows it: the OpenTelemetry GenAI
// metrics under their Prometheus names (token usage, operation duration, time to first token,
// time per output token) and llm-proxy's own (requests, own added time, upstream attempts by
// outcome, retries, fallbacks, streams). Every label value comes from the configuration (route
// prefixes, llm and model names) or a fixed list (status classes, outcomes): a request model the
// configuration does not name counts as "other", so clients cannot grow the series.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "access/key_file.hpp"
#include "config/config.hpp"
#include "limits/limit_store.hpp"
#include "metrics/registry.hpp"
#include "metrics/series_grid.hpp"

namespace llmproxy {

// An upstream attempt's end, as llm_proxy_upstream_attempts_total's outcome label says it.
enum class AttemptOutcome {
    answered,      // a head below 400
    client_error,  // a 4xx other than 408 and 429
    timeout_408,
    rate_limited,  // 429
    server_error,  // 5xx
    connect,       // could not connect
    broken,        // the connection broke
    timeout,       // llm-proxy's own timeout
    cancelled,     // the client left
    other,         // any other error (a provider refusing to encode, say)
};

// "answered", "client_error", "408", "429", "5xx", "connect", "broken", "timeout", "cancelled",
// "other": the outcome label's value.
std::string_view outcome_name(AttemptOutcome outcome);

// gen_ai.operation.name of an llm's endpoint: "chat" or "embeddings".
std::string_view operation_name(Endpoint endpoint);

// One request, once answered: what the access log says of it.
struct RequestMetrics {
    std::size_t route = SIZE_MAX;  // the route's index (RouteRuntime::index); SIZE_MAX: none
    std::size_t llm = SIZE_MAX;    // the last attempt's llm (LlmRuntime::index); SIZE_MAX: none
    std::string_view model;        // as the client asked
    int status = 0;
    bool streamed = false;
    double duration_s = 0;
    double first_byte_s = -1;  // the answer's head to the client; -1: none
    double overhead_s = -1;    // llm-proxy's own time; -1: none
    std::int64_t input_tokens = -1, output_tokens = -1;  // -1: the answer did not say
    int retries = 0, fallbacks = 0;
    std::size_t key = SIZE_MAX;  // the client key's index in the keys file; SIZE_MAX: none
};

class GatewayMetrics {
  public:
    // Families and series go to registry, which outlives this (a reload builds new metrics on
    // the same registry, so counts go on). Routes and llms are indexed in the config's order,
    // client keys in the keys file's.
    GatewayMetrics(metrics::Registry& registry, const Config& config,
                   std::span<const ClientKey> keys = {});

    // [thread-safe] Counts a request that has been answered.
    void request_done(const RequestMetrics& request);
    // [thread-safe] Counts an upstream attempt of the llm (LlmRuntime::index).
    void attempt_done(std::size_t llm, AttemptOutcome outcome) {
        attempts_.at({llm, static_cast<std::size_t>(outcome)}).add();
    }
    // [thread-safe] A request refused by llm-proxy's own limit of kind, which holder ("key:ID",
    // "route:PREFIX", "llm:NAME") has.
    void rate_limited(std::string_view holder, LimitKind kind);
    // [thread-safe] A request (or attempt) whose limits' counters could not be reached, admitted
    // (on_error = "open") or refused ("closed").
    void limits_unavailable(bool admitted) { limits_unavailable_.at({admitted ? 0u : 1u}).add(); }
    // [thread-safe] A stream to a client starts (+1) or ends (-1).
    void stream_open(int delta) { streams_.add(delta); }

  private:
    std::size_t model_index(std::string_view model) const;

    std::map<std::string, std::size_t, std::less<>> model_index_;  // "other" is its size
    std::size_t route_none_ = 0;  // the routes dimension's index for requests without a route
    // The label texts of the dimensions most families share.
    const metrics::SeriesGrid<1>::Labels routes_, llms_, models_;
    metrics::SeriesGrid<2> requests_;     // route, status class
    metrics::SeriesGrid<1> overhead_;     // route
    metrics::SeriesGrid<1> retries_;      // route
    metrics::SeriesGrid<1> fallbacks_;    // route
    metrics::SeriesGrid<3> tokens_;       // llm, request model, token type
    metrics::SeriesGrid<3> duration_;     // llm, request model, error type
    metrics::SeriesGrid<2> first_token_;  // llm, request model
    metrics::SeriesGrid<2> per_token_;    // llm, request model
    metrics::SeriesGrid<2> attempts_;     // llm, outcome
    metrics::Series& streams_;
    metrics::SeriesGrid<2> key_requests_;                       // client key, status class
    metrics::SeriesGrid<2> key_tokens_;                         // client key, token type
    std::unordered_map<std::string, std::size_t> limit_index_;  // "HOLDER:KIND" -> index
    metrics::SeriesGrid<1> rate_limited_;                       // limit
    metrics::SeriesGrid<1> limits_unavailable_;                 // on_error
};

}  // namespace llmproxy
