// JSON text helpers of the anthropic codec: writing string literals without building a document,
// and bounding how deep a text nests before a document is built from it.
#pragma once

#include <string>
#include <string_view>

namespace anthropic {

// Nesting depth the codec accepts in a JSON text it turns into a document: the host's own limit
// for request bodies. Copying and writing a document recurse once per level, on a fiber's stack.
inline constexpr int kMaxJsonDepth = 256;

// Appends `text` as a JSON string literal, quotes included. `text` must be UTF-8 (bytes >= 0x80
// are copied as they are); quotes, backslashes and control characters are escaped.
void append_json_string(std::string& out, std::string_view text);

// Whether `text` is empty or only ASCII whitespace (Anthropic refuses such texts and stop
// sequences).
bool is_blank(std::string_view text);

// Whether no object or array in `json` nests deeper than max_depth levels. Brackets inside
// strings do not count. It does not check that `json` is valid JSON.
bool nesting_within(std::string_view json, int max_depth);

}  // namespace anthropic
