// The strict check every JSON text from outside passes before llm-proxy reads a field of it
// (request bodies, and JSON that plugins hand the host), and the unescaping of its strings.
//
// Strict means RFC 8259 plus the rules that keep "what a check saw" and "what the upstream gets"
// the same text: no object has the same key twice (keys compared after unescaping, so "model" and
// "mod\u0065l" are the same key; parsers disagree on which duplicate wins), every \u escape is a
// well-formed UTF-16 sequence (a lone surrogate cannot be decoded, so a filter that decodes the
// text would skip it while the upstream reads it), strings are well-formed UTF-8, and nesting is at
// most kMaxJsonDepth deep.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace llmproxy::json_fields {

inline constexpr int kMaxJsonDepth = 256;

// Whitespace as JSON counts it (RFC 8259: space, tab, LF, CR).
inline bool is_ws(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// The first index from i on that is not JSON whitespace.
inline std::size_t skip_ws(std::string_view s, std::size_t i) {
    while (i < s.size() && is_ws(s[i]))
        ++i;
    return i;
}

// Why text is not exactly one strict JSON value (surrounding whitespace allowed), e.g. "the key
// \"model\" appears twice in one object (at byte 57)"; empty when it is one. Allocates only for
// objects with many keys or keys with escapes.
std::string check(std::string_view text);

// check(text).empty(), without building a message.
bool valid(std::string_view text);

// Appends the characters of a string's raw contents (the text between its quotes, which must have
// passed check()) to out, escapes decoded, as UTF-8.
void unescape(std::string_view raw, std::string& out);

}  // namespace llmproxy::json_fields
