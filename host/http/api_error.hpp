// The one way llm-proxy describes a failure to a client: an OpenAI-style error
// {"error":{"message","type","code"}} with the HTTP status it travels with.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace llmproxy {

struct ApiError {
    int status = 500;
    std::string type = "server_error";  // OpenAI error type, e.g. "invalid_request_error"
    std::string code;                   // machine-readable; may be empty (sent as null)
    std::string message;

    // {"error":{...}}: the body of a JSON error response and the data of an SSE error event.
    std::string to_json() const;

    static ApiError bad_request(std::string code, std::string message);
    static ApiError bad_gateway(std::string code, std::string message);
    static ApiError gateway_timeout(std::string message);
    static ApiError internal(std::string message);
    // 404 model_not_found: "the model 'MODEL' " + why (the model cut to 256 characters), or that
    // the request names none.
    static ApiError model_not_found(
        std::string_view model,
        std::string_view why = "is not one of the models served here (GET /v1/models lists them)");
    // Not sent (nobody is listening): marks a request whose client went away, for the log.
    static ApiError client_closed();
};

// An ApiError as an exception, for code paths deep inside the request flow.
class ApiException : public std::runtime_error {
  public:
    explicit ApiException(ApiError error)
        : std::runtime_error(error.message), error_(std::move(error)) {}
    const ApiError& error() const { return error_; }

  private:
    ApiError error_;
};

}  // namespace llmproxy
