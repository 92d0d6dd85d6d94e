// What llm-proxy lets into the request line of an upstream request. Provider plugins choose the
// method and the path (lp_host_api.set_upstream_method / set_upstream_path), and providers build
// paths from client input (a model name in the path, as Gemini's and Azure's APIs have it): a CR,
// LF, space or NUL there would end the line early and let a client write headers, or a request of
// its own, to the upstream. The rules are checked where a plugin sets a value (the request fails
// naming the plugin) and again where the line is written.
#pragma once

#include <string>
#include <string_view>

namespace llmproxy {

// Why `method` cannot be a request method, or "" when it can: an RFC 9110 token (letters, digits
// and !#$%&'*+-.^_`|~), at most 32 bytes.
std::string invalid_method(std::string_view method);

// Why `path` cannot follow the base URL's path in an origin-form request target, or "" when it
// can. Empty, or '/' then only what RFC 3986 allows in a path and a query: letters, digits,
// -._~!$&'()*+,;=:@/? and %XX escapes. No "." or ".." segment (%2e counts as a dot), which would
// climb out of the base URL's path; no '#', space, control byte or byte >= 0x7f: percent-encode
// what comes from a request before putting it in a path.
std::string invalid_path(std::string_view path);

}  // namespace llmproxy
