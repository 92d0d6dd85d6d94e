// The fields of one Anthropic stream event that the stream decoder reads, collected in one pass
// over the event's data (json_scanner.hpp): no document is built, and an object holding them is
// reused from event to event, so its strings keep their capacity.
//
// The fields, by JSON Pointer (a member of another type, or null, counts as absent):
//   /type, /index
//   /message/id, /message/model, /message/usage/*            (message_start)
//   /content_block/{type,id,name,text,thinking}               (content_block_start)
//   /delta/{type,text,partial_json,thinking,stop_reason}      (content_block_delta, message_delta)
//   /usage/*                                                   (message_delta)
//   /error/{type,message}                                      (error)
// where * is input_tokens, cache_creation_input_tokens, cache_read_input_tokens, output_tokens.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "anthropic/json_scanner.hpp"

namespace anthropic {

struct EventFields {
    std::string type;
    std::optional<std::uint64_t> index;

    std::string message_id;
    std::string message_model;

    std::string block_type;
    std::string block_id;
    std::string block_name;
    std::string block_text;
    std::string block_thinking;

    std::string delta_type;
    std::string delta_text;
    std::string delta_partial_json;
    std::string delta_thinking;
    std::optional<std::string> stop_reason;

    // From /message/usage or /usage, clamped (answer_mapping.hpp); absent when not given.
    std::optional<std::int64_t> input_tokens;
    std::optional<std::int64_t> cache_creation_input_tokens;
    std::optional<std::int64_t> cache_read_input_tokens;
    std::optional<std::int64_t> output_tokens;

    std::string error_type;
    std::string error_message;

    // Replaces every field with those of `data`. Returns false when data is not a JSON object
    // (fields are then unspecified).
    bool read(std::string_view data);

  private:
    JsonScanner scanner_;  // reused: its buffers keep their capacity
};

}  // namespace anthropic
