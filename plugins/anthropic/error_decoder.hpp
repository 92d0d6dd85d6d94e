// Anthropic errors to OpenAI errors: an error answer (HTTP status and body), or the error of a
// mid-stream `event: error`.
//
// Anthropic's body {"type":"error","error":{"type":T,"message":M}} with status S becomes OpenAI's
// {"error":{"message":M,"type":X,"param":null,"code":C}}:
//   - the status stays S, except 529 (overloaded), which becomes 503: OpenAI clients know 503;
//   - X: authentication_error for 401, permission_error for 403, rate_limit_error for 429,
//     server_error for 5xx, invalid_request_error for every other status;
//   - C = T (e.g. "overloaded_error"), except a 400 whose message says the prompt does not fit
//     the context window: C = "context_length_exceeded", as OpenAI says it.
// A body of another shape (an HTML page from a CDN) keeps its status (529 -> 503) and gets a
// message naming the status and quoting up to 200 bytes of the body, made printable.
#pragma once

#include <string>
#include <string_view>

namespace anthropic {

struct OpenAiError {
    int status = 500;
    std::string type;     // OpenAI error type, e.g. "invalid_request_error"
    std::string code;     // empty: sent as null
    std::string message;  // the upstream's own message, when it gave one
    // decode_error: the upstream's body was an Anthropic error, JSON (so its Content-Type may
    // stay).
    bool anthropic_body = false;

    // {"error":{"message":...,"type":...,"param":null,"code":...}}
    std::string body() const;
};

// The OpenAI error for an Anthropic error answer.
OpenAiError decode_error(int status, std::string_view body);

// The OpenAI error for an Anthropic error of type `anthropic_type`, given with `status`.
OpenAiError map_error(int status, std::string_view anthropic_type, std::string message);

// The HTTP status Anthropic gives errors of a type ("overloaded_error" -> 529), for the errors of
// a stream, which arrive after the status; 500 for a type it does not document.
int status_of_error_type(std::string_view anthropic_type);

}  // namespace anthropic
