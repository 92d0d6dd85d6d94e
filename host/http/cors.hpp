// CORS as configured by [server] cors_allowed_origins: "*" allows any origin; otherwise an
// origin must be listed exactly (e.g. "https://app.example.com").
#pragma once

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <string>
#include <vector>

namespace llmproxy {

class Cors {
  public:
    explicit Cors(std::vector<std::string> allowed_origins);

    // Adds Access-Control-Allow-Origin (and Vary: Origin) when the request's Origin is allowed.
    void decorate(const Poco::Net::HTTPServerRequest& request,
                  Poco::Net::HTTPServerResponse& response) const;

    // Answers an OPTIONS request: 204 with the allowed methods and headers for an allowed origin,
    // 403 with an error naming the origin otherwise.
    void answer_preflight(const Poco::Net::HTTPServerRequest& request,
                          Poco::Net::HTTPServerResponse& response) const;

  private:
    bool allowed(const std::string& origin) const;

    std::vector<std::string> origins_;
    bool any_ = false;
};

}  // namespace llmproxy
