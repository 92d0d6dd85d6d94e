#include <doctest/doctest.h>

#include "runtime/gateway_metrics.hpp"

using namespace llmproxy;

namespace {

Config two_llms() {
    Config config;
    config.llms["a"].name = "a";
    config.llms["a"].provider = "openai";
    config.llms["b"].name = "b";
    config.llms["b"].provider = "anthropic";
    config.llms["b"].endpoint = Endpoint::embedding;
    config.models["pub"].name = "pub";
    RouteConfig route;
    route.path_prefix = "/v1";
    route.target_llm = "a";
    route.models = {"exact", "gpt-*"};
    config.routes.push_back(route);
    return config;
}

}  // namespace

TEST_CASE("a request is counted under its route, status class, llm and configured model") {
    metrics::Registry registry;
    GatewayMetrics metrics(registry, two_llms());
    metrics.request_done({0, 1, "pub", 429, false, 0.5, 0.1, 0.0001, 10, 20, 1, 0});
    const std::string text = registry.render();
    CHECK(text.find(
              "llm_proxy_requests_total{route=\"/v1\",api=\"openai\",status_class=\"4xx\"} 1") !=
          std::string::npos);
    CHECK(text.find("gen_ai_client_operation_duration_seconds_count{gen_ai_operation_name="
                    "\"embeddings\",gen_ai_provider_name=\"anthropic\",llm=\"b\","
                    "gen_ai_request_model=\"pub\",error_type=\"429\"} 1") != std::string::npos);
    CHECK(text.find("llm_proxy_retries_total{route=\"/v1\",api=\"openai\"} 1") !=
          std::string::npos);
    // Time to first token is for successful streams only.
    CHECK(text.find("time_to_first_token") == std::string::npos);
}

TEST_CASE("models the configuration does not name, and patterns, count as other") {
    metrics::Registry registry;
    GatewayMetrics metrics(registry, two_llms());
    for (const char* model : {"invented", "gpt-4o", "exact", "gpt-*"})
        metrics.request_done({0, 0, model, 200, true, 1, 0.25, 0.0001, 5, 3, 0, 0});
    const std::string text = registry.render();
    CHECK(text.find("gen_ai_request_model=\"invented\"") == std::string::npos);
    CHECK(text.find("gen_ai_request_model=\"gpt-4o\"") == std::string::npos);
    CHECK(text.find("llm=\"a\",gen_ai_request_model=\"other\"} 3") != std::string::npos);
    CHECK(text.find("llm=\"a\",gen_ai_request_model=\"exact\"} 1") != std::string::npos);
    // (1 - 0.25) s over 2 tokens after the first.
    CHECK(text.find("gen_ai_server_time_per_output_token_seconds_sum{gen_ai_operation_name="
                    "\"chat\",gen_ai_provider_name=\"openai\",llm=\"a\",gen_ai_request_model="
                    "\"exact\"} 0.375") != std::string::npos);
}

TEST_CASE("a request without a route or an llm counts under route none, and nothing of llms") {
    metrics::Registry registry;
    GatewayMetrics metrics(registry, two_llms());
    metrics.request_done({SIZE_MAX, SIZE_MAX, "", 404, false, 0.001, -1, -1, -1, -1, 0, 0});
    const std::string text = registry.render();
    CHECK(
        text.find("llm_proxy_requests_total{route=\"none\",api=\"none\",status_class=\"4xx\"} 1") !=
        std::string::npos);
    CHECK(text.find("gen_ai_") == std::string::npos);
    CHECK(text.find("llm_proxy_overhead_seconds") == std::string::npos);
}
