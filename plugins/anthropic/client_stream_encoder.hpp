// A canonical stream (OpenAI chat.completion.chunk events) to the Messages stream an Anthropic
// client expects, one chunk at a time. One encoder per stream: it keeps the stream's state.
//
// The events, each with its `event:` name equal to its data's "type", follow the order the
// Anthropic SDK enforces:
//   message_start        first and once: {"type":"message_start","message":{"id":..,"type":
//                        "message","role":"assistant","model":..,"content":[],"stop_reason":null,
//                        "stop_sequence":null,"usage":{...}}} (usage as known then, usually 0)
//   content blocks       content_block_start, content_block_delta..., content_block_stop, one
//                        block at a time, indexes from 0 in emission order; a block opens with
//                        the first content of its kind, and content of another kind closes it:
//                          reasoning_content -> a thinking block, thinking_delta
//                          content, refusal  -> a text block, text_delta (whitespace before a
//                                               text block opens is held until text that is not
//                                               whitespace comes, so no block is only whitespace)
//                          tool_calls        -> one tool_use block {id, name (the client's own),
//                                               input {}} per canonical index, input_json_delta
//                                               with the argument fragments
//   message_delta        {"type":"message_delta","delta":{"stop_reason":..,"stop_sequence":null},
//                        "usage":{...}} (client_answer_mapping.hpp) and
//   message_stop         from finish(), once the canonical stream has ended: the finish_reason is
//                        held until then, so that the usage chunk, which comes after it, is in.
// Tool calls: the open tool block streams live; a tool call of another index that starts while
// the open one's arguments are not yet one whole JSON object (json_object_progress.hpp) waits
// (its fragments buffered: the upstream may be interleaving) and opens once they are, or at the
// end. A tool block closes with "{}" as its input when no argument bytes came, and fails the
// stream (502 naming the tool) when its arguments are not one JSON object (json_scanner.hpp):
// never a made-up or broken input.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "anthropic/chunk_fields.hpp"
#include "anthropic/client_answer_mapping.hpp"
#include "anthropic/json_object_progress.hpp"

namespace anthropic {

// One event for the client: its `event:` name and its data.
struct ClientEvent {
    std::string_view name;
    std::string data;
};

class ClientStreamEncoder {
  public:
    // facts must outlive the encoder.
    explicit ClientStreamEncoder(const ReplyFacts& facts) : facts_(facts) {}

    // The events for one canonical chunk (its data). They stay valid until the next call.
    // Throws llm_proxy::Error (502, "upstream_error"): for a chunk that is not a JSON object
    // (code "upstream_invalid_event"), an error object in the stream (code
    // "upstream_stream_error", with its message), tool arguments that are not one JSON object,
    // or arguments for a tool block already closed.
    std::span<const ClientEvent> encode(std::string_view chunk);

    // The closing events, once the canonical stream ended cleanly: the open and waiting blocks
    // closed, message_delta, message_stop. Throws llm_proxy::Error (502, code
    // "upstream_stream_truncated") when no finish_reason came: the answer may be incomplete.
    std::span<const ClientEvent> finish();

  private:
    enum class Kind { none, text, thinking, tool };
    struct Tool {
        std::string id;
        std::string name;
        std::string arguments;  // every fragment so far, until its block closes
        JsonObjectProgress progress;
    };

    void message_start();
    void text(std::string_view text);
    void thinking(std::string_view text);
    void tool_call(const ToolCallDelta& delta);
    Tool& tool_for(const ToolCallDelta& delta);
    void open_waiting_tools();
    void close_blocks();  // the open block, and every waiting tool in a block of its own
    void open_tool();
    void open_block(Kind kind, std::string_view content_block_json);
    void close_block();
    void close_tool(Tool& tool);

    std::string& next_event(std::string_view name);
    void delta_event(std::string_view delta_type, std::string_view key, std::string_view value);
    // The same, with the value a JSON string literal as written.
    void literal_delta_event(std::string_view delta_type, std::string_view key,
                             std::string_view literal);
    [[noreturn]] void broken(const std::string& why) const;

    const ReplyFacts& facts_;
    ChunkFields fields_;
    std::vector<ClientEvent> events_;  // reused: their capacity stays
    std::string literal_;              // delta_event's, reused
    // A delta event up to its value, for the open block's index and a delta type (each of which
    // goes with one key), kept while they stay.
    std::string delta_head_;
    std::int64_t delta_head_index_ = -1;
    std::string_view delta_head_type_;
    std::size_t event_count_ = 0;

    bool started_ = false;
    bool finished_ = false;
    Kind open_ = Kind::none;
    std::int64_t open_index_ = -1;  // Anthropic's index of the open block
    std::int64_t next_index_ = 0;
    std::string held_space_;

    // Tools in the order their first fragment came; those before opened_tools_ have had their
    // block (the last of them may still be open), the others wait.
    std::vector<Tool> tools_;
    std::unordered_map<std::int64_t, std::size_t> tool_by_index_;  // canonical index -> tools_
    std::size_t opened_tools_ = 0;

    std::optional<std::string> finish_reason_;
    bool refused_ = false;
    CanonicalUsage usage_;
};

}  // namespace anthropic
