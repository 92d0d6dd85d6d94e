// The anthropic provider's codec (plugins/anthropic), driven directly with fuzzed request bodies,
// upstream answers and upstream stream events. Only llm_proxy::Error escapes, and:
// - a request is refused with a 400 invalid_request_error, or encoded as a JSON object with
//   model-independent essentials (an integer max_tokens, a messages array), the same whether the
//   fast path for simple requests took it or the full encoder;
// - an answer of status < 400 is refused with a 502 or decoded to a JSON chat.completion; an
//   error answer always becomes a JSON OpenAI error of the same status (529 -> 503);
// - every chunk of a stream is a JSON chat.completion.chunk, a failing event fails with a status
//   from 400 to 599, once the stream finished nothing more comes out, and every event gives the
//   same chunks (read as JSON) with its data spaced out, which the fast path for text deltas
//   does not take.
//
// Input: the last byte (taken from the end by FuzzedDataProvider) chooses: a request body; an
// answer (two bytes of status, then the body); or a stream (one byte: include_usage, then one
// event per line, "name<TAB>data" or only the data).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <llm_proxy/cpp/plugin.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "anthropic/error_decoder.hpp"
#include "anthropic/request_encoder.hpp"
#include "anthropic/response_decoder.hpp"
#include "anthropic/stream_decoder.hpp"
#include "fuzz_check.hpp"

using fuzz::require;
using nlohmann::json;

namespace {

// A JSON object, strictly (the codec writes some texts itself, without a document).
json object_of(std::string_view text, std::string_view what) {
    json parsed = json::parse(text, nullptr, false);
    require(parsed.is_object(), what);
    return parsed;
}

void request(const std::string& body) {
    std::string encoded;
    try {
        encoded = anthropic::encode_request(body, {}).body;
    } catch (const llm_proxy::Error& e) {
        require(e.status == 400 && e.type == "invalid_request_error",
                "a refused request is a 400 invalid_request_error");
        require(e.code == "unsupported_parameter" || e.code == "unsupported_value" ||
                    e.code == "invalid_value",
                "a refused request says why in its code");
        return;
    }
    json out = object_of(encoded, "an encoded request is a JSON object");
    std::string in_full;
    try {
        in_full = anthropic::encode_request_in_full(body, {}).body;
    } catch (const llm_proxy::Error&) {
        require(false, "the fast path takes no request the full encoder refuses");
    }
    require(out == object_of(in_full, "a request encoded in full is a JSON object"),
            "the fast path encodes a request as the full encoder does");
    require(out["max_tokens"].is_number_integer(), "an encoded request has max_tokens");
    require(out["messages"].is_array(), "an encoded request has messages");
}

void answer(int status, const std::string& body) {
    if (status >= 400) {
        auto error = anthropic::decode_error(status, body);
        require(error.status == (status == 529 ? 503 : status), "an error keeps its status");
        json out = object_of(error.body(), "an error body is a JSON object");
        require(out["error"]["message"].is_string(), "an error body has a message");
        return;
    }
    std::string decoded;
    try {
        decoded = anthropic::decode_response(body, 1);
    } catch (const llm_proxy::Error& e) {
        require(e.status == 502 && e.code == "upstream_invalid_answer",
                "an answer that is not a message is a 502");
        return;
    }
    json out = object_of(decoded, "a decoded answer is a JSON object");
    require(out["object"] == "chat.completion", "a decoded answer is a chat.completion");
}

// The chunks of one event, as JSON; nullopt when the event fails.
std::optional<std::vector<json>> chunks_of(anthropic::StreamDecoder& decoder, std::string_view name,
                                           std::string_view data) {
    try {
        std::vector<json> out;
        for (const auto& chunk : decoder.decode(name, data))
            out.push_back(json::parse(chunk, nullptr, false));
        return out;
    } catch (const llm_proxy::Error&) {
        return std::nullopt;
    }
}

void stream(bool include_usage, std::string_view events) {
    anthropic::StreamDecoder decoder(1, include_usage);
    // The same events spaced out, which the decoder's fast path for text deltas never takes.
    anthropic::StreamDecoder in_full(1, include_usage);
    while (!events.empty()) {
        auto end = events.find('\n');
        std::string_view line = events.substr(0, end);
        events = end == std::string_view::npos ? std::string_view() : events.substr(end + 1);
        auto tab = line.find('\t');
        std::string_view name = tab == std::string_view::npos ? "" : line.substr(0, tab);
        std::string_view data = tab == std::string_view::npos ? line : line.substr(tab + 1);
        const bool finished_before = decoder.finished();
        const std::string spaced = !data.empty() && data.front() == '{'
                                       ? "{ " + std::string(data.substr(1))
                                       : std::string(data);
        const auto spaced_chunks = chunks_of(in_full, name, spaced);
        try {
            auto chunks = decoder.decode(name, data);
            require(!finished_before || chunks.empty(), "nothing comes after message_stop");
            require(spaced_chunks && spaced_chunks->size() == chunks.size(),
                    "an event spaced out gives as many chunks");
            for (std::size_t i = 0; i < chunks.size(); ++i) {
                json out = object_of(chunks[i], "a chunk is a JSON object");
                require(out["object"] == "chat.completion.chunk", "a chunk is a chunk");
                require(out == (*spaced_chunks)[i], "an event spaced out gives the same chunks");
            }
        } catch (const llm_proxy::Error& e) {
            require(e.status >= 400 && e.status <= 599, "a failing event has an error status");
            require(!spaced_chunks, "an event that fails fails spaced out too");
            return;  // the host ends the stream with the error
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider input(data, size);
    switch (input.ConsumeIntegralInRange<int>(0, 2)) {
        case 0:
            request(input.ConsumeRemainingBytesAsString());
            break;
        case 1: {
            int status = input.ConsumeIntegralInRange<int>(100, 599);
            answer(status, input.ConsumeRemainingBytesAsString());
            break;
        }
        default: {
            bool include_usage = input.ConsumeBool();
            stream(include_usage, input.ConsumeRemainingBytesAsString());
        }
    }
    return 0;
}
