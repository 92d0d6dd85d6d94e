#include "http/api_error.hpp"

#include <nlohmann/json.hpp>

namespace llmproxy {

std::string ApiError::to_json() const {
    nlohmann::json body = {
        {"error",
         {{"message", message},
          {"type", type},
          {"code", code.empty() ? nlohmann::json(nullptr) : nlohmann::json(code)}}}};
    // Replace invalid UTF-8 (from an upstream or a plugin) rather than throw.
    return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

ApiError ApiError::bad_request(std::string code, std::string message) {
    return {400, "invalid_request_error", std::move(code), std::move(message)};
}

ApiError ApiError::model_not_found(std::string_view model, std::string_view why) {
    constexpr std::size_t kQuoted = 256;  // the longest model name a config may hold
    std::string message = model.empty() ? std::string("the request names no model")
                                        : "the model '" + std::string(model.substr(0, kQuoted)) +
                                              "' " + std::string(why);
    return {404, "invalid_request_error", "model_not_found", std::move(message)};
}

ApiError ApiError::bad_gateway(std::string code, std::string message) {
    return {502, "upstream_error", std::move(code), std::move(message)};
}

ApiError ApiError::gateway_timeout(std::string message) {
    return {504, "upstream_error", "upstream_timeout", std::move(message)};
}

ApiError ApiError::internal(std::string message) {
    return {500, "server_error", "internal_error", std::move(message)};
}

ApiError ApiError::client_closed() {
    return {499, "client_closed", "client_closed", "the client disconnected"};
}

}  // namespace llmproxy
