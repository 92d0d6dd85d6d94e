#include "access/authentication.hpp"

#include <openssl/crypto.h>

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
std::optional<std::string_view> bearer_secret(std::string_view value) {
    constexpr std::string_view scheme = "bearer ";
    if (value.size() <= scheme.size() || !equals_ignoring_case(value.substr(0, 7), scheme))
        return std::nullopt;
    value.remove_prefix(scheme.size());
    while (!value.empty() && value.front() == ' ')
        value.remove_prefix(1);
    return value.empty() ? std::nullopt : std::optional<std::string_view>(value);
}

// The key that headers present for route, or why there is none. Reads headers only.
const ClientKey* find_key(const KeyStore& keys, const HeaderList& headers, std::string_view route,
                          std::int64_t now, ApiError& refusal) {
    std::optional<std::string_view> bearer, api_key;
    int authorizations = 0, api_keys = 0;
    for (const auto& [name, value] : headers) {
        if (equals_ignoring_case(name, "authorization")) {
            ++authorizations;
            bearer = bearer_secret(value);
        } else if (equals_ignoring_case(name, "x-api-key")) {
            ++api_keys;
            api_key = value;
        }
    }
    // Which of several credentials counts must not depend on their order (a proxy in front may
    // read another one than llm-proxy would): more than one is refused.
    if (authorizations > 1 || api_keys > 1 || (bearer && api_key && *bearer != *api_key)) {
        refusal = unauthorized("invalid_api_key",
                               "the request holds more than one key; send one, as "
                               "'Authorization: Bearer KEY' or 'x-api-key: KEY'");
        return nullptr;
    }
    const bool other_authorization = authorizations == 1 && !bearer;
    if (api_key && api_key->empty())
        api_key.reset();
    const std::optional<std::string_view> secret = bearer ? bearer : api_key;
    if (!secret) {
        refusal = unauthorized(
            "missing_api_key",
            std::string(other_authorization ? "the Authorization header is not 'Bearer KEY'; "
                                            : "") +
                "this route needs an API key: send 'Authorization: Bearer KEY' or "
                "'x-api-key: KEY'");
        return nullptr;
    }
    const ClientKey* key = keys.find(*secret);
    if (!key)
        refusal = unauthorized("invalid_api_key", "the API key is not valid");
    else if (key->revoked && *key->revoked <= now)
        refusal = unauthorized("invalid_api_key", "the API key has been revoked");
    else if (key->expires && *key->expires <= now)
        refusal =
            unauthorized("expired_api_key", "the API key expired at " + rfc3339_utc(*key->expires));
    else if (!key->routes.empty() &&
             std::find(key->routes.begin(), key->routes.end(), route) == key->routes.end())
        refusal =
            forbidden("route_not_allowed", "the API key '" + key->id + "' may not use the route '" +
                                               std::string(route) + "'");
    else
        return key;
    return nullptr;
}

}  // namespace

const ClientKey& authenticate(const KeyStore& keys, HeaderList& headers, std::string_view route,
                              std::int64_t now) {
    ApiError refusal;
    const ClientKey* key = find_key(keys, headers, route, now, refusal);
    headers.erase(std::remove_if(headers.begin(), headers.end(),
                                 [](const auto& header) { return is_credential(header.first); }),
                  headers.end());
    if (!key)
        throw ApiException(std::move(refusal));
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

void authenticate_admin(const KeyDigest& admin, const HeaderList& headers) {
    std::optional<std::string_view> secret;
    int authorizations = 0;
    for (const auto& [name, value] : headers)
        if (equals_ignoring_case(name, "authorization")) {
            ++authorizations;
            secret = bearer_secret(value);
        }
    if (authorizations != 1 || !secret)
        throw ApiException(unauthorized("missing_api_key",
                                        "the admin endpoints need the admin key: send one "
                                        "'Authorization: Bearer KEY' ([auth] admin_key_env)"));
    const KeyDigest presented = key_digest(*secret);
    if (CRYPTO_memcmp(presented.data(), admin.data(), admin.size()) != 0)
        throw ApiException(unauthorized("invalid_api_key", "the admin key is not valid"));
}

}  // namespace llmproxy
