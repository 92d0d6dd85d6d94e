// The anthropic client API's error encoder: failures in Anthropic's error shape, one status per
// row.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "anthropic/client_error_encoder.hpp"

using nlohmann::json;

TEST_CASE("anthropic client error: each status gets Anthropic's error type") {
    const std::pair<int, const char*> rows[] = {{400, "invalid_request_error"},
                                                {401, "authentication_error"},
                                                {402, "billing_error"},
                                                {403, "permission_error"},
                                                {404, "not_found_error"},
                                                {405, "invalid_request_error"},
                                                {408, "invalid_request_error"},
                                                {409, "conflict_error"},
                                                {413, "request_too_large"},
                                                {422, "invalid_request_error"},
                                                {429, "rate_limit_error"},
                                                {500, "api_error"},
                                                {501, "api_error"},
                                                {502, "api_error"},
                                                {503, "overloaded_error"},
                                                {504, "timeout_error"},
                                                {529, "overloaded_error"},
                                                {200, "api_error"}};
    for (auto [status, type] : rows)
        CHECK_MESSAGE(anthropic::anthropic_error_type(status) == type, status);
}

TEST_CASE("anthropic client error: the body is Anthropic's error object with the message") {
    json body = json::parse(anthropic::client_error_body(429, "Too many \"requests\"\n"));
    CHECK(body ==
          json{{"type", "error"},
               {"error", {{"type", "rate_limit_error"}, {"message", "Too many \"requests\"\n"}}}});
}

TEST_CASE("anthropic client error: an empty message becomes one naming the status") {
    json body = json::parse(anthropic::client_error_body(502, ""));
    CHECK(body["error"]["type"] == "api_error");
    CHECK(body["error"]["message"] == "the request failed with HTTP status 502");
}
