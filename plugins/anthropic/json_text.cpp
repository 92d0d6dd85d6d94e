#include "anthropic/json_text.hpp"

#include <charconv>
#include <vector>

#include "anthropic/json_scanner.hpp"
#include "anthropic/string_runs.hpp"

namespace anthropic {

void append_json_string(std::string& out, std::string_view text) {
    static constexpr char kHex[] = "0123456789abcdef";
    out.push_back('"');
    const char* at = text.data();
    const char* end = at + text.size();
    for (;;) {
        const char* special = run_end<RunStop::kSpecial>(at, end);
        out.append(at, static_cast<std::size_t>(special - at));
        if (special == end)
            break;
        const auto c = static_cast<unsigned char>(*special);
        at = special + 1;
        out.push_back('\\');
        switch (c) {
            case '"':
                out.push_back('"');
                break;
            case '\\':
                out.push_back('\\');
                break;
            case '\n':
                out.push_back('n');
                break;
            case '\r':
                out.push_back('r');
                break;
            case '\t':
                out.push_back('t');
                break;
            case '\b':
                out.push_back('b');
                break;
            case '\f':
                out.push_back('f');
                break;
            default:
                out.append("u00");
                out.push_back(kHex[c >> 4]);
                out.push_back(kHex[c & 0xf]);
        }
    }
    out.push_back('"');
}

namespace {

static_assert(JsonScanner::kMaxDepth == kMaxJsonDepth, "parse_document's limit is the codec's");

// Whether all of `text` is an integer that fits in `value`.
bool whole_integer(std::string_view text, std::uint64_t& value) {
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc() && end == text.data() + text.size();
}

// Builds a document from a scan, as nlohmann's DOM parser does: a later duplicate key replaces
// the value and keeps the first one's place.
class DocumentBuilder : public JsonTokens {
  public:
    Json root;
    bool failed = false;

    void object_start() override { open(Json::object()); }
    void array_start() override { open(Json::array()); }
    void object_end() override { open_.pop_back(); }
    void array_end() override { open_.pop_back(); }
    void key(std::string_view key) override { key_.assign(key); }
    bool reads_string() override { return true; }
    void string(std::string_view value) override { place(std::string(value)); }
    void integer(std::int64_t value) override { place(value); }
    void other_value(std::string_view text) override {
        if (text == "true" || text == "false") {
            place(text == "true");
        } else if (text == "null") {
            place(nullptr);
        } else if (std::uint64_t value = 0; whole_integer(text, value)) {
            place(value);  // a positive integer beyond int64_t
        } else {
            Json number = Json::parse(text, nullptr, false);  // a float, as nlohmann reads it
            failed = failed || number.is_discarded();         // beyond a double's range
            place(std::move(number));
        }
    }

  private:
    // Where a value goes: the root, the open array's end, or the open object's member key_.
    // Pointers to open containers stay valid: their parents grow only after they close.
    Json* place(Json value) {
        if (open_.empty()) {
            root = std::move(value);
            return &root;
        }
        Json& container = *open_.back();
        if (container.is_array()) {
            container.push_back(std::move(value));
            return &container.back();
        }
        Json& member = container[key_];
        member = std::move(value);
        return &member;
    }
    void open(Json container) { open_.push_back(place(std::move(container))); }

    std::vector<Json*> open_;
    std::string key_;
};

void append_compact(std::string& out, const Json& value) {
    switch (value.type()) {
        case Json::value_t::object: {
            out.push_back('{');
            bool first = true;
            for (const auto& [key, member] : value.items()) {
                if (!first)
                    out.push_back(',');
                first = false;
                append_json_string(out, key);
                out.push_back(':');
                append_compact(out, member);
            }
            out.push_back('}');
            return;
        }
        case Json::value_t::array: {
            out.push_back('[');
            bool first = true;
            for (const auto& element : value) {
                if (!first)
                    out.push_back(',');
                first = false;
                append_compact(out, element);
            }
            out.push_back(']');
            return;
        }
        case Json::value_t::string:
            append_json_string(out, value.get_ref<const std::string&>());
            return;
        default:  // numbers, booleans and null: short, and written as dump writes them
            out += value.dump();
    }
}

}  // namespace

Json parse_document(std::string_view text) {
    DocumentBuilder builder;
    JsonScanner scanner;
    if (!scanner.scan(text, builder) || builder.failed)
        return Json(Json::value_t::discarded);
    return std::move(builder.root);
}

std::string compact_json(const Json& document) {
    std::string out;
    append_compact(out, document);
    return out;
}

bool is_blank(std::string_view text) {
    return text.find_first_not_of(" \t\n\r\f\v") == std::string_view::npos;
}

bool nesting_within(std::string_view json, int max_depth) {
    int depth = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < json.size(); ++i) {
        const char c = json[i];
        if (in_string) {
            if (c == '\\')
                ++i;  // the escaped character cannot end the string
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > max_depth)
                return false;
        } else if (c == '}' || c == ']') {
            --depth;
        }
    }
    return true;
}

}  // namespace anthropic
