#include "pipeline/request_facts.hpp"

#include "json/json_check.hpp"

namespace llmproxy {

void check_body_json(std::string_view body) {
    if (std::string why = json_fields::check(body); !why.empty())
        throw ApiException(ApiError::bad_request(
            "invalid_json", "the body is not valid JSON: " + why +
                                " (RFC 8259 in UTF-8, no key twice in an object, no lone "
                                "surrogate escapes)"));
    if (body[json_fields::skip_ws(body, 0)] != '{')
        throw ApiException(ApiError::bad_request("invalid_json", "the body must be a JSON object"));
}

RequestFacts scan_request(std::string_view body, Endpoint endpoint, json_fields::Index* index) {
    check_body_json(body);
    auto model = json_fields::get_string(body, "/model", index);
    if (!model || model->empty())
        throw ApiException(ApiError::bad_request(
            "missing_model", "the body needs \"model\": a non-empty string naming the model"));
    if (endpoint == Endpoint::chat) {
        auto messages = json_fields::get(body, "/messages", index);
        if (!messages || messages->front() != '[')
            throw ApiException(ApiError::bad_request(
                "missing_messages", "the body needs \"messages\": an array of chat messages"));
    }
    if (endpoint == Endpoint::embedding && !json_fields::get(body, "/input", index))
        throw ApiException(ApiError::bad_request(
            "missing_input", "the body needs \"input\": the text or tokens to embed"));
    auto stream = json_fields::get(body, "/stream", index);
    if (stream && *stream != "true" && *stream != "false" && *stream != "null")
        throw ApiException(
            ApiError::bad_request("invalid_stream", "\"stream\" must be true or false"));
    return {std::move(*model), stream == "true"};
}

}  // namespace llmproxy
