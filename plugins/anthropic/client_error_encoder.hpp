// Failures in the shape an Anthropic client expects, for every error of a route with
// api = "anthropic" (the upstream's, the codec's, the gateway's own):
//   {"type":"error","error":{"type":<T>,"message":<the canonical error's message>}}
// as the answer's body before a stream started, or as the data of one `event: error` that ends a
// stream. T follows the HTTP status as Anthropic's documentation lists it: 400
// invalid_request_error, 401 authentication_error, 402 billing_error, 403 permission_error, 404
// not_found_error, 409 conflict_error, 413 request_too_large, 429 rate_limit_error, 503 and 529
// overloaded_error, 504 timeout_error, every other 4xx invalid_request_error ("we may also use
// this error type for other 4XX status codes"), anything else api_error. The Anthropic SDKs pick
// their error class by the status, which stays as it is.
#pragma once

#include <string>
#include <string_view>

namespace anthropic {

inline constexpr std::string_view kErrorEvent = "error";

// Anthropic's error type for an HTTP status.
std::string_view anthropic_error_type(int http_status);

// The error body (or the `error` event's data). An empty message becomes one naming the status.
std::string client_error_body(int http_status, std::string_view message);

}  // namespace anthropic
