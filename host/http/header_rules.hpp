// Which headers cross the proxy. Everything the client sends reaches the upstream (so headers such
// as OpenAI-Organization or anthropic-beta are never silently dropped) except hop-by-hop headers,
// the ones the host sets itself, and credentials the llm's own key replaces.
#pragma once

#include <string_view>

namespace llmproxy {

// A client request header that goes on to the upstream. Authorization passes only when the llm
// has no token_env of its own (the client then brings its key, e.g. to a self-hosted server).
bool forward_request_header(std::string_view name, bool llm_has_own_key);

// An upstream response header that goes back to the client (x-request-id, x-ratelimit-*, ...).
bool forward_response_header(std::string_view name);

}  // namespace llmproxy
