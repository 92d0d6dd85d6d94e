#include "json/json_fields.hpp"

#include <cstring>
#include <nlohmann/json.hpp>
#include <vector>

namespace llmproxy::json_fields {

namespace {

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::size_t skip_ws(std::string_view s, std::size_t i) {
    while (i < s.size() && is_ws(s[i])) ++i;
    return i;
}

// i is at '"'; returns one past the closing quote. Strings are most of a chat body's bytes, so
// the search for the next quote uses memchr.
std::size_t skip_string(std::string_view s, std::size_t i) {
    const char* data = s.data();
    ++i;
    while (i < s.size()) {
        const void* hit = std::memchr(data + i, '"', s.size() - i);
        if (!hit) return s.size();
        std::size_t quote = static_cast<std::size_t>(static_cast<const char*>(hit) - data);
        std::size_t backslashes = 0;
        while (quote - backslashes > i && data[quote - backslashes - 1] == '\\') ++backslashes;
        if (backslashes % 2 == 0) return quote + 1;
        i = quote + 1;
    }
    return s.size();
}

// i is at the first byte of a value; returns one past its last byte.
std::size_t skip_value(std::string_view s, std::size_t i) {
    if (i >= s.size()) return i;
    char c = s[i];
    if (c == '"') return skip_string(s, i);
    if (c == '{' || c == '[') {
        int depth = 0;
        for (; i < s.size(); ++i) {
            char d = s[i];
            if (d == '"') {
                i = skip_string(s, i) - 1;
            } else if (d == '{' || d == '[') {
                ++depth;
            } else if (d == '}' || d == ']') {
                if (--depth == 0) return i + 1;
            }
        }
        return s.size();
    }
    while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && !is_ws(s[i])) ++i;
    return i;
}

// A raw key (between quotes) equals the wanted, unescaped token?
bool key_equals(std::string_view raw, std::string_view wanted) {
    if (raw.find('\\') == std::string_view::npos) return raw == wanted;
    auto decoded = nlohmann::json::parse("\"" + std::string(raw) + "\"", nullptr, false);
    return decoded.is_string() && decoded.get_ref<const std::string&>() == wanted;
}

// Splits a pointer into unescaped reference tokens; nullopt when malformed.
std::optional<std::vector<std::string>> tokens_of(std::string_view pointer) {
    std::vector<std::string> tokens;
    if (pointer.empty()) return tokens;
    if (pointer[0] != '/') return std::nullopt;
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
            if (k + 1 >= raw.size() || (raw[k + 1] != '0' && raw[k + 1] != '1')) return std::nullopt;
            token += raw[++k] == '0' ? '~' : '/';
        }
        tokens.push_back(std::move(token));
        if (end == std::string_view::npos) break;
        i = end + 1;
    }
    return tokens;
}

std::optional<std::size_t> array_index(const std::string& token) {
    if (token.empty() || token.size() > 9 || (token.size() > 1 && token[0] == '0')) return std::nullopt;
    std::size_t n = 0;
    for (char c : token) {
        if (c < '0' || c > '9') return std::nullopt;
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
std::optional<Slot> member(std::string_view s, std::size_t at, const std::string& key) {
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
        if (next >= s.size() || s[next] != ',') break;
        i = skip_ws(s, next + 1);
    }
    return std::nullopt;
}

// The element `index` of the array at `at` (which is at '['), or the count of elements through
// `count` when the index is past the end.
std::optional<Slot> element(std::string_view s, std::size_t at, std::size_t index, std::size_t* count) {
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
        if (next >= s.size() || s[next] != ',') break;
        i = skip_ws(s, next + 1);
    }
    if (count) *count = n;
    return std::nullopt;
}

// Resolves tokens[0..depth) from the root; the span of that value, or nullopt.
std::optional<Slot> resolve(std::string_view s, const std::vector<std::string>& tokens, std::size_t depth) {
    std::size_t begin = skip_ws(s, 0);
    Slot slot{{begin, skip_value(s, begin)}, {begin, skip_value(s, begin)}};
    for (std::size_t t = 0; t < depth; ++t) {
        if (slot.value.begin >= s.size()) return std::nullopt;
        char c = s[slot.value.begin];
        std::optional<Slot> next;
        if (c == '{') {
            next = member(s, slot.value.begin, tokens[t]);
        } else if (c == '[') {
            auto index = array_index(tokens[t]);
            if (!index) return std::nullopt;
            next = element(s, slot.value.begin, *index, nullptr);
        }
        if (!next) return std::nullopt;
        slot = *next;
    }
    return slot;
}

// Offset of the closing bracket of the container spanning `span`, with any whitespace before it.
std::size_t closing_position(std::string_view s, Span span) {
    std::size_t i = span.end - 1;
    while (i > span.begin && is_ws(s[i - 1])) --i;
    return i;
}

bool container_is_empty(std::string_view s, Span span) {
    return skip_ws(s, span.begin + 1) == span.end - 1;
}

}  // namespace

std::optional<Span> find(std::string_view json, std::string_view pointer) {
    auto tokens = tokens_of(pointer);
    if (!tokens) return std::nullopt;
    auto slot = resolve(json, *tokens, tokens->size());
    if (!slot) return std::nullopt;
    return slot->value;
}

std::optional<std::string_view> get(std::string_view json, std::string_view pointer) {
    auto span = find(json, pointer);
    if (!span) return std::nullopt;
    return json.substr(span->begin, span->end - span->begin);
}

std::optional<std::string> get_string(std::string_view json, std::string_view pointer) {
    auto text = get(json, pointer);
    if (!text || text->empty() || (*text)[0] != '"') return std::nullopt;
    if (text->find('\\') == std::string_view::npos) return std::string(text->substr(1, text->size() - 2));
    auto value = nlohmann::json::parse(*text, nullptr, false);
    if (!value.is_string()) return std::nullopt;
    return value.get<std::string>();
}

std::string quote(std::string_view text) {
    return nlohmann::json(std::string(text)).dump(-1, ' ', false,
                                                 nlohmann::json::error_handler_t::replace);
}

std::string edit(std::string& json, Edit op, std::string_view pointer, std::string_view value_json) {
    auto tokens = tokens_of(pointer);
    if (!tokens) return "malformed JSON pointer '" + std::string(pointer) + "'";
    if (op != Edit::remove && !nlohmann::json::accept(value_json))
        return "the value for '" + std::string(pointer) + "' is not valid JSON";
    if (tokens->empty()) {
        if (op == Edit::remove) return "cannot remove the whole document";
        json.assign(value_json);
        return "";
    }
    auto target = resolve(json, *tokens, tokens->size());
    auto parent = resolve(json, *tokens, tokens->size() - 1);
    if (!parent) return "'" + std::string(pointer) + "': the parent does not exist";
    const std::string& last = tokens->back();
    const char kind = json[parent->value.begin];
    if (kind != '{' && kind != '[') return "'" + std::string(pointer) + "': the parent is not an object or array";

    if (op == Edit::remove) {
        if (!target) return "'" + std::string(pointer) + "' does not exist";
        json.erase(target->removal.begin, target->removal.end - target->removal.begin);
        return "";
    }
    // replace, and add on an existing object member, overwrite the value in place.
    if (op == Edit::replace || (kind == '{' && target)) {
        if (!target) return "'" + std::string(pointer) + "' does not exist";
        json.replace(target->value.begin, target->value.end - target->value.begin, value_json);
        return "";
    }
    // add: a new object member, or an array insertion.
    if (kind == '{') {
        std::string member_text = quote(last) + ":" + std::string(value_json);
        bool empty = container_is_empty(json, parent->value);
        json.insert(closing_position(json, parent->value), empty ? member_text : "," + member_text);
        return "";
    }
    std::size_t count = 0;
    std::optional<std::size_t> index = last == "-" ? std::nullopt : array_index(last);
    if (last != "-" && !index) return "'" + std::string(pointer) + "': not an array index";
    if (index) {
        if (auto at = element(json, parent->value.begin, *index, &count)) {
            json.insert(at->value.begin, std::string(value_json) + ",");
            return "";
        }
        if (*index != count) return "'" + std::string(pointer) + "': index past the end of the array";
    }
    bool empty = container_is_empty(json, parent->value);
    json.insert(closing_position(json, parent->value), empty ? std::string(value_json) : "," + std::string(value_json));
    return "";
}

}  // namespace llmproxy::json_fields
