// Who is calling: the client key a request presents, checked against the keys file for the
// route and model it asks for. Failures are ApiExceptions with the status clients expect: 401
// for a missing, unknown, revoked or expired key, 403 for a route or model the key may not use.
#pragma once

#include <cstdint>
#include <string_view>

#include "access/key_store.hpp"
#include "http/headers.hpp"

namespace llmproxy {

// The key of a request to the route of path_prefix route, presented as "Authorization: Bearer
// KEY" or "x-api-key: KEY" (Anthropic's SDKs), both allowed when they agree. The client's
// credentials (authorization, x-api-key, api-key) are removed from headers, found or not, so that
// neither processors nor upstreams ever see them. now: Unix seconds. Throws ApiException.
const ClientKey& authenticate(const KeyStore& keys, HeaderList& headers, std::string_view route,
                              std::int64_t now);

// Throws a 401 ApiException unless headers hold one "Authorization: Bearer KEY" whose digest is
// admin (compared in constant time). Reads headers only.
void authenticate_admin(const KeyDigest& admin, const HeaderList& headers);

// Throws a 403 ApiException unless key may ask for model.
void check_model_allowed(const ClientKey& key, std::string_view model);

}  // namespace llmproxy
