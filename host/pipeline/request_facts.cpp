#include "pipeline/request_facts.hpp"

#include <array>
#include <charconv>
#include <span>

#include "json/json_check.hpp"

namespace llmproxy {

namespace {

// The top-level members read, in the order of Member.
constexpr std::array<std::string_view, 7> kMembers = {
    "model", "messages", "input", "stream", "max_completion_tokens", "max_tokens", "stream_options",
};
enum Member { model, messages, input, stream, max_completion_tokens, max_tokens, stream_options };

// A whole number's value, or nullopt for any other JSON text.
std::optional<std::int64_t> whole_number(std::string_view text) {
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size())
        return std::nullopt;
    return value;
}

// The first of two members' values (found at spans) that is a whole number.
std::optional<std::int64_t> first_whole_number(
    std::string_view body, std::span<const std::optional<json_fields::Span>> spans) {
    for (const auto& span : spans)
        if (span)
            if (auto number = whole_number(body.substr(span->begin, span->end - span->begin)))
                return number;
    return std::nullopt;
}

}  // namespace

void check_body_json(std::string_view body) {
    if (std::string why = json_fields::check(body); !why.empty())
        throw ApiException(ApiError::bad_request(
            "invalid_json", "the body is not valid JSON: " + why +
                                " (RFC 8259 in UTF-8, no key twice in an object, no lone "
                                "surrogate escapes)"));
    if (body[json_fields::skip_ws(body, 0)] != '{')
        throw ApiException(ApiError::bad_request("invalid_json", "the body must be a JSON object"));
}

RequestFacts read_facts(std::string_view body, Endpoint endpoint, json_fields::Index* index) {
    std::array<std::optional<json_fields::Span>, kMembers.size()> spans;
    json_fields::find_members(body, kMembers, spans, index);
    const auto text = [&](Member member) -> std::optional<std::string_view> {
        if (!spans[member])
            return std::nullopt;
        return body.substr(spans[member]->begin, spans[member]->end - spans[member]->begin);
    };
    RequestFacts facts;
    const std::optional<std::string_view> model_text = text(model);
    if (model_text && model_text->size() > 2 && model_text->front() == '"')
        json_fields::unescape(model_text->substr(1, model_text->size() - 2), facts.model);
    if (facts.model.empty())
        throw ApiException(ApiError::bad_request(
            "missing_model", "the body needs \"model\": a non-empty string naming the model"));
    if (endpoint == Endpoint::chat && !text(messages).value_or("").starts_with('['))
        throw ApiException(ApiError::bad_request(
            "missing_messages", "the body needs \"messages\": an array of chat messages"));
    if (endpoint == Endpoint::embedding && !text(input))
        throw ApiException(ApiError::bad_request(
            "missing_input", "the body needs \"input\": the text or tokens to embed"));
    const std::optional<std::string_view> stream_text = text(stream);
    if (stream_text && *stream_text != "true" && *stream_text != "false" && *stream_text != "null")
        throw ApiException(
            ApiError::bad_request("invalid_stream", "\"stream\" must be true or false"));
    facts.stream = stream_text == "true";
    facts.max_tokens = first_whole_number(body, std::span(spans).subspan(max_completion_tokens, 2));
    if (const auto options = text(stream_options)) {
        facts.has_stream_options = true;
        facts.include_usage =
            options->starts_with('{') && json_fields::get(*options, "/include_usage") == "true";
    }
    return facts;
}

std::optional<std::int64_t> max_tokens_in(std::string_view body) {
    constexpr std::array<std::string_view, 2> kMost = {"max_completion_tokens", "max_tokens"};
    std::array<std::optional<json_fields::Span>, 2> spans;
    json_fields::find_members(body, kMost, spans);
    return first_whole_number(body, spans);
}

RequestFacts scan_request(std::string_view body, Endpoint endpoint, json_fields::Index* index) {
    check_body_json(body);
    return read_facts(body, endpoint, index);
}

}  // namespace llmproxy
