// What the host itself needs to know about a canonical request body (the model, whether it asks
// for a stream, how many tokens it may answer, whether the required fields are there), found
// without building a document: one validating pass, then one pass over the top-level members.
// The body itself travels on untouched.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "http/api_error.hpp"
#include "json/json_fields.hpp"

namespace llmproxy {

struct RequestFacts {
    std::string model;
    bool stream = false;
    // max_completion_tokens, else max_tokens, when it is a whole number.
    std::optional<std::int64_t> max_tokens;
    bool has_stream_options = false;  // a "stream_options" member, whatever its value
    bool include_usage = false;       // stream_options.include_usage is true
};

// Throws ApiException (400 invalid_json) when body is not one strict JSON object (json_check.hpp).
void check_body_json(std::string_view body);

// Scans a body for `endpoint`. Throws ApiException (400) when the body is not a JSON object, or
// lacks `model` (string) and `messages` (array, chat) or `input` (embedding), or has a `stream`
// that is not a boolean (null reads as false, as OpenAI's API takes it).
// index, when given, keeps where the fields were found, for later lookups in the same body.
RequestFacts scan_request(std::string_view body, Endpoint endpoint,
                          json_fields::Index* index = nullptr);

// The max_completion_tokens, else max_tokens, of a checked body, when it is a whole number: for
// a body a provider has rewritten since its facts were read.
std::optional<std::int64_t> max_tokens_in(std::string_view body);

// scan_request without the validating pass, for a body that passed it before and has only had
// fields edited since.
RequestFacts read_facts(std::string_view body, Endpoint endpoint,
                        json_fields::Index* index = nullptr);

}  // namespace llmproxy
