#include "server/gateway_handler.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>

#include "access/authentication.hpp"
#include "http/responses.hpp"
#include "json/json_fields.hpp"
#include "logging/log_context.hpp"
#include "logging/log_text.hpp"
#include "pipeline/client_api_call.hpp"
#include "pipeline/request_flow.hpp"
#include "server/request_id.hpp"
#include "server/usage_report.hpp"

namespace llmproxy {

namespace {

std::string path_of(const std::string& uri) {
    auto end = uri.find_first_of("?#");
    return end == std::string::npos ? uri : uri.substr(0, end);
}

// The value of the query parameter `name` in uri (taken as it is written), or nullopt.
std::optional<std::string_view> query_value(std::string_view uri, std::string_view name) {
    const auto start = uri.find('?');
    if (start == std::string_view::npos)
        return std::nullopt;
    std::string_view query = uri.substr(start + 1);
    query = query.substr(0, query.find('#'));
    while (!query.empty()) {
        const std::string_view pair = query.substr(0, query.find('&'));
        if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=')
            return pair.substr(name.size() + 1);
        query.remove_prefix(std::min(query.size(), pair.size() + 1));
    }
    return std::nullopt;
}

// An error in the form the client API's clients expect (api: null for OpenAI's, the built-in).
void send_error_for(const ClientApiRuntime* api, HttpResponse& response, const ApiError& error) {
    if (api && error.status != ApiError::client_closed().status)
        if (auto shaped = client_error_answer(*api, nullptr, error))
            return response.send(shaped->status, shaped->content_type, shaped->body);
    send_error(response, error);
}

// The request's own span, as the GenAI conventions name it ("chat MODEL"), with what the access
// log says of the request.
Span request_span(const RequestTrace& trace, const std::string& request_id,
                  const RouteRuntime& route, const std::string& method, const std::string& path,
                  const FlowOutcome& outcome) {
    const std::string operation(operation_name(route.endpoint));
    Span span = trace.own_span(operation + ' ' + printable(outcome.model, 256));
    span.set("gen_ai.operation.name", operation);
    span.set("gen_ai.request.model", outcome.model);
    if (outcome.llm) {
        span.set("gen_ai.provider.name", outcome.llm->config->provider);
        span.set("llm_proxy.llm", outcome.llm->config->name);
    }
    if (outcome.input_tokens >= 0)
        span.set("gen_ai.usage.input_tokens", outcome.input_tokens);
    if (outcome.output_tokens >= 0)
        span.set("gen_ai.usage.output_tokens", outcome.output_tokens);
    span.set("http.request.method", method);
    span.set("url.path", std::string(json_fields::utf8_prefix(path, kMaxSpanText)));
    span.set("http.response.status_code", std::int64_t{outcome.status});
    span.set("llm_proxy.route", route.config->path_prefix);
    span.set("llm_proxy.request_id", request_id);
    span.set("llm_proxy.stream", outcome.streamed);
    span.set("llm_proxy.attempts", std::int64_t{outcome.attempts});
    if (outcome.client_gone)
        span.set("llm_proxy.client_gone", true);
    // As the HTTP conventions have it for a server: a 4xx is the client's error (error.type,
    // status unset), a 5xx or a stream that failed after it started is the server's (ERROR).
    if (outcome.status >= 400)
        span.set("error.type", std::to_string(outcome.status));
    else if (!outcome.error.empty())
        span.set("error.type", "stream_failed");
    if (outcome.status >= 500 || (outcome.status < 400 && !outcome.error.empty())) {
        span.error = true;
        span.status_message = json_fields::utf8_prefix(outcome.error, kMaxSpanText);
    }
    return span;
}

// The client key of a request to route (see authenticate), logged by its id when refused.
// A 401 tells the client how to authenticate (RFC 9110 11.6.1).
const ClientKey& authenticate_request(const Runtime& runtime, const RouteRuntime& route,
                                      HttpRequest& request, HttpResponse& response) {
    try {
        return authenticate(*runtime.keys(), request.headers, route.config->path_prefix,
                            std::time(nullptr));
    } catch (const ApiException& e) {
        if (e.error().status == 401)
            response.set("WWW-Authenticate", "Bearer realm=\"llm-proxy\"");
        // At debug level: the access line says it too, and refusals can come by the thousand.
        spdlog::debug("auth: refused ({}): {}", e.error().code, e.error().message);
        throw;
    }
}

}  // namespace

std::string GatewayHandler::metrics_text() const {
    std::string text = current()->runtime->metrics_text();
    const std::pair<std::string, double> in_progress[] = {{"", in_progress_.load()}};
    metrics::render_values(text, "llm_proxy_requests_in_progress",
                           "Requests being served, their answers included.", metrics::Kind::gauge,
                           in_progress);
    if (open_connections_) {
        const std::pair<std::string, double> open[] = {{"", open_connections_->load()}};
        metrics::render_values(text, "llm_proxy_open_connections", "Client connections open.",
                               metrics::Kind::gauge, open);
    }
    return text;
}

GatewayHandler::Serving::Serving(std::shared_ptr<Runtime> served)
    : runtime(std::move(served)),
      cors(runtime->config().server.cors_allowed_origins),
      access_log(AccessLog::format_named(runtime->config().server.access_log)
                     .value_or(AccessLog::Format::text)) {}

GatewayHandler::GatewayHandler(std::shared_ptr<Runtime> runtime,
                               const std::vector<std::filesystem::path>& status_dirs)
    : status_page_(status_dirs) {
    if (runtime->config().server.status_page && !status_page_.found())
        spdlog::warn(
            "the status page's files are not installed (looked in: {}); GET /status "
            "will answer 404",
            status_page_.looked_in());
    serve(std::move(runtime));
}

void GatewayHandler::serve(std::shared_ptr<Runtime> runtime) {
    auto next = std::make_shared<Serving>(std::move(runtime));
    std::lock_guard lock(serving_mutex_);
    serving_.swap(next);  // the one before goes when `next` does, outside the lock
}

std::shared_ptr<GatewayHandler::Serving> GatewayHandler::current() const {
    std::lock_guard lock(serving_mutex_);
    return serving_;
}

void GatewayHandler::serve_status_page(const std::string& method, const std::string& path,
                                       HttpResponse& response) {
    if (method != "GET" && method != "HEAD") {
        response.set("Allow", "GET");
        throw ApiException({405, "invalid_request_error", "method_not_allowed",
                            path + " answers GET, not " + method});
    }
    if (path == "/status/errors")
        return response.send(200, "application/json", recent_errors_.json());
    const StatusPage::Asset* asset = status_page_.find(path);
    if (!asset)
        throw ApiException({404, "invalid_request_error", "not_found",
                            status_page_.found()
                                ? "the status page has no file " + path
                                : "the status page's files are not installed (looked in: " +
                                      status_page_.looked_in() + ")"});
    response.set("Cache-Control", "no-cache");
    response.send(200, asset->content_type, asset->body);
}

void GatewayHandler::handle(ClientSocket& client, HttpRequest& request, HttpResponse& response,
                            HangUpWatch& watch) {
    auto started = std::chrono::steady_clock::now();
    // The runtime this request started on serves it to its end, whatever a reload swaps in.
    const std::shared_ptr<Serving> serving = current();
    Runtime& runtime = *serving->runtime;
    const std::string request_id = request_id_for(request.headers);
    RequestLogScope log_scope(&request_id);
    response.set("x-request-id", request_id);
    const RequestTrace trace(request.headers, runtime.spans(),
                             runtime.config().telemetry.sample_ratio);
    ++in_progress_;
    struct Done {
        std::atomic<int>& count;
        ~Done() { --count; }
    } done{in_progress_};
    const std::string path = path_of(request.target);
    const std::string& method = request.method;
    FlowOutcome outcome;
    std::string route_name = "-";
    const RouteRuntime* route = nullptr;
    const ClientKey* key = nullptr;               // on a route with auth, once checked
    const ClientApiRuntime* error_api = nullptr;  // whose clients the errors are shaped for
    try {
        serving->cors.decorate(request, response);
        if (method == "OPTIONS") {
            serving->cors.answer_preflight(request, response);
            outcome.status = response.status();
        } else if (path == "/healthz") {
            if (method != "GET" && method != "HEAD") {
                response.set("Allow", "GET");
                throw ApiException({405, "invalid_request_error", "method_not_allowed",
                                    "/healthz answers GET, not " + method});
            }
            response.send(200, "application/json", runtime.health_json());
            outcome.status = 200;
        } else if (path == "/readyz") {
            if (method != "GET" && method != "HEAD") {
                response.set("Allow", "GET");
                throw ApiException({405, "invalid_request_error", "method_not_allowed",
                                    "/readyz answers GET, not " + method});
            }
            // Unlike /healthz (alive), whether to send new requests here: not while draining.
            if (ready_)
                response.send(200, "application/json", R"({"status":"ready"})");
            else
                response.send(503, "application/json", R"({"status":"draining"})");
            outcome.status = response.status();
        } else if ((path == "/status" || path.rfind("/status/", 0) == 0) &&
                   runtime.config().server.status_page) {
            serve_status_page(method, path, response);
            outcome.status = response.status();
        } else if (path == "/metrics" && runtime.metrics()) {
            if (method != "GET" && method != "HEAD") {
                response.set("Allow", "GET");
                throw ApiException({405, "invalid_request_error", "method_not_allowed",
                                    "/metrics answers GET, not " + method});
            }
            response.send(200, "text/plain; version=0.0.4; charset=utf-8", metrics_text());
            outcome.status = 200;
        } else if (path == "/admin/usage" && runtime.admin_key()) {
            if (method != "GET" && method != "HEAD") {
                response.set("Allow", "GET");
                throw ApiException({405, "invalid_request_error", "method_not_allowed",
                                    "/admin/usage answers GET, not " + method});
            }
            try {
                authenticate_admin(*runtime.admin_key(), request.headers);
            } catch (const ApiException&) {
                response.set("WWW-Authenticate", "Bearer realm=\"llm-proxy admin\"");
                throw;
            }
            response.send(200, "application/json",
                          usage_json(runtime, query_value(request.target, "key"), epoch_ms()));
            outcome.status = 200;
        } else if ((method == "GET" || method == "HEAD") &&
                   (path == "/v1/models" || path.rfind("/v1/models/", 0) == 0)) {
            // The public models ([models.NAME]), as OpenAI's API lists its own, or as Anthropic's
            // does for Anthropic's clients (their SDKs send anthropic-version on every request)
            // when a route speaks Anthropic's API, which then shapes the errors too.
            const ClientApiRuntime* api = runtime.client_api("anthropic");
            const bool anthropic =
                api && find_header(request.headers, "anthropic-version") != nullptr;
            error_api = anthropic ? api : nullptr;
            if (path == "/v1/models") {
                response.send(200, "application/json", runtime.models_json(anthropic));
            } else {
                const std::string id = path.substr(std::string_view("/v1/models/").size());
                auto model = runtime.model_json(id, anthropic);
                if (!model)
                    throw ApiException(ApiError::model_not_found(id));
                response.send(200, "application/json", *model);
            }
            outcome.status = response.status();
        } else {
            route = runtime.route_for(path);
            if (!route)
                throw ApiException({404, "invalid_request_error", "route_not_found",
                                    "no route matches the path '" + path +
                                        "'; see GET /healthz for the configured routes"});
            route_name = route->config->path_prefix;
            error_api = route->api;
            if (method != "POST") {
                response.set("Allow", "POST, OPTIONS");
                throw ApiException({405, "invalid_request_error", "method_not_allowed",
                                    "the route '" + route_name + "' answers POST, not " + method});
            }
            // Before the body is read: a caller without a key gets no further.
            if (route->config->auth)
                key = &authenticate_request(runtime, *route, request, response);
            std::string body = client.read_body(request, runtime.config().server.max_body_bytes);
            outcome = run_request_flow(runtime, *route, std::move(body), request, request_id, trace,
                                       watch, response, active_.start(), key);
        }
    } catch (const ApiException& e) {
        outcome.status = e.error().status;
        outcome.error = e.error().message;
        if (!response.sent())
            send_error_for(error_api, response, e.error());
    } catch (const std::exception& e) {
        outcome.status = 500;
        outcome.error = e.what();
        if (!response.sent())
            send_error_for(error_api, response, ApiError::internal(e.what()));
    }
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count();
    // Counting and tracing never fail a request that has been answered (memory runs out, say).
    try {
        record(runtime, route, key, method, path, request_id, trace, outcome, ms);
    } catch (const std::exception& e) {
        spdlog::warn("counting or tracing the request failed: {}", e.what());
    }
    serving->access_log.write(
        {request_id, method, path, route_name, outcome, ms, key ? key->id : std::string_view()});
    if (outcome.status >= 400 || !outcome.error.empty())
        recent_errors_.add(
            {utc_timestamp(), request_id, method, path, route_name, outcome.status, outcome.error});
}

void GatewayHandler::record(Runtime& runtime, const RouteRuntime* route, const ClientKey* key,
                            const std::string& method, const std::string& path,
                            const std::string& request_id, const RequestTrace& trace,
                            const FlowOutcome& outcome, double ms) {
    if (GatewayMetrics* metrics = runtime.metrics())
        metrics->request_done(
            {route ? route->index : SIZE_MAX, outcome.llm ? outcome.llm->index : SIZE_MAX,
             outcome.model, outcome.status, outcome.streamed, ms / 1000,
             outcome.first_byte_ms / 1000, outcome.overhead_ms / 1000, outcome.input_tokens,
             outcome.output_tokens, std::max(0, outcome.attempts - 1 - outcome.fallbacks),
             outcome.fallbacks,
             key ? static_cast<std::size_t>(key - runtime.keys()->keys().data()) : SIZE_MAX});
    if (route && trace.recording())
        trace.finish(request_span(trace, request_id, *route, method, path, outcome));
}

}  // namespace llmproxy
