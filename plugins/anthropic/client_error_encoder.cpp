#include "anthropic/client_error_encoder.hpp"

#include "anthropic/json_text.hpp"

namespace anthropic {

std::string_view anthropic_error_type(int http_status) {
    switch (http_status) {
        case 400:
            return "invalid_request_error";
        case 401:
            return "authentication_error";
        case 402:
            return "billing_error";
        case 403:
            return "permission_error";
        case 404:
            return "not_found_error";
        case 409:
            return "conflict_error";
        case 413:
            return "request_too_large";
        case 429:
            return "rate_limit_error";
        case 503:
        case 529:
            return "overloaded_error";
        case 504:
            return "timeout_error";
        default:
            return http_status >= 400 && http_status < 500 ? "invalid_request_error" : "api_error";
    }
}

std::string client_error_body(int http_status, std::string_view message) {
    std::string body = "{\"type\":\"error\",\"error\":{\"type\":\"";
    body += anthropic_error_type(http_status);
    body += "\",\"message\":";
    append_json_string(
        body, message.empty() ? "the request failed with HTTP status " + std::to_string(http_status)
                              : std::string(message));
    body += "}}";
    return body;
}

}  // namespace anthropic
