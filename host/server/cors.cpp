#include "server/cors.hpp"

#include <algorithm>

#include "http/responses.hpp"

namespace llmproxy {

Cors::Cors(std::vector<std::string> allowed_origins) : origins_(std::move(allowed_origins)) {
    any_ = std::find(origins_.begin(), origins_.end(), "*") != origins_.end();
}

bool Cors::allowed(std::string_view origin) const {
    return any_ || std::find(origins_.begin(), origins_.end(), origin) != origins_.end();
}

void Cors::decorate(const HttpRequest& request, HttpResponse& response) const {
    std::string_view origin = request.get("Origin");
    if (origin.empty() || !allowed(origin))
        return;
    response.set("Access-Control-Allow-Origin", any_ ? "*" : origin);
    response.set("Vary", "Origin");
    // Let browser code read the headers that matter for retries and tracing.
    response.set(
        "Access-Control-Expose-Headers",
        "x-request-id, x-upstream-request-id, retry-after, x-ratelimit-remaining-requests, "
        "x-ratelimit-remaining-tokens");
}

void Cors::answer_preflight(const HttpRequest& request, HttpResponse& response) const {
    std::string_view origin = request.get("Origin");
    if (!origin.empty() && !allowed(origin)) {
        send_error(response, {403, "invalid_request_error", "cors_origin_not_allowed",
                              "the origin '" + std::string(origin) +
                                  "' is not in [server] cors_allowed_origins"});
        return;
    }
    decorate(request, response);
    response.set("Allow", "GET, POST, OPTIONS");
    if (!origin.empty()) {
        response.set("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
        std::string_view asked = request.get("Access-Control-Request-Headers");
        response.set("Access-Control-Allow-Headers",
                     asked.empty() ? "authorization, content-type" : asked);
        response.set("Access-Control-Max-Age", "86400");
    }
    response.send(204, {}, {});
}

}  // namespace llmproxy
