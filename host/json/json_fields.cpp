#include "json/json_fields.hpp"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <vector>

namespace llmproxy::json_fields {

namespace {

// i is at '"'; returns one past the closing quote. Strings are most of a chat body's bytes, so
// the search for the next quote uses memchr.
std::size_t skip_string(std::string_view s, std::size_t i) {
    const char* data = s.data();
    ++i;
    while (i < s.size()) {
        const void* hit = std::memchr(data + i, '"', s.size() - i);
        if (!hit)
            return s.size();
        std::size_t quote = static_cast<std::size_t>(static_cast<const char*>(hit) - data);
        std::size_t backslashes = 0;
        while (quote - backslashes > i && data[quote - backslashes - 1] == '\\')
            ++backslashes;
        if (backslashes % 2 == 0)
            return quote + 1;
        i = quote + 1;
    }
    return s.size();
}

// i is at the first byte of a value; returns one past its last byte.
std::size_t skip_value(std::string_view s, std::size_t i) {
    if (i >= s.size())
        return i;
    char c = s[i];
    if (c == '"')
        return skip_string(s, i);
    if (c == '{' || c == '[') {
        int depth = 0;
        for (; i < s.size(); ++i) {
            char d = s[i];
            if (d == '"') {
                i = skip_string(s, i) - 1;
            } else if (d == '{' || d == '[') {
                ++depth;
            } else if (d == '}' || d == ']') {
                if (--depth == 0)
                    return i + 1;
            }
        }
        return s.size();
    }
    while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && !is_ws(s[i]))
        ++i;
    return i;
}

// A raw key (between quotes) equals the wanted, unescaped token?
bool key_equals(std::string_view raw, std::string_view wanted) {
    if (raw.find('\\') == std::string_view::npos)
        return raw == wanted;
    std::string decoded;
    unescape(raw, decoded);
    return decoded == wanted;
}

// Splits a pointer into unescaped reference tokens; nullopt when malformed.
std::optional<std::vector<std::string>> tokens_of(std::string_view pointer) {
    std::vector<std::string> tokens;
    if (pointer.empty())
        return tokens;
    if (pointer[0] != '/')
        return std::nullopt;
    std::size_t i = 1;
    while (true) {
        std::size_t end = pointer.find('/', i);
        std::string_view raw = pointer.substr(i, end == std::string_view::npos ? end : end - i);
        std::string token;
        for (std::size_t k = 0; k < raw.size(); ++k) {
            if (raw[k] != '~') {
                token += raw[k];
                continue;
            }
            if (k + 1 >= raw.size() || (raw[k + 1] != '0' && raw[k + 1] != '1'))
                return std::nullopt;
            token += raw[++k] == '0' ? '~' : '/';
        }
        tokens.push_back(std::move(token));
        if (end == std::string_view::npos)
            break;
        i = end + 1;
    }
    return tokens;
}

std::optional<std::size_t> array_index(std::string_view token) {
    if (token.empty() || token.size() > 9 || (token.size() > 1 && token[0] == '0'))
        return std::nullopt;
    std::size_t n = 0;
    for (char c : token) {
        if (c < '0' || c > '9')
            return std::nullopt;
        n = n * 10 + static_cast<std::size_t>(c - '0');
    }
    return n;
}

// Where a member or element sits in its container: the value, and the extent to cut to remove it
// together with one separating comma.
struct Slot {
    Span value;
    Span removal;
};

// The member `key` of the object at `at` (which is at '{').
std::optional<Slot> member(std::string_view s, std::size_t at, std::string_view key) {
    std::size_t i = skip_ws(s, at + 1);
    std::size_t previous_end = std::string_view::npos;  // end of the previous member's value
    while (i < s.size() && s[i] == '"') {
        std::size_t start = i;
        std::size_t key_end = skip_string(s, i);
        std::size_t colon = skip_ws(s, key_end);
        std::size_t value_begin = skip_ws(s, colon + 1);
        std::size_t value_end = skip_value(s, value_begin);
        std::size_t next = skip_ws(s, value_end);
        if (key_equals(s.substr(start + 1, key_end - start - 2), key)) {
            Span removal;
            if (next < s.size() && s[next] == ',')
                removal = {start, skip_ws(s, next + 1)};
            else if (previous_end != std::string_view::npos)
                removal = {previous_end, value_end};  // the last member: take the comma before it
            else
                removal = {start, value_end};
            return Slot{{value_begin, value_end}, removal};
        }
        previous_end = value_end;
        if (next >= s.size() || s[next] != ',')
            break;
        i = skip_ws(s, next + 1);
    }
    return std::nullopt;
}

// The element `index` of the array at `at` (which is at '['), or the count of elements through
// `count` when the index is past the end.
std::optional<Slot> element(std::string_view s, std::size_t at, std::size_t index,
                            std::size_t* count) {
    std::size_t i = skip_ws(s, at + 1);
    std::size_t n = 0;
    std::size_t previous_end = std::string_view::npos;
    while (i < s.size() && s[i] != ']') {
        std::size_t value_end = skip_value(s, i);
        std::size_t next = skip_ws(s, value_end);
        if (n == index) {
            Span removal;
            if (next < s.size() && s[next] == ',')
                removal = {i, skip_ws(s, next + 1)};
            else if (previous_end != std::string_view::npos)
                removal = {previous_end, value_end};
            else
                removal = {i, value_end};
            return Slot{{i, value_end}, removal};
        }
        ++n;
        previous_end = value_end;
        if (next >= s.size() || s[next] != ',')
            break;
        i = skip_ws(s, next + 1);
    }
    if (count)
        *count = n;
    return std::nullopt;
}

// The whole document's span, without scanning it: it ends where the text does.
Span root_span(std::string_view s) {
    std::size_t end = s.size();
    while (end > 0 && is_ws(s[end - 1]))
        --end;
    return {skip_ws(s, 0), end};
}

// Resolves tokens[0..depth) from the root; the span of that value, or nullopt.
std::optional<Slot> resolve(std::string_view s, const std::vector<std::string>& tokens,
                            std::size_t depth) {
    Slot slot{root_span(s), root_span(s)};
    for (std::size_t t = 0; t < depth; ++t) {
        if (slot.value.begin >= s.size())
            return std::nullopt;
        char c = s[slot.value.begin];
        std::optional<Slot> next;
        if (c == '{') {
            next = member(s, slot.value.begin, tokens[t]);
        } else if (c == '[') {
            auto index = array_index(tokens[t]);
            if (!index)
                return std::nullopt;
            next = element(s, slot.value.begin, *index, nullptr);
        }
        if (!next)
            return std::nullopt;
        slot = *next;
    }
    return slot;
}

}  // namespace

struct IndexAccess {
    static std::vector<std::pair<std::string, Span>>& entries(Index& index) {
        return index.entries_;
    }
};

namespace {

const Span* cached(const std::vector<std::pair<std::string, Span>>& entries, std::string_view key) {
    for (const auto& [k, span] : entries)
        if (k == key)
            return &span;
    return nullptr;
}

// Like resolve, for reads, walking the pointer's tokens in place: each value found on the way is
// remembered in index under its pointer prefix, and an array element is found from the end of
// the previous element when that one is known.
std::optional<Span> resolve_indexed(std::string_view s, std::string_view pointer, Index& index) {
    auto& entries = IndexAccess::entries(index);
    Span current = root_span(s);
    std::string unescaped;
    std::string previous_key;
    std::size_t at = 0;  // pointer[at] is the '/' before the next token
    while (at < pointer.size()) {
        std::size_t end = pointer.find('/', at + 1);
        if (end == std::string_view::npos)
            end = pointer.size();
        std::string_view prefix = pointer.substr(0, end);
        std::string_view token = pointer.substr(at + 1, end - at - 1);
        if (token.find('~') != std::string_view::npos) {
            auto tokens = tokens_of(pointer.substr(at, end - at));
            if (!tokens || tokens->size() != 1)
                return std::nullopt;
            unescaped = (*tokens)[0];
            token = unescaped;
        }
        if (const Span* known = cached(entries, prefix)) {
            current = *known;
            at = end;
            continue;
        }
        if (current.begin >= s.size())
            return std::nullopt;
        std::optional<Slot> next;
        char c = s[current.begin];
        if (c == '{') {
            next = member(s, current.begin, token);
        } else if (c == '[') {
            auto i = array_index(token);
            if (!i)
                return std::nullopt;
            const Span* previous = nullptr;
            if (*i > 0) {
                previous_key.assign(pointer.substr(0, at + 1));
                previous_key += std::to_string(*i - 1);
                previous = cached(entries, previous_key);
            }
            if (previous) {
                std::size_t after = skip_ws(s, previous->end);
                if (after >= s.size() || s[after] != ',')
                    return std::nullopt;
                std::size_t first = skip_ws(s, after + 1);
                next = Slot{{first, skip_value(s, first)}, {}};
            } else {
                next = element(s, current.begin, *i, nullptr);
            }
        }
        if (!next)
            return std::nullopt;
        current = next->value;
        entries.emplace_back(std::string(prefix), current);
        at = end;
    }
    return current;
}

// Replaces json[at, at + length) with text and keeps index true for the new text: spans after the
// change move, spans around it grow or shrink, spans inside it are forgotten, and so are the
// elements of an array whose numbering the change shifts (renumbered).
void splice(std::string& json, std::size_t at, std::size_t length, std::string_view text,
            Index* index, std::optional<std::string_view> renumbered) {
    json.replace(at, length, text);
    if (!index)
        return;
    const std::size_t end = at + length;
    std::erase_if(IndexAccess::entries(*index), [&](std::pair<std::string, Span>& entry) {
        Span& span = entry.second;
        const std::string& key = entry.first;
        if (renumbered && key.size() > renumbered->size() &&
            key.compare(0, renumbered->size(), *renumbered) == 0 && key[renumbered->size()] == '/')
            return true;
        if (span.end <= at)
            return false;         // before the change
        if (span.begin >= end) {  // after the change
            span.begin = span.begin - length + text.size();
            span.end = span.end - length + text.size();
            return false;
        }
        if (span.begin <= at && span.end >= end) {  // around the change
            span.end = span.end - length + text.size();
            return false;
        }
        return true;  // inside the replaced text
    });
}

// Offset of the closing bracket of the container spanning `span`, with any whitespace before it.
std::size_t closing_position(std::string_view s, Span span) {
    std::size_t i = span.end - 1;
    while (i > span.begin && is_ws(s[i - 1]))
        --i;
    return i;
}

bool container_is_empty(std::string_view s, Span span) {
    return skip_ws(s, span.begin + 1) == span.end - 1;
}

}  // namespace

std::optional<Span> find(std::string_view json, std::string_view pointer, Index* index) {
    if (index) {
        if (!pointer.empty() && pointer[0] != '/')
            return std::nullopt;
        return resolve_indexed(json, pointer, *index);
    }
    auto tokens = tokens_of(pointer);
    if (!tokens)
        return std::nullopt;
    auto slot = resolve(json, *tokens, tokens->size());
    if (!slot)
        return std::nullopt;
    return slot->value;
}

void find_members(std::string_view json, std::span<const std::string_view> keys,
                  std::span<std::optional<Span>> spans, Index* index) {
    std::fill(spans.begin(), spans.end(), std::nullopt);
    const Span root = root_span(json);
    if (root.begin >= json.size() || json[root.begin] != '{')
        return;
    std::size_t i = skip_ws(json, root.begin + 1);
    while (i < json.size() && json[i] == '"') {
        const std::size_t key_end = skip_string(json, i);
        const std::size_t value_begin = skip_ws(json, skip_ws(json, key_end) + 1);
        const std::size_t value_end = skip_value(json, value_begin);
        const std::string_view raw = json.substr(i + 1, key_end - i - 2);
        for (std::size_t k = 0; k < keys.size(); ++k) {
            if (spans[k] || !key_equals(raw, keys[k]))
                continue;
            spans[k] = Span{value_begin, value_end};
            if (index) {
                auto& entries = IndexAccess::entries(*index);
                std::string pointer = "/" + std::string(keys[k]);
                if (!cached(entries, pointer))
                    entries.emplace_back(std::move(pointer), *spans[k]);
            }
            break;
        }
        const std::size_t next = skip_ws(json, value_end);
        if (next >= json.size() || json[next] != ',')
            break;
        i = skip_ws(json, next + 1);
    }
}

void append_member(std::string& json, std::string_view key, std::string_view value_json,
                   Index* index) {
    const Span root = root_span(json);
    std::string text;
    text.reserve(key.size() + value_json.size() + 4);
    if (!container_is_empty(json, root))
        text += ',';
    text.append("\"").append(key).append("\":").append(value_json);
    splice(json, closing_position(json, root), 0, text, index, std::nullopt);
}

std::optional<std::string_view> get(std::string_view json, std::string_view pointer, Index* index) {
    auto span = find(json, pointer, index);
    if (!span)
        return std::nullopt;
    return json.substr(span->begin, span->end - span->begin);
}

std::optional<std::string> get_string(std::string_view json, std::string_view pointer,
                                      Index* index) {
    auto text = get(json, pointer, index);
    if (!text || text->empty() || (*text)[0] != '"')
        return std::nullopt;
    std::string value;
    unescape(text->substr(1, text->size() - 2), value);
    return value;
}

namespace {

// The length of the valid UTF-8 sequence that starts text at i (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF); 0 when the byte there starts none.
std::size_t utf8_sequence(std::string_view text, std::size_t i) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char lead = byte(i);
    std::size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;  // the second byte's range
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        if (lead == 0xE0)
            low = 0xA0;
        if (lead == 0xED)
            high = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        if (lead == 0xF0)
            low = 0x90;
        if (lead == 0xF4)
            high = 0x8F;
    } else {
        return 0;
    }
    if (i + length > text.size() || byte(i + 1) < low || byte(i + 1) > high)
        return 0;
    for (std::size_t k = 2; k < length; ++k)
        if (byte(i + k) < 0x80 || byte(i + k) > 0xBF)
            return 0;
    return length;
}

}  // namespace

void append_quoted(std::string& out, std::string_view text) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += '"';
    std::size_t i = 0;
    while (i < text.size()) {
        // Runs of plain ASCII go in at once.
        std::size_t plain = i;
        while (plain < text.size()) {
            const auto c = static_cast<unsigned char>(text[plain]);
            if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80)
                break;
            ++plain;
        }
        out.append(text, i, plain - i);
        i = plain;
        if (i == text.size())
            break;
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
            ++i;
        } else if (c < 0x20) {
            switch (c) {
                case '\n':
                    out += "\\n";
                    break;
                case '\r':
                    out += "\\r";
                    break;
                case '\t':
                    out += "\\t";
                    break;
                default:
                    out += "\\u00";
                    out += kHex[c >> 4];
                    out += kHex[c & 0xF];
            }
            ++i;
        } else if (const std::size_t length = utf8_sequence(text, i)) {
            out.append(text, i, length);
            i += length;
        } else {
            out += "\xef\xbf\xbd";  // U+FFFD
            ++i;
        }
    }
    out += '"';
}

std::string_view utf8_prefix(std::string_view text, std::size_t max) {
    if (text.size() <= max)
        return text;
    std::size_t end = max;
    // Back off continuation bytes (10xxxxxx) to the start of the sequence they belong to.
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80)
        --end;
    return text.substr(0, end);
}

std::string quote(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 2);
    append_quoted(out, text);
    return out;
}

std::string edit(std::string& json, Edit op, std::string_view pointer, std::string_view value_json,
                 Index* index) {
    auto tokens = tokens_of(pointer);
    if (!tokens)
        return "malformed JSON pointer '" + std::string(pointer) + "'";
    if (op != Edit::remove) {
        if (std::string why = check(value_json); !why.empty())
            return "the value for '" + std::string(pointer) + "' is not valid JSON: " + why;
        // Whitespace around the value stays out of the text: a value's span starts at the value.
        Span bare = root_span(value_json);
        value_json = value_json.substr(bare.begin, bare.end - bare.begin);
    }
    if (tokens->empty()) {
        if (op == Edit::remove)
            return "cannot remove the whole document";
        json.assign(value_json);
        if (index)
            index->clear();
        return "";
    }
    const std::string_view parent_pointer = pointer.substr(0, pointer.rfind('/'));
    auto parent = find(json, parent_pointer, index);
    if (!parent)
        return "'" + std::string(pointer) + "': the parent does not exist";
    const char kind = json[parent->begin];
    if (kind != '{' && kind != '[')
        return "'" + std::string(pointer) + "': the parent is not an object or array";
    const std::string& last = tokens->back();
    // The root's pointer is "": an edit of a root array renumbers too.
    const std::optional<std::string_view> renumbered =
        kind == '[' ? std::optional(parent_pointer) : std::nullopt;

    if (op == Edit::remove) {
        auto slot = resolve(json, *tokens, tokens->size());  // the extent with its comma
        if (!slot)
            return "'" + std::string(pointer) + "' does not exist";
        splice(json, slot->removal.begin, slot->removal.end - slot->removal.begin, "", index,
               renumbered);
        return "";
    }
    auto target = find(json, pointer, index);
    // replace, and add on an existing object member, overwrite the value in place.
    if (op == Edit::replace || (kind == '{' && target)) {
        if (!target)
            return "'" + std::string(pointer) + "' does not exist";
        splice(json, target->begin, target->end - target->begin, value_json, index, std::nullopt);
        return "";
    }
    // add: a new object member, or an array insertion.
    const bool empty = container_is_empty(json, *parent);
    if (kind == '{') {
        std::string member_text = quote(last) + ":" + std::string(value_json);
        splice(json, closing_position(json, *parent), 0, empty ? member_text : "," + member_text,
               index, {});
        return "";
    }
    if (last != "-") {
        auto position = array_index(last);
        if (!position)
            return "'" + std::string(pointer) + "': not an array index";
        if (target) {
            splice(json, target->begin, 0, std::string(value_json) + ",", index, renumbered);
            return "";
        }
        std::size_t count = 0;
        element(json, parent->begin, *position, &count);
        if (*position != count)
            return "'" + std::string(pointer) + "': index past the end of the array";
    }
    splice(json, closing_position(json, *parent), 0,
           empty ? std::string(value_json) : "," + std::string(value_json), index, std::nullopt);
    return "";
}

}  // namespace llmproxy::json_fields
