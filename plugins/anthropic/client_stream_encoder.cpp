#include "anthropic/client_stream_encoder.hpp"

#include <llm_proxy/cpp/plugin.hpp>

#include "anthropic/json_scanner.hpp"
#include "anthropic/json_text.hpp"
#include "anthropic/text_chunk.hpp"

namespace anthropic {

namespace {

constexpr std::string_view kMessageStart = "message_start";
constexpr std::string_view kBlockStart = "content_block_start";
constexpr std::string_view kBlockDelta = "content_block_delta";
constexpr std::string_view kBlockStop = "content_block_stop";
constexpr std::string_view kMessageDelta = "message_delta";
constexpr std::string_view kMessageStop = "message_stop";

// How much of a chunk that is not JSON an error message quotes.
constexpr std::size_t kQuotedChunkBytes = 120;

// Whitespace held back before a text block opens is sent anyway beyond this many bytes: a
// stream of whitespace is then content, and holding it must not cost unbounded memory.
constexpr std::size_t kMaxHeldSpace = 1024;

}  // namespace

std::span<const ClientEvent> ClientStreamEncoder::encode(std::string_view chunk) {
    event_count_ = 0;
    if (finished_)
        return {};
    if (started_ && open_ == Kind::text) {
        // Text in the open text block: what text() does with it, without the full reading.
        if (const auto content = text_chunk_content(chunk)) {
            if (*content != "\"\"")
                literal_delta_event("text_delta", "text", *content);
            return {events_.data(), event_count_};
        }
    }
    if (!fields_.read(chunk))
        broken("an event's data is not a JSON object: " +
               std::string(chunk.substr(0, kQuotedChunkBytes)));
    if (fields_.error_message)
        throw llm_proxy::Error(fields_.error_message->empty() ? "the upstream's stream failed"
                                                              : *fields_.error_message,
                               502, "upstream_error", "upstream_stream_error");
    if (fields_.usage)
        usage_ = *fields_.usage;
    if (!started_)
        message_start();
    if (!fields_.reasoning_content.empty())
        thinking(fields_.reasoning_content);
    if (!fields_.content.empty())
        text(fields_.content);
    if (!fields_.refusal.empty()) {
        refused_ = true;
        text(fields_.refusal);
    }
    for (std::size_t i = 0; i < fields_.tool_call_count; ++i)
        tool_call(fields_.tool_calls[i]);
    if (fields_.finish_reason)
        finish_reason_ = std::move(fields_.finish_reason);
    return {events_.data(), event_count_};
}

std::span<const ClientEvent> ClientStreamEncoder::finish() {
    event_count_ = 0;
    if (finished_)
        return {};
    if (!finish_reason_)
        throw llm_proxy::Error(
            "the upstream's stream ended without a finish_reason; the answer may be incomplete",
            502, "upstream_error", "upstream_stream_truncated");
    close_blocks();
    finished_ = true;

    std::string& delta = next_event(kMessageDelta);
    delta = "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":";
    append_json_string(delta, refused_ ? "refusal" : stop_reason_for(*finish_reason_));
    delta += ",\"stop_sequence\":null},\"usage\":";
    append_anthropic_usage(delta, usage_);
    delta += '}';
    next_event(kMessageStop) = "{\"type\":\"message_stop\"}";
    return {events_.data(), event_count_};
}

void ClientStreamEncoder::message_start() {
    started_ = true;
    std::string& event = next_event(kMessageStart);
    event = "{\"type\":\"message_start\",\"message\":{\"id\":";
    append_json_string(event, facts_.message_id);
    event += ",\"type\":\"message\",\"role\":\"assistant\",\"model\":";
    append_json_string(event, facts_.model);
    event += ",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":";
    append_anthropic_usage(event, usage_);
    event += "}}";
}

void ClientStreamEncoder::text(std::string_view text) {
    if (open_ == Kind::text) {
        delta_event("text_delta", "text", text);
        return;
    }
    if (is_blank(text) && held_space_.size() + text.size() <= kMaxHeldSpace) {
        held_space_ += text;
        return;
    }
    close_blocks();
    open_block(Kind::text, "{\"type\":\"text\",\"text\":\"\"}");
    if (held_space_.empty()) {
        delta_event("text_delta", "text", text);
    } else {
        held_space_ += text;
        delta_event("text_delta", "text", held_space_);
        held_space_.clear();
    }
}

void ClientStreamEncoder::thinking(std::string_view text) {
    if (open_ != Kind::thinking) {
        close_blocks();
        open_block(Kind::thinking, "{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}");
    }
    delta_event("thinking_delta", "thinking", text);
}

void ClientStreamEncoder::tool_call(const ToolCallDelta& delta) {
    Tool& tool = tool_for(delta);
    const std::size_t position = static_cast<std::size_t>(&tool - tools_.data());
    if (tool.id.empty())
        tool.id = delta.id;
    if (tool.name.empty())
        tool.name = delta.name;
    if (!delta.arguments.empty()) {
        if (position >= opened_tools_) {
            tool.arguments += delta.arguments;  // it waits
        } else if (open_ == Kind::tool && position + 1 == opened_tools_) {
            tool.arguments += delta.arguments;
            delta_event("input_json_delta", "partial_json", delta.arguments);
        } else if (!is_blank(delta.arguments)) {
            broken("arguments for the tool call \"" +
                   std::string(facts_.tool_names.client_name(tool.name)) +
                   "\" came after its block was closed");
        }
        tool.progress.feed(delta.arguments);
    }
    open_waiting_tools();
}

ClientStreamEncoder::Tool& ClientStreamEncoder::tool_for(const ToolCallDelta& delta) {
    if (delta.index) {
        auto [it, added] = tool_by_index_.try_emplace(*delta.index, tools_.size());
        if (added)
            tools_.emplace_back();
        return tools_[it->second];
    }
    // Without an index (some upstreams leave it out when they call one tool at a time): the tool
    // of this id, or a new one for a new id, or else the latest tool.
    if (!delta.id.empty()) {
        for (Tool& tool : tools_)
            if (tool.id == delta.id)
                return tool;
        return tools_.emplace_back();
    }
    return tools_.empty() ? tools_.emplace_back() : tools_.back();
}

// Opens the waiting tools in order, each once the block before it may close: a text or thinking
// block, or a tool whose arguments are whole.
void ClientStreamEncoder::open_waiting_tools() {
    while (opened_tools_ < tools_.size()) {
        if (open_ == Kind::tool && !tools_[opened_tools_ - 1].progress.complete())
            return;
        close_block();
        open_tool();
    }
}

void ClientStreamEncoder::close_blocks() {
    close_block();
    while (opened_tools_ < tools_.size()) {
        open_tool();
        close_block();
    }
}

void ClientStreamEncoder::open_tool() {
    Tool& tool = tools_[opened_tools_++];
    std::string block = "{\"type\":\"tool_use\",\"id\":";
    append_json_string(block, client_tool_use_id(tool.id, facts_, opened_tools_ - 1));
    block += ",\"name\":";
    append_json_string(block, facts_.tool_names.client_name(tool.name));
    block += ",\"input\":{}}";
    open_block(Kind::tool, block);
    if (!tool.arguments.empty())
        delta_event("input_json_delta", "partial_json", tool.arguments);
}

void ClientStreamEncoder::open_block(Kind kind, std::string_view content_block_json) {
    if (kind != Kind::text)
        held_space_.clear();  // whitespace before another kind of block is not text
    open_ = kind;
    open_index_ = next_index_++;
    std::string& event = next_event(kBlockStart);
    event = "{\"type\":\"content_block_start\",\"index\":";
    event += std::to_string(open_index_);
    event += ",\"content_block\":";
    event += content_block_json;
    event += '}';
}

void ClientStreamEncoder::close_block() {
    if (open_ == Kind::none)
        return;
    if (open_ == Kind::tool)
        close_tool(tools_[opened_tools_ - 1]);
    std::string& event = next_event(kBlockStop);
    event = "{\"type\":\"content_block_stop\",\"index\":";
    event += std::to_string(open_index_);
    event += '}';
    open_ = Kind::none;
}

void ClientStreamEncoder::close_tool(Tool& tool) {
    // A tool called without arguments streams none; "{}" is the input the client must parse.
    if (tool.arguments.empty())
        delta_event("input_json_delta", "partial_json", "{}");
    else if (!is_json_object(tool.arguments))
        throw llm_proxy::Error("the upstream called the tool \"" +
                                   std::string(facts_.tool_names.client_name(tool.name)) +
                                   "\" with arguments that are not a JSON object",
                               502, "upstream_error", "upstream_invalid_answer");
    tool.arguments = std::string();  // its memory too: nothing more may be added
}

std::string& ClientStreamEncoder::next_event(std::string_view name) {
    if (event_count_ == events_.size())
        events_.emplace_back();
    ClientEvent& event = events_[event_count_++];
    event.name = name;
    event.data.clear();
    return event.data;
}

void ClientStreamEncoder::delta_event(std::string_view delta_type, std::string_view key,
                                      std::string_view value) {
    literal_.clear();
    append_json_string(literal_, value);
    literal_delta_event(delta_type, key, literal_);
}

void ClientStreamEncoder::literal_delta_event(std::string_view delta_type, std::string_view key,
                                              std::string_view literal) {
    if (open_index_ != delta_head_index_ || delta_type != delta_head_type_) {
        delta_head_index_ = open_index_;
        delta_head_type_ = delta_type;
        delta_head_ = "{\"type\":\"content_block_delta\",\"index\":";
        delta_head_ += std::to_string(open_index_);
        delta_head_ += ",\"delta\":{\"type\":\"";
        delta_head_ += delta_type;
        delta_head_ += "\",\"";
        delta_head_ += key;
        delta_head_ += "\":";
    }
    std::string& event = next_event(kBlockDelta);
    event += delta_head_;
    event += literal;
    event += "}}";
}

void ClientStreamEncoder::broken(const std::string& why) const {
    throw llm_proxy::Error("the upstream's stream is not a valid chat completion stream: " + why,
                           502, "upstream_error", "upstream_invalid_event");
}

}  // namespace anthropic
