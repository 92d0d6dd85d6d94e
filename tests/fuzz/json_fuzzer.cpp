// json_fields against nlohmann on any text (strict_json.hpp is the reference):
// - valid() gives the reference's verdict (duplicate keys, lone surrogates and depth included);
// - in a valid text, get() finds every value (the first 64 pointers of the document), with and
//   without an Index, as text that parses to the document's value there; get_string() gives the
//   document's strings; pointers past an array's end, to absent keys, and malformed ones, nothing;
// - scan_request() (the request body check) accepts exactly the bodies with a non-empty string
//   `model`, `messages` (chat) or `input` (embedding) and a boolean or absent `stream`, and reads
//   them, `max_tokens` and `stream_options` as nlohmann does (max_tokens_in() too);
// - is_content_event() (a held stream head's test) reads every text without fault, and on a valid
//   one gives the verdict its header states, read from the document (texts whose keys may be
//   written with \u or \/ escapes aside: it compares keys as written).
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "http/api_error.hpp"
#include "json/json_fields.hpp"
#include "pipeline/first_content.hpp"
#include "pipeline/request_facts.hpp"
#include "strict_json.hpp"

using fuzz::require;
using nlohmann::json;
namespace json_fields = llmproxy::json_fields;

namespace {

constexpr std::size_t kMaxPointers = 64;

void check_lookups(std::string_view text, const json& doc) {
    std::vector<std::string> pointers;
    fuzz::collect_pointers(doc, "", pointers, kMaxPointers);
    json_fields::Index index;
    for (const std::string& pointer : pointers) {
        const json& expected = doc.at(json::json_pointer(pointer));
        auto plain = json_fields::get(text, pointer);
        auto indexed = json_fields::get(text, pointer, &index);
        require(plain && indexed && *plain == *indexed,
                "get() finds every value, with and without an index, as the same text");
        require(json::parse(*plain, nullptr, false) == expected,
                "get() gives the text of the value at the pointer");
        auto string = json_fields::get_string(text, pointer, &index);
        require(expected.is_string() ? string == expected.get<std::string>() : !string,
                "get_string() gives the string at the pointer, and nothing for other values");
        if (expected.is_array()) {
            std::string past_end = pointer + "/" + std::to_string(expected.size());
            require(!json_fields::get(text, past_end) && !json_fields::get(text, past_end, &index),
                    "nothing past an array's end");
            if (expected.size() > 1)
                require(!json_fields::get(text, pointer + "/01"), "no index with a leading zero");
        }
        if (expected.is_object() && !expected.contains("absent"))
            require(!json_fields::get(text, pointer + "/absent"), "nothing at an absent key");
    }
    require(!json_fields::get(text, "no-slash") && !json_fields::get(text, "/~2"),
            "nothing at a malformed pointer");
}

// What scan_request() must do with a valid body: accept it (with these facts) or refuse it.
std::optional<llmproxy::RequestFacts> expected_facts(const json& doc, llmproxy::Endpoint endpoint) {
    if (!doc.is_object() || !doc.contains("model") || !doc["model"].is_string() ||
        doc["model"].get<std::string>().empty())
        return std::nullopt;
    if (endpoint == llmproxy::Endpoint::chat &&
        !(doc.contains("messages") && doc["messages"].is_array()))
        return std::nullopt;
    if (endpoint == llmproxy::Endpoint::embedding && !doc.contains("input"))
        return std::nullopt;
    const json stream = doc.value("stream", json());
    if (!stream.is_boolean() && !stream.is_null())
        return std::nullopt;
    llmproxy::RequestFacts facts;
    facts.model = doc["model"].get<std::string>();
    facts.stream = stream == true;
    for (const char* most : {"max_completion_tokens", "max_tokens"})
        if (!facts.max_tokens && doc.contains(most) && doc[most].is_number_integer() &&
            (!doc[most].is_number_unsigned() ||
             doc[most].get<std::uint64_t>() <= std::uint64_t{INT64_MAX}))
            facts.max_tokens = doc[most].get<std::int64_t>();
    facts.has_stream_options = doc.contains("stream_options");
    const json options = doc.value("stream_options", json());
    facts.include_usage = options.is_object() && options.value("include_usage", json()) == true;
    return facts;
}

// A value that tells the client something (first_content.hpp): not null, "" or [].
bool says_something(const json& value) {
    return !(value.is_null() || (value.is_string() && value.get<std::string>().empty()) ||
             (value.is_array() && value.empty()));
}

// What is_content_event() must say of a valid text.
bool expected_content(std::string_view text, const json& doc) {
    constexpr std::string_view kText = "\"content\":\"";
    if (auto at = text.find(kText); at != std::string_view::npos)
        if (at + kText.size() < text.size() && text[at + kText.size()] != '"')
            return true;  // the text chunk as written
    if (!doc.is_object() || !doc.contains("choices"))
        return true;
    const json& choices = doc["choices"];
    if (choices.is_array() && !choices.empty() && choices[0].is_object()) {
        const json& choice = choices[0];
        if (choice.contains("finish_reason") && says_something(choice["finish_reason"]))
            return true;
        if (choice.contains("delta") && choice["delta"].is_object())
            for (const char* field :
                 {"content", "refusal", "reasoning_content", "reasoning", "tool_calls"})
                if (choice["delta"].contains(field) && says_something(choice["delta"][field]))
                    return true;
    }
    return doc.contains("error");
}

// doc: the parsed text, or nullptr when it is not valid.
void check_scan_request(std::string_view text, const json* doc) {
    for (auto endpoint : {llmproxy::Endpoint::chat, llmproxy::Endpoint::embedding}) {
        std::optional<llmproxy::RequestFacts> facts;
        try {
            facts = llmproxy::scan_request(text, endpoint);
        } catch (const llmproxy::ApiException& e) {
            require(e.error().status == 400, "scan_request() refuses with 400");
        }
        auto expected = doc ? expected_facts(*doc, endpoint) : std::nullopt;
        require(facts.has_value() == expected.has_value(),
                "scan_request() accepts exactly the bodies with model, messages or input, and a "
                "boolean stream");
        require(!facts || (facts->model == expected->model && facts->stream == expected->stream),
                "scan_request() reads model and stream as nlohmann does");
        require(!facts || (facts->max_tokens == expected->max_tokens &&
                           facts->has_stream_options == expected->has_stream_options &&
                           facts->include_usage == expected->include_usage),
                "scan_request() reads max_tokens and stream_options as nlohmann does");
        require(!facts || llmproxy::max_tokens_in(text) == expected->max_tokens,
                "max_tokens_in() reads max_tokens as scan_request() does");
    }
}

}  // namespace

// quote() of any bytes is one valid JSON string, and of valid UTF-8 the same text back.
void check_quote(std::string_view text) {
    const std::string quoted = json_fields::quote(text);
    json parsed;
    try {
        parsed = json::parse(quoted);
    } catch (const std::exception&) {
        require(false, "quote() writes valid JSON whatever its input");
    }
    require(parsed.is_string(), "quote() writes a string");
    bool utf8 = true;
    try {
        (void)json(std::string(text)).dump();  // throws on bytes that are not UTF-8
    } catch (const std::exception&) {
        utf8 = false;
    }
    if (utf8)
        require(parsed.get<std::string>() == text, "quote() of valid UTF-8 reads back the same");
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    check_quote(text);
    const bool content = llmproxy::is_content_event(text);
    const fuzz::Verdict verdict = fuzz::StrictJson::check(text);
    if (verdict == fuzz::Verdict::unknown)
        return 0;
    const bool valid = json_fields::valid(text);
    require(valid || verdict != fuzz::Verdict::valid,
            "valid() accepts every text the strict reference accepts");
    require(!valid || verdict != fuzz::Verdict::invalid,
            "valid() refuses every text the strict reference refuses (duplicate keys, lone "
            "surrogates, bad UTF-8, depth over 256)");
    if (!valid) {
        check_scan_request(text, nullptr);
        return 0;
    }
    const json doc = json::parse(text);
    if (text.find("\\u") == std::string_view::npos && text.find("\\/") == std::string_view::npos)
        require(content == expected_content(text, doc),
                "is_content_event() reads a valid text as its document says");
    check_lookups(text, doc);
    check_scan_request(text, &doc);
    return 0;
}
