#include "processor_kit.hpp"

namespace processors {

Settings::Settings(std::string_view additional_config_json)
    : object_(json::parse(additional_config_json, nullptr, false)) {
    if (!object_.is_object())
        throw Error("additional_config must be a table");
}

const json& Settings::value(const std::string& key) {
    known_.insert(key);
    static const json kNull;
    auto it = object_.find(key);
    return it == object_.end() ? kNull : *it;
}

std::string Settings::string(const std::string& key, std::string fallback) {
    const json& v = value(key);
    if (v.is_null())
        return fallback;
    if (!v.is_string())
        throw Error("additional_config." + key + " must be a string");
    return v.get<std::string>();
}

bool Settings::boolean(const std::string& key, bool fallback) {
    const json& v = value(key);
    if (v.is_null())
        return fallback;
    if (!v.is_boolean())
        throw Error("additional_config." + key + " must be true or false");
    return v.get<bool>();
}

std::size_t Settings::count(const std::string& key, std::size_t fallback) {
    const json& v = value(key);
    if (v.is_null())
        return fallback;
    if (!v.is_number_unsigned())
        throw Error("additional_config." + key + " must be a non-negative integer");
    return v.get<std::size_t>();
}

std::vector<std::string> Settings::strings(const std::string& key) {
    const json& v = value(key);
    std::vector<std::string> out;
    if (v.is_null())
        return out;
    bool ok = v.is_array();
    if (ok)
        for (const auto& item : v) {
            if (!item.is_string())
                ok = false;
            else
                out.push_back(item.get<std::string>());
        }
    if (!ok)
        throw Error("additional_config." + key + " must be an array of strings");
    return out;
}

json Settings::table(const std::string& key) {
    const json& v = value(key);
    if (v.is_null())
        return json::object();
    if (!v.is_object())
        throw Error("additional_config." + key + " must be a table");
    return v;
}

std::string Settings::choice(const std::string& key, std::string fallback,
                             const std::set<std::string>& choices) {
    std::string v = string(key, std::move(fallback));
    if (!choices.count(v)) {
        std::string list;
        for (const auto& c : choices)
            list += (list.empty() ? "" : ", ") + c;
        throw Error("additional_config." + key + " must be one of " + list + ", not \"" + v + "\"");
    }
    return v;
}

void Settings::finish() {
    for (auto& [key, v] : object_.items()) {
        if (known_.count(key))
            continue;
        std::string list;
        for (const auto& k : known_)
            list += (list.empty() ? "" : ", ") + k;
        throw Error("unknown key additional_config." + key + " (known: " + list + ")");
    }
}

namespace {

// A text the processor cannot read is refused, never skipped: a filter must not pass a message it
// did not see.
[[noreturn]] void unreadable(const std::string& pointer) {
    throw Error("the request's " + pointer +
                    " cannot be read as text, so it cannot be checked; send a string",
                400, "invalid_request_error", "unreadable_content");
}

}  // namespace

void for_each_message_text(const Call& call,
                           const std::function<void(const std::string&, std::string_view)>& fn) {
    for (std::size_t i = 0;; ++i) {
        std::string message = "/messages/" + std::to_string(i);
        std::string content = message + "/content";
        auto value = call.get_field(content);
        if (!value) {
            if (!call.get_field(message))
                return;  // past the last message
            continue;    // a message without content
        }
        if (*value == "null")
            continue;  // e.g. an assistant message with tool calls only
        if (!value->empty() && value->front() == '"') {
            // Without escapes the JSON text is the string itself: no second lookup needed.
            if (value->find('\\') == std::string_view::npos) {
                fn(content, value->substr(1, value->size() - 2));
            } else {
                auto text = call.get_string(content);
                if (!text)
                    unreadable(content);
                fn(content, *text);
            }
        } else if (!value->empty() && value->front() == '[') {
            for (std::size_t j = 0;; ++j) {
                std::string part = content + "/" + std::to_string(j);
                if (!call.get_field(part))
                    break;
                std::string text_pointer = part + "/text";
                if (!call.get_field(text_pointer))
                    continue;  // a part without text (an image, a file)
                auto text = call.get_string(text_pointer);
                if (!text)
                    unreadable(text_pointer);
                fn(text_pointer, *text);
            }
        } else {
            unreadable(content);
        }
    }
}

std::string json_string(std::string_view text) {
    static const char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(text.size() + 16);
    out.push_back('"');
    std::size_t run = 0;  // start of the current run of characters that need no escape
    for (std::size_t i = 0; i < text.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        out.append(text, run, i - run);
        run = i + 1;
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
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
                out.push_back(kHex[c >> 4]);
                out.push_back(kHex[c & 0xF]);
        }
    }
    out.append(text, run, std::string_view::npos);
    out.push_back('"');
    // Texts come from bodies the host validated on arrival, so they are UTF-8 already.
    return out;
}

void require_canonical(const lp_request_view& request, const std::string& processor,
                       std::string_view type) {
    const std::string_view api = llm_proxy::request_api(request);
    if (api == "openai")
        return;
    throw Error("processor '" + processor + "' (" + std::string(type) +
                    ") reads OpenAI chat requests, and this route passes its clients' " +
                    std::string(api) +
                    " requests to the upstream as they are (natively), unread; put it on a route "
                    "whose llm speaks another API (the request is translated there), or remove it",
                500, "server_error", "unsupported_api");
}

}  // namespace processors
