#include "access/authentication.hpp"

#include <algorithm>
#include <optional>
#include <string>

#include "access/key_file.hpp"
#include "http/api_error.hpp"
#include "json/json_fields.hpp"

namespace llmproxy {

namespace {

ApiError unauthorized(std::string code, std::string message) {
    return {401, "invalid_request_error", std::move(code), std::move(message)};
}

ApiError forbidden(std::string code, std::string message) {
    return {403, "permission_error", std::move(code), std::move(message)};
}

bool is_credential(std::string_view name) {
    return equals_ignoring_case(name, "authorization") || equals_ignoring_case(name, "x-api-key") ||
           equals_ignoring_case(name, "api-key");
}

// The secret of "Bearer SECRET" (the scheme in any case, RFC 9110 11.1), or nullopt.
std::optional<std::string> bearer_secret(std::string_view value) {
    constexpr std::string_view scheme = "bearer ";
    if (value.size() <= scheme.size() || !equals_ignoring_case(value.substr(0, 7), scheme))
        return std::nullopt;
    value.remove_prefix(scheme.size());
    while (!value.empty() && value.front() == ' ')
        value.remove_prefix(1);
    return value.empty() ? std::nullopt : std::optional<std::string>(value);
}

}  // namespace

const ClientKey& authenticate(const KeyStore& keys, HeaderList& headers, std::string_view route,
                              std::int64_t now) {
    std::optional<std::string> bearer, api_key;
    bool other_authorization = false;
    for (const auto& [name, value] : headers) {
        if (equals_ignoring_case(name, "authorization")) {
            bearer = bearer_secret(value);
            other_authorization = !bearer;
        } else if (equals_ignoring_case(name, "x-api-key") && !value.empty()) {
            api_key = value;
        }
    }
    headers.erase(std::remove_if(headers.begin(), headers.end(),
                                 [](const auto& header) { return is_credential(header.first); }),
                  headers.end());
    if (bearer && api_key && *bearer != *api_key)
        throw ApiException(unauthorized(
            "invalid_api_key", "Authorization and x-api-key hold different keys; send one key"));
    const std::optional<std::string>& secret = bearer ? bearer : api_key;
    if (!secret)
        throw ApiException(unauthorized(
            "missing_api_key",
            std::string(other_authorization ? "the Authorization header is not 'Bearer KEY'; "
                                            : "") +
                "this route needs an API key: send 'Authorization: Bearer KEY' or "
                "'x-api-key: KEY'"));
    const ClientKey* key = keys.find(*secret);
    if (!key)
        throw ApiException(unauthorized("invalid_api_key", "the API key is not valid"));
    if (key->revoked && *key->revoked <= now)
        throw ApiException(unauthorized("invalid_api_key", "the API key has been revoked"));
    if (key->expires && *key->expires <= now)
        throw ApiException(unauthorized("expired_api_key",
                                        "the API key expired at " + rfc3339_utc(*key->expires)));
    if (!key->routes.empty() &&
        std::find(key->routes.begin(), key->routes.end(), route) == key->routes.end())
        throw ApiException(forbidden(
            "route_not_allowed",
            "the API key '" + key->id + "' may not use the route '" + std::string(route) + "'"));
    return *key;
}

void check_model_allowed(const ClientKey& key, std::string_view model) {
    if (key.models.empty() ||
        std::any_of(key.models.begin(), key.models.end(),
                    [&](const std::string& pattern) { return model_matches(pattern, model); }))
        return;
    throw ApiException(forbidden("model_not_allowed",
                                 "the API key '" + key.id + "' may not use the model '" +
                                     std::string(json_fields::utf8_prefix(model, kMaxModelName)) +
                                     "'"));
}

}  // namespace llmproxy
