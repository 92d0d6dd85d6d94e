// The anthropic client API's codec (plugins/anthropic/client_*), driven directly with fuzzed
// client requests, canonical answers, canonical streams, and texts for its JSON scanner. Only
// llm_proxy::Error escapes, and:
// - a request is refused with a 400 invalid_request_error, or decoded to a JSON object with the
//   client's model, a messages array, an integer max_tokens, and stream_options exactly when it
//   streams, the same whether the fast path for simple requests took it or the full decoder;
// - an answer is refused with a 502, or encoded as an Anthropic message: text blocks not blank,
//   tool_use ids of [a-zA-Z0-9_-] with an object input, a known stop_reason, counts of at least 0;
// - a stream gives events the Anthropic SDK accepts (message_start first and once, one block at
//   a time with contiguous indexes, deltas of the block's kind, tool inputs that parse as objects,
//   message_delta then message_stop last), or fails with a 502 and gives nothing after; each chunk
//   gives the same events (read as JSON) spaced out, which the fast path for text chunks does
//   not take;
// - the scanner agrees with nlohmann's strict parse (json_token_trace.hpp).
//
// Input: the last byte (taken from the end by FuzzedDataProvider) chooses: a request body; an
// answer body; a stream (one chunk per line); or a text for the scanner.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <llm_proxy/cpp/plugin.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "anthropic/client_request_decoder.hpp"
#include "anthropic/client_response_encoder.hpp"
#include "anthropic/client_stream_encoder.hpp"
#include "anthropic/json_scanner.hpp"
#include "anthropic/json_text.hpp"
#include "fuzz_check.hpp"
#include "json_token_trace.hpp"

using fuzz::require;
using nlohmann::json;

namespace {

json object_of(std::string_view text, std::string_view what) {
    json parsed = json::parse(text, nullptr, false);
    require(parsed.is_object(), what);
    return parsed;
}

anthropic::ReplyFacts facts() {
    anthropic::ReplyFacts f;
    f.message_id = "msg_fuzz";
    f.model = "claude-fuzz";
    f.tool_names.upstream_name(std::string(80, 'n'));  // one shortened name to give back
    return f;
}

bool is_tool_id(const json& id) {
    if (!id.is_string() || id.get_ref<const std::string&>().empty())
        return false;
    for (char c : id.get_ref<const std::string&>())
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    return true;
}

bool is_blank(const std::string& text) {
    return text.find_first_not_of(" \t\n\r\f\v") == std::string::npos;
}

void check_stop_reason_and_usage(const json& stop_reason, const json& usage) {
    require(stop_reason == "end_turn" || stop_reason == "max_tokens" || stop_reason == "tool_use" ||
                stop_reason == "refusal",
            "a stop_reason Anthropic has");
    require(usage.is_object(), "usage is an object");
    for (const char* key : {"input_tokens", "cache_creation_input_tokens",
                            "cache_read_input_tokens", "output_tokens"}) {
        auto count = usage.find(key);
        require(
            count != usage.end() && count->is_number_integer() && count->get<std::int64_t>() >= 0,
            "usage counts are integers of at least 0");
    }
}

void request(const std::string& body) {
    anthropic::DecodedRequest decoded;
    try {
        decoded = anthropic::decode_client_request(body);
    } catch (const llm_proxy::Error& e) {
        require(e.status == 400 && e.type == "invalid_request_error",
                "a refused request is a 400 invalid_request_error");
        return;
    }
    json out = object_of(decoded.body, "a decoded request is a JSON object");
    anthropic::DecodedRequest in_full;
    try {
        in_full = anthropic::decode_client_request_in_full(body);
    } catch (const llm_proxy::Error&) {
        require(false, "the fast path takes no request the full decoder refuses");
    }
    require(out == object_of(in_full.body, "a request decoded in full is a JSON object") &&
                decoded.model == in_full.model && decoded.stream == in_full.stream,
            "the fast path decodes a request as the full decoder does");
    require(out["model"] == decoded.model && !decoded.model.empty(), "it names the model");
    require(out["messages"].is_array(), "it has messages");
    require(out["max_tokens"].is_number_integer(), "it has max_tokens");
    require(out.contains("stream_options") == decoded.stream, "usage is asked for in streams");
}

void answer(const std::string& body) {
    std::string encoded;
    try {
        encoded = anthropic::encode_client_response(body, facts());
    } catch (const llm_proxy::Error& e) {
        require(e.status == 502 && e.type == "upstream_error", "a bad answer is a 502");
        return;
    }
    json message = object_of(encoded, "an encoded answer is a JSON object");
    require(message["type"] == "message" && message["model"] == "claude-fuzz", "a message");
    require(message["content"].is_array(), "content is an array");
    for (json& block : message["content"]) {
        if (block["type"] == "text")
            require(block["text"].is_string() && !is_blank(block["text"]), "no blank text block");
        else if (block["type"] == "tool_use")
            require(is_tool_id(block["id"]) && block["input"].is_object(), "a valid tool_use");
        else
            require(block["type"] == "thinking" && block["thinking"].is_string(), "a thinking");
    }
    check_stop_reason_and_usage(message["stop_reason"], message["usage"]);
}

// Holds the events of one stream to the order the Anthropic SDK enforces.
class SdkOrder {
  public:
    void take(const anthropic::ClientEvent& event) {
        json data = object_of(event.data, "an event's data is a JSON object");
        require(data["type"] == event.name, "an event's name is its data's type");
        require(!stopped_, "nothing after message_stop");
        if (event.name == "message_start") {
            require(!started_, "message_start comes once");
            started_ = true;
            return;
        }
        require(started_, "message_start comes first");
        if (event.name == "content_block_start") {
            require(open_ < 0 && data["index"] == blocks_, "blocks start in order, one at a time");
            open_ = blocks_++;
            kind_ = data["content_block"]["type"];
            require(kind_ != "tool_use" || is_tool_id(data["content_block"]["id"]), "a tool id");
            input_.clear();
        } else if (event.name == "content_block_delta") {
            require(open_ >= 0 && data["index"] == open_, "a delta for the open block");
            json& delta = data["delta"];
            require((kind_ == "text" && delta["type"] == "text_delta") ||
                        (kind_ == "thinking" && delta["type"] == "thinking_delta") ||
                        (kind_ == "tool_use" && delta["type"] == "input_json_delta"),
                    "a delta of the block's kind");
            if (kind_ == "tool_use")
                input_ += delta["partial_json"].get<std::string>();
        } else if (event.name == "content_block_stop") {
            require(open_ >= 0 && data["index"] == open_, "the open block stops");
            if (kind_ == "tool_use")
                require(json::parse(input_, nullptr, false).is_object(), "tool input parses");
            open_ = -1;
        } else if (event.name == "message_delta") {
            require(open_ < 0 && !delta_, "message_delta once, after the blocks");
            delta_ = true;
            check_stop_reason_and_usage(data["delta"]["stop_reason"], data["usage"]);
        } else {
            require(event.name == "message_stop" && delta_, "message_stop after message_delta");
            stopped_ = true;
        }
    }
    bool stopped() const { return stopped_; }

  private:
    bool started_ = false, delta_ = false, stopped_ = false;
    int open_ = -1, blocks_ = 0;
    std::string kind_, input_;
};

// The events of one chunk, as JSON; nullopt when the chunk fails the stream.
std::optional<std::vector<json>> events_of(anthropic::ClientStreamEncoder& encoder,
                                           std::string_view chunk) {
    try {
        std::vector<json> out;
        for (const auto& event : encoder.encode(chunk))
            out.push_back(json::parse(event.data, nullptr, false));
        return out;
    } catch (const llm_proxy::Error&) {
        return std::nullopt;
    }
}

void stream(std::string_view chunks) {
    const anthropic::ReplyFacts f = facts();
    anthropic::ClientStreamEncoder encoder(f);
    // The same chunks spaced out, which the encoder's fast path for text chunks never takes.
    anthropic::ClientStreamEncoder in_full(f);
    SdkOrder order;
    try {
        while (!chunks.empty()) {
            auto end = chunks.find('\n');
            std::string_view chunk = chunks.substr(0, end);
            chunks = end == std::string_view::npos ? std::string_view() : chunks.substr(end + 1);
            const std::string spaced = !chunk.empty() && chunk.front() == '{'
                                           ? "{ " + std::string(chunk.substr(1))
                                           : std::string(chunk);
            const auto spaced_events = events_of(in_full, spaced);
            std::size_t count = 0;
            try {
                for (const auto& event : encoder.encode(chunk)) {
                    order.take(event);
                    require(spaced_events && count < spaced_events->size() &&
                                json::parse(event.data) == (*spaced_events)[count++],
                            "a chunk spaced out gives the same events");
                }
            } catch (const llm_proxy::Error&) {
                require(!spaced_events, "a chunk that fails fails spaced out too");
                throw;
            }
            require(spaced_events && spaced_events->size() == count,
                    "a chunk spaced out gives as many events");
        }
        for (const auto& event : encoder.finish())
            order.take(event);
        require(order.stopped(), "a finished stream ends with message_stop");
    } catch (const llm_proxy::Error& e) {
        require(e.status == 502 && e.type == "upstream_error", "a failing stream is a 502");
    }
}

void scanner(const std::string& text) {
    json_trace::ScannerTrace trace;
    anthropic::JsonScanner scanner;
    const bool accepted = scanner.scan(text, trace);
    json_trace::ReferenceTrace reference;
    const auto expected = json_trace::expected(text, reference, reference.parse(text));
    if (expected == json_trace::Expected::either)
        return;
    require(accepted == (expected == json_trace::Expected::accept),
            "the scanner accepts what the reference accepts");
    if (accepted)
        require(trace.lines == reference.lines, "the scanner's tokens are the reference's");
    const anthropic::Json document = anthropic::parse_document(text);
    require(document.is_discarded() == !accepted, "parse_document reads what the scanner accepts");
    if (accepted) {
        const auto reference_document = anthropic::Json::parse(text);
        require(document == reference_document, "parse_document's document is nlohmann's");
        require(anthropic::compact_json(document) == reference_document.dump(),
                "compact_json writes what dump writes");
    }
    require(anthropic::is_json_object(text) ==
                (accepted && !trace.lines.empty() && trace.lines[0] == "{"),
            "is_json_object is a scan whose first token opens an object");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider input(data, size);
    switch (input.ConsumeIntegralInRange<int>(0, 3)) {
        case 0:
            request(input.ConsumeRemainingBytesAsString());
            break;
        case 1:
            answer(input.ConsumeRemainingBytesAsString());
            break;
        case 2:
            stream(input.ConsumeRemainingBytesAsString());
            break;
        default:
            scanner(input.ConsumeRemainingBytesAsString());
    }
    return 0;
}
