// JSON text helpers of the anthropic codec: writing string literals without building a document,
// reading and writing documents fast, and bounding how deep a text nests before a document is built
// from it.
#pragma once

#include <string>
#include <string_view>

#include "anthropic/json_access.hpp"

namespace anthropic {

// Nesting depth the codec accepts in a JSON text it turns into a document: the host's own limit
// for request bodies. Copying and writing a document recurse once per level, on a fiber's stack.
inline constexpr int kMaxJsonDepth = 256;

// Appends `text` as a JSON string literal, quotes included. `text` must be UTF-8 (bytes >= 0x80
// are copied as they are); quotes, backslashes and control characters are escaped.
void append_json_string(std::string& out, std::string_view text);

// `text` as a document, or a discarded value (is_discarded()) when it is not one JSON value or
// nests deeper than kMaxJsonDepth. What Json::parse(text, nullptr, false) gives, read with the
// codec's scanner (json_scanner.hpp): nlohmann's parser, a character at a time, dominated
// translating a request.
Json parse_document(std::string_view text);

// `document` as compact JSON text: what document.dump() writes, with strings copied in runs
// rather than a character at a time (dump's cost dominated translating a request). Strings must
// be UTF-8, as documents parsed from checked text and built by the codec are.
std::string compact_json(const Json& document);

// Whether `text` is empty or only ASCII whitespace (Anthropic refuses such texts and stop
// sequences).
bool is_blank(std::string_view text);

// Whether no object or array in `json` nests deeper than max_depth levels. Brackets inside
// strings do not count. It does not check that `json` is valid JSON.
bool nesting_within(std::string_view json, int max_depth);

}  // namespace anthropic
