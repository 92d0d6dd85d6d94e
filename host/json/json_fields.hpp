// Reads and edits single fields of a JSON text in place, addressed by JSON Pointer (RFC 6901,
// e.g. "/messages/0/content"), without building a document: a lookup scans only as far as the
// field, and an edit splices the new value into the text. Processors use this so that changing
// one field of a large request costs a scan and a copy, not a parse and a serialisation.
//
// The text must have passed check() (json_check.hpp; request bodies are checked on arrival);
// values given to edits are checked here.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "json/json_check.hpp"

namespace llmproxy::json_fields {

struct Span {
    std::size_t begin = 0;  // offset of the value's first byte
    std::size_t end = 0;    // one past its last byte
};

// Remembers where values were found in one text, so that walking an array element by element
// ("/messages/0/role", "/messages/1/role", ...) scans the text once rather than once per step.
// Valid for one text only: clear() it whenever the text changes.
class Index {
  public:
    void clear() { entries_.clear(); }

  private:
    friend struct IndexAccess;
    // pointer prefix (as written, e.g. "/messages/3") -> value span; a handful of entries, so a
    // flat list searched without allocating beats a hash map
    std::vector<std::pair<std::string, Span>> entries_;
};

// The value at pointer ("" is the whole text), or nullopt when absent or pointer is malformed.
std::optional<Span> find(std::string_view json, std::string_view pointer, Index* index = nullptr);

// The value at pointer as JSON text, or nullopt.
std::optional<std::string_view> get(std::string_view json, std::string_view pointer,
                                    Index* index = nullptr);

// The members named by keys of the object json (the whole text: an object), found in one pass
// over it: spans[i] is the value of keys[i], nullopt when it has none (spans.size() ==
// keys.size()). Keys are plain member names (no '~' or '/', no escapes). With an index, each
// member found is remembered under "/KEY". One pass costs what one lookup of an absent member
// costs, so it beats a lookup per member when any may be absent.
void find_members(std::string_view json, std::span<const std::string_view> keys,
                  std::span<std::optional<Span>> spans, Index* index = nullptr);

// The string value at pointer, unescaped; nullopt when absent or not a string.
std::optional<std::string> get_string(std::string_view json, std::string_view pointer,
                                      Index* index = nullptr);

enum class Edit {
    add,      // RFC 6902 add: set an object member, or insert into an array ("-" appends)
    replace,  // the value must exist
    remove,   // the value must exist
};

// Applies one edit to json. Returns "" on success, else why it could not be done (json unchanged).
// With an index of json, lookups use it and it stays true for the edited text.
std::string edit(std::string& json, Edit op, std::string_view pointer, std::string_view value_json,
                 Index* index = nullptr);

// Adds the member key: value_json at the end of the object json (the whole text), which the
// caller knows lacks it: no search, no check. key is a plain member name (written as it is) and
// value_json valid JSON, both the caller's own. With an index of json, it stays true.
void append_member(std::string& json, std::string_view key, std::string_view value_json,
                   Index* index = nullptr);

// The JSON text of a string value (quoted and escaped): '"', '\\' and control characters escaped,
// each byte that does not belong to valid UTF-8 replaced by U+FFFD, so the result is always valid
// JSON. append_quoted appends it to out.
std::string quote(std::string_view text);
// The longest prefix of text of at most max bytes that does not end inside a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view text, std::size_t max);
void append_quoted(std::string& out, std::string_view text);

}  // namespace llmproxy::json_fields
