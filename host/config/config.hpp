// The gateway's configuration: the TOML schema of the original README plus llm-proxy's additions,
// parsed and validated in one pass so that every mistake is reported at once.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace llmproxy {

struct ServerConfig {
    std::string host = "127.0.0.1";
    int port = 3000;  // 0 picks a free port (tests use it; the bound port is logged)
    std::vector<std::string> cors_allowed_origins;
    std::size_t max_body_bytes = 64u << 20;
    // All request bodies being received at once, together; beyond it a new body gets a 503.
    std::size_t max_buffered_body_bytes = 1u << 30;
    int request_head_timeout_ms = 20000;  // a whole request head (see ClientLimits)
    int request_body_timeout_ms = 20000;  // a whole body, plus 1 s per request_body_min_rate bytes
    std::size_t request_body_min_rate = 500;
    int max_connections = 10000;  // client connections served at once; beyond that: 503
    int worker_threads = 0;       // event-loop threads serving connections; 0: one per CPU
    int keep_alive_timeout_ms = 15000;
    int client_send_timeout_ms = 60000;  // a client that stops reading is dropped after this
    int shutdown_grace_ms = 30000;       // how long requests in progress may finish at shut-down
    // On SIGTERM, how long /readyz says 503 while new connections are still served, so that load
    // balancers stop sending first; then shutdown_grace_ms begins.
    int drain_delay_ms = 0;
    bool metrics = true;              // count requests and answer GET /metrics
    std::string access_log = "text";  // one line per request: "text", "json" or "off"
    bool status_page = true;          // GET /status, for people
    std::string log_level = "info";
};

// The line of every key of one table, nested keys dotted: "options", "options.region".
using KeyLines = std::map<std::string, int, std::less<>>;

// The line of a key of a table, or the table's own line when the key is absent.
int line_of(const KeyLines& keys, std::string_view key, int table_line);

enum class Endpoint { chat = 1, embedding = 2 };  // the values of LP_ENDPOINT_*

// Rate limits and budgets of a client key, a route or an llm (`limits = { ... }`); 0: no limit
// of that kind. Minutes are fixed windows of the clock (12:00:00 to 12:00:59, ...), days and
// months those of the UTC calendar, the same on every replica.
struct Limits {
    std::int64_t requests_per_minute = 0;
    // Tokens are reserved when a request is admitted (an estimate of its prompt, from its size,
    // plus its max_tokens) and corrected from the usage its answer reports, streams included.
    std::int64_t tokens_per_minute = 0;
    std::int64_t concurrent_requests = 0;  // in progress at once, streams until they end
    // Budgets, counted as tokens_per_minute is. Cost in millionths of a US dollar (files say
    // dollars), by the [prices] of the request's model.
    std::int64_t tokens_per_day = 0;
    std::int64_t tokens_per_month = 0;
    std::int64_t cost_per_day = 0;
    std::int64_t cost_per_month = 0;

    bool any() const;
};

// Each setting of a Limits: its name in files and its member, in the order of LimitKind
// (limits/limit_store.hpp). Costs are written in dollars and kept in millionths.
struct LimitField {
    std::string_view name;
    std::int64_t Limits::*member;
    bool dollars;
};
inline constexpr std::array<LimitField, 7> kLimitFields = {{
    {"requests_per_minute", &Limits::requests_per_minute, false},
    {"tokens_per_minute", &Limits::tokens_per_minute, false},
    {"concurrent_requests", &Limits::concurrent_requests, false},
    {"tokens_per_day", &Limits::tokens_per_day, false},
    {"tokens_per_month", &Limits::tokens_per_month, false},
    {"cost_per_day", &Limits::cost_per_day, true},
    {"cost_per_month", &Limits::cost_per_month, true},
}};

inline bool Limits::any() const {
    for (const LimitField& field : kLimitFields)
        if (this->*field.member)
            return true;
    return false;
}

// Millionths of a dollar as a file writes dollars: "2.5", "0.000001", "12".
std::string dollars_text(std::int64_t micros);

// [prices."MODEL"]: what a model's tokens cost, in dollars per million tokens (so, millionths of
// a dollar per token). MODEL may be a pattern ('*'); the longest pattern matching wins.
struct Price {
    double input_per_million = 0;
    double output_per_million = 0;
};

// How the failed upstream attempts of a request are tried again: an llm's [llm.NAME.retry], or a
// route's retry table, which then applies whichever llm an attempt reaches.
struct RetryPolicy {
    int attempts = 1;  // in all, the first one included; 1: a failure goes to the client as it is
    // What is tried again: an attempt that reached no upstream ("connect"), a connection that broke
    // before the answer's first content ("broken"), an upstream too slow ("timeout"), and answers
    // with these statuses. Client errors never are: another attempt would get the same answer.
    bool on_connect = true;
    bool on_broken = true;
    bool on_timeout = true;
    std::vector<int> on_status = {408, 429, 500, 502, 503, 504, 529};
    // Before retry n, a wait drawn at random from [0, min(backoff_max_ms, base * 2^(n-1))].
    int backoff_base_ms = 250;
    int backoff_max_ms = 8000;
    // An upstream's Retry-After (or retry-after-ms) is waited instead, up to this; an upstream
    // asking for longer gets no retry, and its answer goes to the client.
    int retry_after_max_ms = 60000;
    // No retry starts, and no wait ends, later than this after the request arrived; 0: no bound.
    int deadline_ms = 0;

    bool retries_status(int status) const;
};

struct LlmConfig {
    std::string name;
    std::string provider;  // the provider type a plugin exports
    Endpoint endpoint = Endpoint::chat;
    std::string base_url;
    std::string token_env;
    bool supports_streaming = true;
    int connect_timeout_ms = 10000;
    int read_timeout_ms = 300000;  // the default of the three below
    // One of the waits below, and the setting it comes from (read_timeout_ms when its own is
    // not set), which a 504 names.
    struct Timeout {
        int ms = 300000;
        std::string_view setting = "read_timeout_ms";
    };
    Timeout first_byte_timeout;   // from the request sent to the answer's head
    Timeout first_event_timeout;  // from a stream's head to its first event
    Timeout idle_timeout;         // between two reads once the answer flows
    int total_timeout_ms = 0;     // one attempt, whole; 0: no bound
    int max_idle_connections = 64;
    std::size_t max_event_bytes = 8u << 20;  // one event of an upstream stream, at most
    std::string ca_file;                     // extra CA bundle (PEM) trusted for this upstream
    std::string options_json = "{}";         // [llm.NAME.options], for the provider
    std::optional<RetryPolicy> retry;        // [llm.NAME.retry]
    Limits limits;                           // [llm.NAME.limits]: what is sent to this llm
    // Public models ([models.NAME]) tried in order when a request a target_llm route sent here
    // failed and its retries are spent (see ModelConfig).
    std::vector<std::string> fallbacks;
    std::vector<std::string> context_window_fallbacks;
    int line = 0;
    KeyLines key_lines;
};

struct ProcessorConfig {
    std::string name;
    std::string type;
    std::string config_value;
    std::string additional_config_json = "{}";
    int line = 0;
    KeyLines key_lines;
};

// How a public model's requests are spread over its deployments that are not ejected.
enum class Balance {
    weighted,           // at random, each as likely as its share of the weights
    least_outstanding,  // the fewest attempts in flight for its weight
    latency,            // the lowest recent time to first byte, times the attempts in flight + 1
};

// When a deployment leaves its model's choice for a while (outlier ejection). Only failures of
// the deployment count: connect errors, broken connections, timeouts, 408, 429 and 5xx answers;
// never a client error (another 4xx), a context-window error or a client that left.
struct EjectionPolicy {
    int consecutive_failures = 5;  // in a row; 0: never for this reason
    // Of the attempts in one interval_ms, once there were min_requests; 0: never for this reason.
    int failure_percent = 50;
    int min_requests = 20;
    int interval_ms = 10000;
    // An ejection lasts base_ejection_ms times the deployment's recent ejections (one fewer for
    // each interval_ms it has been back without one), at most max_ejection_ms.
    int base_ejection_ms = 30000;
    int max_ejection_ms = 300000;  // when not given: at least base_ejection_ms
    // At most this share of the model's deployments is ejected at once (rounded down, but one may
    // always be). With none left to choose (ejected, or cooling after a 429's Retry-After), the
    // choice is among all of them: panic mode.
    int max_ejected_percent = 50;
};

// A public model: the name clients put in "model", served by one or more deployments.
struct ModelConfig {
    struct Deployment {
        std::string llm;    // an [llm.NAME]
        std::string model;  // the name the upstream knows it by; the public name when not given
        int weight = 1;     // its share of the requests, against the others' weights
        int line = 0;
    };
    std::string name;
    std::vector<Deployment> deployments;
    // Other public models, tried in order (each with its own attempts, and its own fallbacks after
    // it) when a request's attempts on this one are spent on failures its retry policy names.
    std::vector<std::string> fallbacks;
    // Tried instead when the upstream says the request exceeds the model's context window.
    std::vector<std::string> context_window_fallbacks;
    Balance balance = Balance::weighted;
    EjectionPolicy ejection;
    int line = 0;
    KeyLines key_lines;
};

// The most deployments one public model may have.
inline constexpr std::size_t kMaxDeployments = 64;

struct RouteConfig {
    std::string path_prefix;
    // Empty: the request's model names the target, a [models.NAME].
    std::string target_llm;
    // The request models the route takes: names, or patterns with '*' (any run of characters).
    // Empty: every model. Routes of one path_prefix are tried in the file's order.
    std::vector<std::string> models;
    // The API the route speaks to its clients: "openai" (built in, the canonical format) or the
    // name of a client API a plugin exports (sdk/include/llm_proxy/client_api.h).
    std::string api = "openai";
    std::vector<std::string> processors;
    bool allow_streaming = true;
    bool allow_non_streaming = true;
    std::optional<RetryPolicy> retry;  // replaces the llms' own, for the requests of this route
    // When another attempt may follow, a stream's head waits for the first content event, so that
    // a stream failing before it is tried again without the client seeing anything.
    bool hold_stream_head = true;
    // Requests need a client key of [auth] keys_file; true by default when there is one. Routes
    // of one path_prefix agree (the key is checked before the body, and so the model, is read).
    bool auth = false;
    Limits limits;  // what the route takes, from every client together
    int line = 0;
    KeyLines key_lines;
};

// [auth]: who may call.
struct AuthConfig {
    // The keys file (access/key_file.hpp), relative to the config file; empty: no client keys.
    std::string keys_file;
    // The environment variable holding the admin key, which GET /admin/usage needs (as
    // "Authorization: Bearer KEY"); empty: no admin endpoint.
    std::string admin_key_env;
};

// [state]: where rate-limit counters live: in the process, or in a Redis shared by replicas.
struct StateConfig {
    // "redis://HOST[:PORT]" (6379 by default); empty: in the process.
    std::string redis;
    std::string redis_host;  // from redis
    int redis_port = 6379;
    // The environment variable holding Redis's password (AUTH); empty: none.
    std::string redis_password_env;
    // When Redis cannot be reached in time: true ("open") admits requests as if no limit applied,
    // false ("closed") refuses the requests a limit applies to with 503.
    bool fail_open = true;
    int timeout_ms = 250;  // for each Redis command, from the call to its reply

    bool operator==(const StateConfig&) const = default;
};

// [telemetry]: traces. Spans are exported only when otlp_endpoint is set.
struct TelemetryConfig {
    std::string otlp_endpoint;  // OTLP/HTTP (JSON) traces URL: http://host:4318/v1/traces
    std::string service_name = "llm-proxy";
    double sample_ratio = 1.0;  // of requests that come without a sampled or unsampled parent
    std::size_t max_queued_spans = 4096;
    std::size_t export_batch_size = 512;
    int export_interval_ms = 1000;
    int export_timeout_ms = 5000;
};

struct Config {
    std::string file;
    ServerConfig server;
    std::vector<std::string> plugin_dirs;  // [plugins] dirs, made absolute
    std::map<std::string, LlmConfig> llms;
    std::map<std::string, ProcessorConfig> processors;
    std::map<std::string, ModelConfig> models;
    std::vector<RouteConfig> routes;
    TelemetryConfig telemetry;
    AuthConfig auth;
    StateConfig state;
    std::map<std::string, Price> prices;  // by model name or pattern

    // The price of `model`: its own, else that of the longest pattern matching it; null if none.
    const Price* price_of(std::string_view model) const;
};

// The longest public model name or pattern; a request's model longer than this matches nothing.
inline constexpr std::size_t kMaxModelName = 256;

// Whether `model` matches `pattern`, in which '*' stands for any run of characters (none too).
bool model_matches(std::string_view pattern, std::string_view model);

struct ConfigProblem {
    std::string file;
    int line = 0;     // 0 when the problem has no single place
    std::string key;  // dotted path, e.g. "llm.openai.base_url"
    std::string message;
    std::string to_string() const;
};

// Thrown with every problem found; what() lists them one per line.
class ConfigError : public std::runtime_error {
  public:
    explicit ConfigError(std::vector<ConfigProblem> problems);
    const std::vector<ConfigProblem>& problems() const { return problems_; }

  private:
    std::vector<ConfigProblem> problems_;
};

// Parses TOML text; `file` names it in messages and anchors relative plugin dirs.
// Throws ConfigError listing every problem.
Config parse_config(const std::string& text, const std::string& file);

// Reads and parses a file. Throws ConfigError (also when the file cannot be read).
Config load_config(const std::string& path);

}  // namespace llmproxy
