// The fields of one canonical stream event (an OpenAI chat.completion.chunk) that the client
// stream encoder reads, collected in one pass over the event's data (json_scanner.hpp): no
// document is built, and an object holding them is reused from event to event, so its strings
// keep their capacity.
//
// The fields, by JSON Pointer (a member of another type, or null, counts as absent):
//   /choices/0/delta/{content,reasoning_content,refusal}
//   /choices/0/delta/tool_calls/N/{index,id,function/name,function/arguments}
//   /choices/0/finish_reason
//   /usage/{prompt_tokens,completion_tokens,cache_creation_input_tokens}
//   /usage/prompt_tokens_details/{cached_tokens,cache_write_tokens,cache_creation_tokens}
//   /error (an object: its message; or a string)
// Only the first choice is read: a client API request never asks for more than one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "anthropic/client_answer_mapping.hpp"
#include "anthropic/json_scanner.hpp"

namespace anthropic {

struct ToolCallDelta {
    std::optional<std::int64_t> index;
    std::string id;
    std::string name;
    std::string arguments;
};

struct ChunkFields {
    std::string content;
    std::string reasoning_content;
    std::string refusal;
    std::optional<std::string> finish_reason;

    // The first tool_call_count entries are this chunk's; the vector keeps its entries (and their
    // capacity) from chunk to chunk.
    std::vector<ToolCallDelta> tool_calls;
    std::size_t tool_call_count = 0;

    // Present when the chunk carries a usage object (counts clamped, answer_mapping.hpp).
    std::optional<CanonicalUsage> usage;

    // Present when the chunk is an error object instead ({"error":{"message":...}}).
    std::optional<std::string> error_message;

    // Replaces every field with those of `data`. Returns false when data is not a JSON object
    // (fields are then unspecified).
    bool read(std::string_view data);

  private:
    JsonScanner scanner_;  // reused: its buffers keep their capacity
};

}  // namespace anthropic
