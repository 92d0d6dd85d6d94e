#include "anthropic/stream_decoder.hpp"

#include <charconv>
#include <limits>
#include <llm_proxy/cpp/plugin.hpp>
#include <optional>

#include "anthropic/error_decoder.hpp"
#include "anthropic/json_scanner.hpp"
#include "anthropic/json_text.hpp"

namespace anthropic {

namespace {

// How much of an event that is not JSON an error message quotes.
constexpr std::size_t kQuotedEventBytes = 120;

// A text delta: the block's index, and the text's JSON string literal as written.
struct TextDelta {
    std::uint64_t index;
    std::string_view literal;
};

// The event most of a streamed answer is made of, recognised by its bytes as Anthropic writes
// it: {"type":"content_block_delta","index":N,"delta":{"type":"text_delta","text":"..."}}.
// nullopt for any other event, and for this one written otherwise (spaced, members reordered, an
// index JSON or int64_t cannot hold), which the full reading takes.
std::optional<TextDelta> text_delta(std::string_view data) {
    constexpr std::string_view kHead = R"({"type":"content_block_delta","index":)";
    constexpr std::string_view kMiddle = R"(,"delta":{"type":"text_delta","text":)";
    constexpr std::string_view kTail = "}}";
    if (!data.starts_with(kHead) || !data.ends_with(kTail))
        return std::nullopt;
    const char* digits = data.data() + kHead.size();
    const char* end = data.data() + data.size() - kTail.size();
    std::uint64_t index = 0;
    const auto [after, error] = std::from_chars(digits, end, index);
    if (error != std::errc() || (*digits == '0' && after - digits > 1) ||
        index > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) ||
        !std::string_view(after, static_cast<std::size_t>(end - after)).starts_with(kMiddle))
        return std::nullopt;
    const char* literal = after + kMiddle.size();
    TextDelta delta{index, std::string_view(literal, static_cast<std::size_t>(end - literal))};
    if (!is_json_string(delta.literal))
        return std::nullopt;
    return delta;
}

}  // namespace

std::span<const std::string> StreamDecoder::decode(std::string_view event_name,
                                                   std::string_view data) {
    chunk_count_ = 0;
    if (finished_ || data.empty())
        return {};
    if (const auto delta = text_delta(data)) {
        // What block_delta() does with it; a fault is left to the full reading, which names it.
        const auto block = blocks_.find(delta->index);
        if (block != blocks_.end() && block->second.kind == Kind::text) {
            if (delta->literal != "\"\"")
                literal_chunk("content", delta->literal);
            return {chunks_.data(), chunk_count_};
        }
    }
    if (!event_.read(data))
        broken("an event's data is not a JSON object: " +
               std::string(data.substr(0, kQuotedEventBytes)));
    const std::string_view type = event_.type.empty() ? event_name : std::string_view(event_.type);
    if (type == "error")
        fail_with_error_event();
    if (type == "message_start")
        message_start();
    else if (type == "content_block_start")
        block_start();
    else if (type == "content_block_delta")
        block_delta();
    else if (type == "content_block_stop")
        block_stop();
    else if (type == "message_delta")
        message_delta();
    else if (type == "message_stop")
        message_stop();
    // ping and event types Anthropic may add give nothing.
    return {chunks_.data(), chunk_count_};
}

void StreamDecoder::message_start() {
    if (started_)
        broken("a second message_start");
    started_ = true;
    head_ = "{\"id\":";
    append_json_string(head_, event_.message_id);
    head_ += ",\"object\":\"chat.completion.chunk\",\"created\":" + std::to_string(created_);
    head_ += ",\"model\":";
    append_json_string(head_, event_.message_model);
    head_ += ',';
    delta_head_ = head_ + "\"choices\":[{\"index\":0,\"delta\":";
    content_head_ = delta_head_ + "{\"content\":";
    unfinished_tail_ = ",\"logprobs\":null,\"finish_reason\":null";
    unfinished_tail_ += include_usage_ ? "}],\"usage\":null}" : "}]}";
    usage_ = {event_.input_tokens.value_or(0), event_.cache_creation_input_tokens.value_or(0),
              event_.cache_read_input_tokens.value_or(0), event_.output_tokens.value_or(0)};
    std::string& chunk = begin_delta();
    chunk += "{\"role\":\"assistant\",\"content\":\"\"}";
    end_delta(chunk);
}

void StreamDecoder::block_start() {
    if (!started_)
        broken("content_block_start before message_start");
    if (!event_.index)
        broken("content_block_start without an index");
    const std::string_view type = event_.block_type;
    const Kind kind = type == "text"       ? Kind::text
                      : type == "thinking" ? Kind::thinking
                      : type == "tool_use" ? Kind::tool
                                           : Kind::other;
    auto [block, inserted] = blocks_.try_emplace(*event_.index, Block{kind, -1});
    if (!inserted)
        broken("a second content_block_start for index " + std::to_string(*event_.index));
    if (kind == Kind::text && !event_.block_text.empty())
        text_chunk("content", event_.block_text);
    if (kind == Kind::thinking && !event_.block_thinking.empty())
        text_chunk("reasoning_content", event_.block_thinking);
    if (kind != Kind::tool)
        return;
    block->second.tool_index = next_tool_index_++;
    std::string& chunk = begin_delta();
    chunk += "{\"tool_calls\":[{\"index\":" + std::to_string(block->second.tool_index);
    chunk += ",\"id\":";
    append_json_string(chunk, event_.block_id);
    chunk += ",\"type\":\"function\",\"function\":{\"name\":";
    append_json_string(chunk, event_.block_name);
    chunk += ",\"arguments\":\"\"}}]}";
    end_delta(chunk);
}

void StreamDecoder::block_delta() {
    const std::string_view type = event_.delta_type;
    const Kind kind = type == "text_delta"         ? Kind::text
                      : type == "thinking_delta"   ? Kind::thinking
                      : type == "input_json_delta" ? Kind::tool
                                                   : Kind::other;
    Block& block = started_block("content_block_delta");
    if (kind == Kind::other)
        return;  // signature_delta, citations_delta, and delta types Anthropic may add
    if (block.kind != kind)
        broken(std::string(type) + " for the content block of index " +
               std::to_string(*event_.index) + ", which is of another type");
    if (kind == Kind::text) {
        if (!event_.delta_text.empty())
            text_chunk("content", event_.delta_text);
    } else if (kind == Kind::thinking) {
        if (!event_.delta_thinking.empty())
            text_chunk("reasoning_content", event_.delta_thinking);
    } else if (!event_.delta_partial_json.empty()) {
        block.got_arguments = true;
        tool_arguments_chunk(block.tool_index, event_.delta_partial_json);
    }
}

void StreamDecoder::block_stop() {
    Block& block = started_block("content_block_stop");
    // A tool called without arguments streams no argument bytes (or only ""); "{}" makes the
    // joined arguments JSON, as a client sending them back needs.
    if (block.kind == Kind::tool && !block.got_arguments)
        tool_arguments_chunk(block.tool_index, "{}");
}

void StreamDecoder::message_delta() {
    if (!started_)
        broken("message_delta before message_start");
    // Counts given here are totals: they replace those of message_start.
    if (event_.input_tokens)
        usage_.input = *event_.input_tokens;
    if (event_.cache_creation_input_tokens)
        usage_.cache_creation = *event_.cache_creation_input_tokens;
    if (event_.cache_read_input_tokens)
        usage_.cache_read = *event_.cache_read_input_tokens;
    if (event_.output_tokens)
        usage_.output = *event_.output_tokens;
    if (finish_sent_ || !event_.stop_reason)
        return;
    finish_sent_ = true;
    std::string& chunk = begin_delta();
    chunk += "{}";
    end_delta(chunk, finish_reason_for(*event_.stop_reason));
}

void StreamDecoder::message_stop() {
    if (!finish_sent_)
        broken("message_stop without a stop_reason in a message_delta before it");
    finished_ = true;
    if (!include_usage_)
        return;
    std::string& chunk = next_chunk();
    chunk += head_;
    chunk += "\"choices\":[],\"usage\":";
    append_openai_usage(chunk, usage_);
    chunk += '}';
}

void StreamDecoder::fail_with_error_event() const {
    OpenAiError error =
        map_error(status_of_error_type(event_.error_type), event_.error_type, event_.error_message);
    throw llm_proxy::Error(std::move(error.message), error.status, std::move(error.type),
                           std::move(error.code));
}

StreamDecoder::Block& StreamDecoder::started_block(const char* event) {
    if (!event_.index)
        broken(std::string(event) + " without an index");
    auto it = blocks_.find(*event_.index);
    if (it == blocks_.end())
        broken(std::string(event) + " for index " + std::to_string(*event_.index) +
               ", which no content_block_start opened");
    return it->second;
}

void StreamDecoder::broken(const std::string& why) const {
    throw llm_proxy::Error("the upstream's stream is not a valid Anthropic stream: " + why, 502,
                           "upstream_error", "upstream_invalid_event");
}

std::string& StreamDecoder::next_chunk() {
    if (chunk_count_ == chunks_.size())
        chunks_.emplace_back();
    std::string& chunk = chunks_[chunk_count_++];
    chunk.clear();
    return chunk;
}

std::string& StreamDecoder::begin_delta() {
    std::string& chunk = next_chunk();
    chunk += delta_head_;
    return chunk;
}

void StreamDecoder::end_delta(std::string& chunk, std::string_view finish_reason) const {
    if (finish_reason.empty()) {
        chunk += unfinished_tail_;
        return;
    }
    chunk += ",\"logprobs\":null,\"finish_reason\":";
    append_json_string(chunk, finish_reason);
    chunk += include_usage_ ? "}],\"usage\":null}" : "}]}";
}

void StreamDecoder::text_chunk(const char* key, std::string_view text) {
    literal_.clear();
    append_json_string(literal_, text);
    literal_chunk(key, literal_);
}

void StreamDecoder::literal_chunk(const char* key, std::string_view literal) {
    std::string& chunk = next_chunk();
    if (std::string_view(key) == "content") {
        chunk += content_head_;  // the common case, in one piece
    } else {
        chunk += delta_head_;
        chunk += "{\"";
        chunk += key;
        chunk += "\":";
    }
    chunk += literal;
    chunk += '}';
    end_delta(chunk);
}

void StreamDecoder::tool_arguments_chunk(std::int64_t tool_index, std::string_view arguments) {
    std::string& chunk = begin_delta();
    chunk += "{\"tool_calls\":[{\"index\":" + std::to_string(tool_index);
    chunk += ",\"function\":{\"arguments\":";
    append_json_string(chunk, arguments);
    chunk += "}}]}";
    end_delta(chunk);
}

}  // namespace anthropic
