#include "runtime/gateway_metrics.hpp"

#include <cmath>

namespace llmproxy {

namespace {

using metrics::Kind;
using metrics::label;
using Labels = std::vector<std::string>;

// The buckets of the GenAI semantic conventions (gen-ai-metrics.md).
const std::vector<double> kDurationBuckets = {0.01, 0.02, 0.04, 0.08,  0.16,  0.32,  0.64,
                                              1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92};
const std::vector<double> kFirstTokenBuckets = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1,
                                                0.25,  0.5,   0.75, 1.0,  2.5,  5.0,  7.5,  10.0};
const std::vector<double> kPerTokenBuckets = {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2,
                                              0.3,  0.4,   0.5,  0.75,  1.0, 2.5};
const std::vector<double> kTokenBuckets = {
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864};
// llm-proxy's own time: microseconds to a tenth of a second.
const std::vector<double> kOverheadBuckets = {0.00001, 0.000025, 0.00005, 0.0001, 0.00025,
                                              0.0005,  0.001,    0.0025,  0.005,  0.01,
                                              0.025,   0.05,     0.1};
constexpr double kNanos = 1e9;

// error.type: the status the client got, from a fixed list (else _OTHER); the first is success.
constexpr int kErrorStatuses[] = {400, 401, 403, 404, 408, 409, 413,
                                  422, 429, 499, 500, 502, 503, 504};

Labels error_types() {
    Labels types{""};
    for (int status : kErrorStatuses)
        types.push_back(label("error_type", std::to_string(status)));
    types.push_back(label("error_type", "_OTHER"));
    return types;
}

std::size_t error_type_index(int status) {
    if (status < 400)
        return 0;
    for (std::size_t i = 0; i < std::size(kErrorStatuses); ++i)
        if (kErrorStatuses[i] == status)
            return i + 1;
    return std::size(kErrorStatuses) + 1;
}

constexpr std::string_view kOutcomeNames[] = {"answered",  "client_error", "408",    "429",
                                              "5xx",       "connect",      "broken", "timeout",
                                              "cancelled", "other"};

Labels outcome_labels() {
    Labels labels;
    for (std::string_view name : kOutcomeNames)
        labels.push_back(label("outcome", name));
    return labels;
}

Labels key_labels(std::span<const ClientKey> keys) {
    Labels labels;
    for (const ClientKey& key : keys)
        labels.push_back(label("key", key.id));
    return labels;
}

Labels status_class_labels() {
    return {label("status_class", "1xx"), label("status_class", "2xx"),
            label("status_class", "3xx"), label("status_class", "4xx"),
            label("status_class", "5xx")};
}

// Every limit the configuration and the keys set, named "HOLDER:KIND" ("key:ID", "route:PREFIX",
// "llm:NAME", then ":requests", ":tokens" or ":concurrent"): their index, and their labels in
// that order.
std::pair<std::unordered_map<std::string, std::size_t>, Labels> limit_labels(
    const Config& config, std::span<const ClientKey> keys) {
    std::unordered_map<std::string, std::size_t> index;
    Labels labels;
    auto add = [&](const std::string& holder, const Limits& limits) {
        for (const auto& [kind, limit] : limits_by_kind(limits))
            if (limit > 0 &&
                index.emplace(holder + ':' + std::string(kind_name(kind)), labels.size()).second)
                labels.push_back(label("limit", holder) + ',' + label("kind", kind_name(kind)));
    };
    for (const ClientKey& key : keys)
        add("key:" + key.id, key.limits);
    for (const auto& route : config.routes)
        add("route:" + route.path_prefix, route.limits);
    for (const auto& [name, llm] : config.llms)
        add("llm:" + name, llm.limits);
    return {std::move(index), std::move(labels)};
}

Labels route_labels(const Config& config) {
    Labels routes;
    for (const auto& route : config.routes)
        routes.push_back(label("route", route.path_prefix) + ',' + label("api", route.api));
    routes.push_back(label("route", "none") + ',' + label("api", "none"));
    return routes;
}

// The GenAI attributes an llm fixes, and its name.
Labels llm_labels(const Config& config) {
    Labels llms;
    for (const auto& [name, llm] : config.llms)
        llms.push_back(label("gen_ai_operation_name", operation_name(llm.endpoint)) + ',' +
                       label("gen_ai_provider_name", llm.provider) + ',' + label("llm", name));
    return llms;
}

// The request models the configuration names: public models, and the exact names routes take.
std::vector<std::string> model_names(const Config& config) {
    std::vector<std::string> names;
    for (const auto& [name, model] : config.models)
        names.push_back(name);
    for (const auto& route : config.routes)
        for (const auto& name : route.models)
            if (name.find('*') == std::string::npos)
                names.push_back(name);
    return names;
}

Labels model_labels(const std::map<std::string, std::size_t, std::less<>>& index) {
    Labels models(index.size() + 1);
    for (const auto& [name, i] : index)
        models[i] = label("gen_ai_request_model", name);
    models.back() = label("gen_ai_request_model", "other");
    return models;
}

std::map<std::string, std::size_t, std::less<>> index_of(const std::vector<std::string>& names) {
    std::map<std::string, std::size_t, std::less<>> index;
    for (const auto& name : names)
        index.emplace(name, index.size());
    return index;
}

std::uint64_t nanos(double seconds) {
    return seconds <= 0 ? 0 : static_cast<std::uint64_t>(std::llround(seconds * kNanos));
}

}  // namespace

GatewayMetrics::GatewayMetrics(metrics::Registry& registry, const Config& config,
                               std::span<const ClientKey> keys)
    : model_index_(index_of(model_names(config))),
      route_none_(config.routes.size()),
      routes_(route_labels(config)),
      llms_(llm_labels(config)),
      models_(model_labels(model_index_)),
      requests_(registry,
                registry.family("llm_proxy_requests_total",
                                "Requests answered, by route and the status class the client got.",
                                Kind::counter),
                {routes_, status_class_labels()}),
      overhead_(registry,
                registry.family("llm_proxy_overhead_seconds",
                                "llm-proxy's own time until the answer's head went out, upstream "
                                "waits excluded.",
                                Kind::histogram, kOverheadBuckets, kNanos),
                {routes_}),
      retries_(registry,
               registry.family("llm_proxy_retries_total",
                               "Upstream attempts that retried a failed one on the same target.",
                               Kind::counter),
               {routes_}),
      fallbacks_(registry,
                 registry.family("llm_proxy_fallbacks_total",
                                 "Requests' moves to a fallback model.", Kind::counter),
                 {routes_}),
      tokens_(registry,
              registry.family("gen_ai_client_token_usage",
                              "Tokens per request as the upstream's answer reports them.",
                              Kind::histogram, kTokenBuckets),
              {llms_, models_,
               Labels{label("gen_ai_token_type", "input"), label("gen_ai_token_type", "output")}}),
      duration_(registry,
                registry.family("gen_ai_client_operation_duration_seconds",
                                "Requests' whole time, from the request read to the answer's end.",
                                Kind::histogram, kDurationBuckets, kNanos),
                {llms_, models_, error_types()}),
      first_token_(registry,
                   registry.family("gen_ai_server_time_to_first_token_seconds",
                                   "Successful streams: the time to the answer's head, which "
                                   "waits for the first content when another attempt may follow.",
                                   Kind::histogram, kFirstTokenBuckets, kNanos),
                   {llms_, models_}),
      per_token_(registry,
                 registry.family("gen_ai_server_time_per_output_token_seconds",
                                 "Successful streams: the time after the first token, per output "
                                 "token after the first.",
                                 Kind::histogram, kPerTokenBuckets, kNanos),
                 {llms_, models_}),
      attempts_(registry,
                registry.family("llm_proxy_upstream_attempts_total",
                                "Upstream attempts by how they ended.", Kind::counter),
                {llms_, outcome_labels()}),
      streams_(registry.series(registry.family("llm_proxy_active_streams",
                                               "Streams being relayed to clients.", Kind::gauge),
                               "")),
      key_requests_(registry,
                    registry.family("llm_proxy_key_requests_total",
                                    "Requests answered on routes with auth, by the client key "
                                    "they came with and the status class the client got.",
                                    Kind::counter),
                    {key_labels(keys), status_class_labels()}),
      key_tokens_(
          registry,
          registry.family("llm_proxy_key_tokens_total",
                          "Tokens the upstreams' answers report, by client key.", Kind::counter),
          {key_labels(keys),
           Labels{label("gen_ai_token_type", "input"), label("gen_ai_token_type", "output")}}),
      rate_limited_(registry,
                    registry.family("llm_proxy_rate_limited_total",
                                    "Requests, and upstream attempts, refused by llm-proxy's "
                                    "own limits, by the limit that had no room (an attempt's may "
                                    "then have gone to a fallback).",
                                    Kind::counter),
                    [&] {
                        auto [index, labels] = limit_labels(config, keys);
                        limit_index_ = std::move(index);
                        return std::array<Labels, 1>{std::move(labels)};
                    }()),
      limits_unavailable_(
          registry,
          registry.family("llm_proxy_limit_store_errors_total",
                          "Requests, and upstream attempts, whose rate limits' counters (in "
                          "Redis) could not be reached, by what [state] on_error made of them.",
                          Kind::counter),
          {Labels{label("on_error", "open"), label("on_error", "closed")}}) {}

void GatewayMetrics::rate_limited(std::string_view holder, LimitKind kind) {
    std::string name(holder);
    name += ':';
    name += kind_name(kind);
    if (auto it = limit_index_.find(name); it != limit_index_.end())
        rate_limited_.at({it->second}).add();
}

std::string_view operation_name(Endpoint endpoint) {
    return endpoint == Endpoint::embedding ? "embeddings" : "chat";
}

std::string_view outcome_name(AttemptOutcome outcome) {
    return kOutcomeNames[static_cast<std::size_t>(outcome)];
}

std::size_t GatewayMetrics::model_index(std::string_view model) const {
    auto it = model_index_.find(model);
    return it == model_index_.end() ? model_index_.size() : it->second;
}

void GatewayMetrics::request_done(const RequestMetrics& r) {
    const std::size_t route = r.route == SIZE_MAX ? route_none_ : r.route;
    const std::size_t status_class =
        r.status >= 100 && r.status < 600 ? static_cast<std::size_t>(r.status / 100 - 1) : 4;
    requests_.at({route, status_class}).add();
    if (r.key != SIZE_MAX) {
        key_requests_.at({r.key, status_class}).add();
        if (r.input_tokens > 0)
            key_tokens_.at({r.key, 0}).add(r.input_tokens);
        if (r.output_tokens > 0)
            key_tokens_.at({r.key, 1}).add(r.output_tokens);
    }
    if (r.overhead_s >= 0)
        overhead_.at({route}).observe(nanos(r.overhead_s));
    if (r.retries > 0)
        retries_.at({route}).add(r.retries);
    if (r.fallbacks > 0)
        fallbacks_.at({route}).add(r.fallbacks);
    if (r.llm == SIZE_MAX)
        return;
    const std::size_t model = model_index(r.model);
    duration_.at({r.llm, model, error_type_index(r.status)}).observe(nanos(r.duration_s));
    if (r.input_tokens >= 0)
        tokens_.at({r.llm, model, 0}).observe(static_cast<std::uint64_t>(r.input_tokens));
    if (r.output_tokens >= 0)
        tokens_.at({r.llm, model, 1}).observe(static_cast<std::uint64_t>(r.output_tokens));
    if (!r.streamed || r.status >= 400 || r.first_byte_s < 0)
        return;
    first_token_.at({r.llm, model}).observe(nanos(r.first_byte_s));
    if (r.output_tokens > 1)
        per_token_.at({r.llm, model})
            .observe(
                nanos((r.duration_s - r.first_byte_s) / static_cast<double>(r.output_tokens - 1)));
}

}  // namespace llmproxy
