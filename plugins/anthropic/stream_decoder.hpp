// An Anthropic Messages stream to OpenAI chat.completion.chunk events, one upstream event at a
// time. One decoder per stream: it keeps the stream's state between events.
//
// Every chunk is {"id":<message id>,"object":"chat.completion.chunk","created":<created>,
// "model":<model>,"choices":[{"index":0,"delta":{...},"logprobs":null,"finish_reason":null}]},
// plus "usage":null when the request set stream_options.include_usage. Events map so:
//   message_start                  -> delta {"role":"assistant","content":""}
//   content_block_start text       -> its text as content, when it has any
//   content_block_start thinking   -> its thinking as reasoning_content, when it has any
//   content_block_start tool_use   -> delta {"tool_calls":[{"index":T,"id":..,"type":"function",
//                                     "function":{"name":..,"arguments":""}}]}, where T counts
//                                     the stream's tool blocks from 0 (not Anthropic's index)
//   text_delta / thinking_delta    -> delta {"content":..} / {"reasoning_content":..}
//   input_json_delta               -> delta {"tool_calls":[{"index":T,"function":
//                                     {"arguments":<fragment>}}]} (empty fragments: nothing)
//   content_block_stop             -> for a tool block that got no argument bytes, arguments
//                                     "{}", so that the joined arguments are JSON
//   message_delta                  -> delta {} with finish_reason (answer_mapping.hpp)
//   message_stop                   -> with include_usage: {...,"choices":[],"usage":{...}}
//   error                          -> throws the mapped error (error_decoder.hpp)
// ping, signature_delta, citations_delta, other block, delta and event types, and anything
// after message_stop give nothing. No [DONE]: the host writes it after a clean end.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "anthropic/answer_mapping.hpp"
#include "anthropic/event_fields.hpp"

namespace anthropic {

class StreamDecoder {
  public:
    // created: the chunks' "created" (unix seconds), fixed for the stream.
    explicit StreamDecoder(std::int64_t created, bool include_usage = false)
        : created_(created), include_usage_(include_usage) {}

    // Whether the request asked for the usage chunk (stream_options.include_usage). Set before
    // the first event.
    void set_include_usage(bool include_usage) { include_usage_ = include_usage; }

    // The chunks (JSON texts) that replace one upstream event, given its `event:` name and its
    // data; the data's "type" wins over the name. They stay valid until the next call.
    // Throws llm_proxy::Error: for an `error` event, the mapped error; for an event whose data is
    // not a JSON object, or that breaks the protocol's order (content before message_start, a
    // delta for a block that was not started or of another kind, message_stop without a
    // stop_reason), 502 with code "upstream_invalid_event".
    std::span<const std::string> decode(std::string_view event_name, std::string_view data);

    // Whether message_stop arrived: the stream ended cleanly.
    bool finished() const { return finished_; }

  private:
    enum class Kind { text, thinking, tool, other };
    struct Block {
        Kind kind;
        std::int64_t tool_index;     // tool blocks: T
        bool got_arguments = false;  // tool blocks: a non-empty fragment arrived
    };

    void message_start();
    void block_start();
    void block_delta();
    void block_stop();
    void message_delta();
    void message_stop();
    void fail_with_error_event() const;

    Block& started_block(const char* event);
    [[noreturn]] void broken(const std::string& why) const;

    // Chunks: begin_delta() opens one up to its delta object, end_delta() closes it.
    std::string& next_chunk();
    std::string& begin_delta();
    void end_delta(std::string& chunk, std::string_view finish_reason = {}) const;
    void text_chunk(const char* key, std::string_view text);
    // A chunk whose delta is {key: literal}, a JSON string literal as written.
    void literal_chunk(const char* key, std::string_view literal);
    void tool_arguments_chunk(std::int64_t tool_index, std::string_view arguments);

    const std::int64_t created_;
    bool include_usage_;

    EventFields event_;
    std::vector<std::string> chunks_;  // reused: their capacity stays
    std::string literal_;              // text_chunk's, reused
    std::size_t chunk_count_ = 0;

    std::string head_;  // {"id":..,"object":..,"created":..,"model":.., (after message_start)
    // Written once per stream, at message_start: a delta chunk up to its delta object, and after
    // it when the chunk has no finish_reason.
    std::string delta_head_;
    std::string content_head_;  // delta_head_, then {"content":
    std::string unfinished_tail_;
    bool started_ = false;
    bool finish_sent_ = false;
    bool finished_ = false;
    std::unordered_map<std::uint64_t, Block> blocks_;  // by Anthropic's index
    std::int64_t next_tool_index_ = 0;
    Usage usage_;
};

}  // namespace anthropic
