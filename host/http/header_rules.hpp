// Which headers cross the proxy. Everything the client sends reaches the upstream (so headers such
// as OpenAI-Organization or anthropic-beta are never silently dropped) except hop-by-hop headers,
// the ones the host sets itself, and credentials the llm's own key replaces.
#pragma once

#include "http/headers.hpp"

namespace llmproxy {

// The client's request headers that go on to the upstream, x-request-id aside (the host sends
// the request's own). Authorization (and api-key,
// x-api-key) pass only when the llm has no token_env of its own (the client then brings its key,
// e.g. to a self-hosted server). Headers the client's Connection header names are hop-by-hop and
// stay behind (RFC 9110 7.6.1).
HeaderList request_headers_for_upstream(const HeaderList& from_client, bool llm_has_own_key);

// The upstream's response headers that go back to the client (x-ratelimit-*, ...), without
// hop-by-hop ones, those its Connection header names included. The upstream's x-request-id comes
// as x-upstream-request-id: x-request-id is the request's id in llm-proxy.
HeaderList response_headers_for_client(const HeaderList& from_upstream);

}  // namespace llmproxy
