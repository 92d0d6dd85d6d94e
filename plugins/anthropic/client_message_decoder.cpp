#include "anthropic/client_message_decoder.hpp"

#include <algorithm>
#include <initializer_list>
#include <string>

#include "anthropic/json_text.hpp"
#include "anthropic/request_errors.hpp"

namespace anthropic {

namespace {

// Refuses members of `object` other than `known`.
void check_members(const Json& object, const std::string& where,
                   std::initializer_list<std::string_view> known) {
    for (const auto& [key, value] : object.items())
        if (std::find(known.begin(), known.end(), key) == known.end())
            refuse_unsupported(where + "." + key,
                               "cannot be translated for this route's model, which is not "
                               "Anthropic's");
}

std::string& required_string(Json& object, const char* key, const std::string& where) {
    Json* value = given(object, key);
    if (!value || !value->is_string())
        refuse_invalid(where + "." + key, "must be a string");
    return value->get_ref<std::string&>();
}

Json& required_object(Json& object, const char* key, const std::string& where) {
    Json* value = given(object, key);
    if (!value || !value->is_object())
        refuse_invalid(where + "." + key, "must be an object");
    return *value;
}

const std::string& block_type(Json& block, const std::string& where) {
    if (!block.is_object())
        refuse_invalid(where, "must be an object");
    return required_string(block, "type", where);
}

Json text_part(Json& block, const std::string& where) {
    check_members(block, where, {"type", "text", "cache_control", "citations"});
    return Json{{"type", "text"}, {"text", std::move(required_string(block, "text", where))}};
}

Json image_part(Json& block, const std::string& where) {
    check_members(block, where, {"type", "source", "cache_control"});
    const std::string at = where + ".source";
    Json& source = required_object(block, "source", where);
    const std::string& type = required_string(source, "type", at);
    std::string url;
    if (type == "base64") {
        check_members(source, at, {"type", "media_type", "data"});
        url = "data:" + required_string(source, "media_type", at) + ";base64," +
              required_string(source, "data", at);
    } else if (type == "url") {
        check_members(source, at, {"type", "url"});
        url = std::move(required_string(source, "url", at));
    } else {
        refuse_unsupported(at + ".type",
                           "images of Anthropic's Files API (\"file\") exist only "
                           "at Anthropic; send the image as base64 or a url");
    }
    return Json{{"type", "image_url"}, {"image_url", {{"url", std::move(url)}}}};
}

Json document_part(Json& block, const std::string& where) {
    check_members(block, where, {"type", "source", "title", "cache_control"});
    const std::string at = where + ".source";
    Json& source = required_object(block, "source", where);
    if (required_string(source, "type", at) != "base64" ||
        required_string(source, "media_type", at) != "application/pdf")
        refuse_unsupported(at, "a canonical upstream takes documents as base64 PDFs only");
    check_members(source, at, {"type", "media_type", "data"});
    Json* title = given(block, "title");
    if (title && !title->is_string())
        refuse_invalid(where + ".title", "must be a string");
    return Json{
        {"type", "file"},
        {"file",
         {{"filename", title ? std::move(title->get_ref<std::string&>()) : "document.pdf"},
          {"file_data", "data:application/pdf;base64," + required_string(source, "data", at)}}}};
}

// Canonical content for parts: one text part as its string, several parts as an array.
Json content_of(Json parts) {
    if (parts.size() == 1 && parts[0]["type"] == "text")
        return std::move(parts[0]["text"]);
    return parts;
}

Json tool_message(Json& block, const std::string& where) {
    check_members(block, where, {"type", "tool_use_id", "content", "is_error", "cache_control"});
    Json message = {{"role", "tool"},
                    {"tool_call_id", std::move(required_string(block, "tool_use_id", where))}};
    Json* content = given(block, "content");
    if (!content) {
        message["content"] = "";
    } else if (content->is_string()) {
        message["content"] = std::move(*content);
    } else if (content->is_array()) {
        Json parts = Json::array();
        for (std::size_t i = 0; i < content->size(); ++i) {
            const std::string at = where + ".content." + std::to_string(i);
            if (block_type((*content)[i], at) != "text")
                refuse_unsupported(at + ".type",
                                   "a canonical upstream takes tool results as text only");
            parts.push_back(text_part((*content)[i], at));
        }
        message["content"] = parts.empty() ? Json("") : content_of(std::move(parts));
    } else {
        refuse_invalid(where + ".content", "must be a string or an array of blocks");
    }
    return message;
}

void decode_user_turn(Json& content, const std::string& where, Json& out) {
    if (content.is_string()) {
        out.push_back({{"role", "user"}, {"content", std::move(content)}});
        return;
    }
    Json parts = Json::array();
    bool had_tool_results = false;
    for (std::size_t i = 0; i < content.size(); ++i) {
        const std::string at = where + ".content." + std::to_string(i);
        const std::string& type = block_type(content[i], at);
        if (type == "tool_result") {
            // Tool messages go before the turn's other content: they answer the assistant turn
            // before this one, which a canonical upstream wants right after that turn.
            out.push_back(tool_message(content[i], at));
            had_tool_results = true;
        } else if (type == "text") {
            parts.push_back(text_part(content[i], at));
        } else if (type == "image") {
            parts.push_back(image_part(content[i], at));
        } else if (type == "document") {
            parts.push_back(document_part(content[i], at));
        } else {
            refuse_unsupported(at + ".type", "blocks of type \"" + type +
                                                 "\" cannot be translated for this route's "
                                                 "model, which is not Anthropic's");
        }
    }
    if (!parts.empty())
        out.push_back({{"role", "user"}, {"content", content_of(std::move(parts))}});
    else if (!had_tool_results)
        out.push_back({{"role", "user"}, {"content", ""}});
}

Json tool_call(Json& block, const std::string& where, ToolNames& names) {
    check_members(block, where, {"type", "id", "name", "input", "cache_control"});
    Json& input = required_object(block, "input", where);
    return Json{{"id", std::move(required_string(block, "id", where))},
                {"type", "function"},
                {"function",
                 {{"name", names.upstream_name(required_string(block, "name", where))},
                  {"arguments", compact_json(input)}}}};
}

void decode_assistant_turn(Json& content, const std::string& where, ToolNames& names, Json& out) {
    if (content.is_string()) {
        out.push_back({{"role", "assistant"}, {"content", std::move(content)}});
        return;
    }
    std::string text;
    Json tool_calls = Json::array();
    for (std::size_t i = 0; i < content.size(); ++i) {
        const std::string at = where + ".content." + std::to_string(i);
        const std::string& type = block_type(content[i], at);
        if (type == "text")
            text += text_part(content[i], at)["text"].get_ref<const std::string&>();
        else if (type == "tool_use")
            tool_calls.push_back(tool_call(content[i], at, names));
        else if (type != "thinking" && type != "redacted_thinking")
            refuse_unsupported(at + ".type", "blocks of type \"" + type +
                                                 "\" cannot be translated for this route's "
                                                 "model, which is not Anthropic's");
    }
    Json message = {{"role", "assistant"}};
    message["content"] = text.empty() && !tool_calls.empty() ? Json() : Json(std::move(text));
    if (!tool_calls.empty())
        message["tool_calls"] = std::move(tool_calls);
    out.push_back(std::move(message));
}

}  // namespace

Json decode_system(Json& system) {
    if (system.is_string())
        return system.get_ref<const std::string&>().empty()
                   ? Json()
                   : Json{{"role", "system"}, {"content", std::move(system)}};
    if (!system.is_array())
        refuse_invalid("system", "must be a string or an array of text blocks");
    Json parts = Json::array();
    for (std::size_t i = 0; i < system.size(); ++i) {
        const std::string at = "system." + std::to_string(i);
        if (block_type(system[i], at) != "text")
            refuse_invalid(at + ".type", "must be \"text\"");
        parts.push_back(text_part(system[i], at));
    }
    if (parts.empty())
        return Json();
    return Json{{"role", "system"}, {"content", content_of(std::move(parts))}};
}

void decode_messages(Json& messages, ToolNames& names, Json& out) {
    if (!messages.is_array())
        refuse_invalid("messages", "must be an array");
    for (std::size_t i = 0; i < messages.size(); ++i) {
        const std::string where = "messages." + std::to_string(i);
        Json& message = messages[i];
        if (!message.is_object())
            refuse_invalid(where, "must be an object");
        check_members(message, where, {"role", "content"});
        const std::string& role = required_string(message, "role", where);
        Json* content = given(message, "content");
        if (!content || !(content->is_string() || content->is_array()))
            refuse_invalid(where + ".content", "must be a string or an array of blocks");
        if (role == "user")
            decode_user_turn(*content, where, out);
        else if (role == "assistant")
            decode_assistant_turn(*content, where, names, out);
        else
            refuse_invalid(where + ".role", "must be \"user\" or \"assistant\"");
    }
}

}  // namespace anthropic
