// CORS as configured by [server] cors_allowed_origins: "*" allows any origin; otherwise an
// origin must be listed exactly (e.g. "https://app.example.com").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http/http_request.hpp"
#include "http/http_response.hpp"

namespace llmproxy {

class Cors {
  public:
    explicit Cors(std::vector<std::string> allowed_origins);

    // Adds Access-Control-Allow-Origin (and Vary: Origin) when the request's Origin is allowed.
    void decorate(const HttpRequest& request, HttpResponse& response) const;

    // Answers an OPTIONS request: 204 with the allowed methods and headers for an allowed origin,
    // 403 with an error naming the origin otherwise.
    void answer_preflight(const HttpRequest& request, HttpResponse& response) const;

  private:
    bool allowed(std::string_view origin) const;

    std::vector<std::string> origins_;
    bool any_ = false;
};

}  // namespace llmproxy
