#include "anthropic/message_encoder.hpp"

#include <optional>
#include <string>

#include "anthropic/json_access.hpp"
#include "anthropic/json_text.hpp"
#include "anthropic/request_errors.hpp"

namespace anthropic {

namespace {

// The string member `key` of `object`; refused, naming where + "." + key, when it is not one.
std::string& required_string(Json& object, const char* key, const std::string& where) {
    Json* value = given(object, key);
    if (!value || !value->is_string())
        refuse_invalid(where + "." + key, "must be a string");
    return value->get_ref<std::string&>();
}

Json text_block(std::string text) {
    return Json{{"type", "text"}, {"text", std::move(text)}};
}

// Copies a part's cache_control onto the block made from it.
void keep_cache_control(Json& part, Json& block) {
    if (Json* cache_control = given(part, "cache_control"))
        block["cache_control"] = std::move(*cache_control);
}

struct DataUrl {
    std::string media_type;
    std::string data;
};

// "data:<media type>;base64,<data>"; nullopt for any other form.
std::optional<DataUrl> parse_data_url(std::string_view url) {
    constexpr std::string_view kScheme = "data:", kBase64 = ";base64,";
    if (url.substr(0, kScheme.size()) != kScheme)
        return std::nullopt;
    auto marker = url.find(kBase64);
    if (marker == std::string_view::npos)
        return std::nullopt;
    return DataUrl{std::string(url.substr(kScheme.size(), marker - kScheme.size())),
                   std::string(url.substr(marker + kBase64.size()))};
}

// A base64 image or PDF as Anthropic's image or document block.
Json media_block(DataUrl media, const std::string& where) {
    const std::string& type = media.media_type;
    const char* block_type =
        type == "application/pdf" ? "document"
        : type == "image/jpeg" || type == "image/png" || type == "image/gif" || type == "image/webp"
            ? "image"
            : nullptr;
    if (!block_type)
        refuse_value(where,
                     "Anthropic takes images (image/jpeg, image/png, image/gif, "
                     "image/webp) and PDFs (application/pdf), not " +
                         (type.empty() ? std::string("data without a media type") : type));
    return Json{{"type", block_type},
                {"source",
                 {{"type", "base64"},
                  {"media_type", std::move(media.media_type)},
                  {"data", std::move(media.data)}}}};
}

Json image_url_block(Json& part, const std::string& where) {
    Json* image_url = given(part, "image_url");
    if (!image_url || !image_url->is_object())
        refuse_invalid(where + ".image_url", "must be an object with a url");
    const std::string url_field = where + ".image_url.url";
    std::string& url = required_string(*image_url, "url", where + ".image_url");
    if (auto media = parse_data_url(url))
        return media_block(std::move(*media), url_field);
    if (url.starts_with("https://") || url.starts_with("http://"))
        return Json{{"type", "image"}, {"source", {{"type", "url"}, {"url", std::move(url)}}}};
    refuse_invalid(url_field, "must be an http(s) URL or a data: URL with base64 data");
}

Json file_block(Json& part, const std::string& where) {
    Json* file = given(part, "file");
    if (!file || !file->is_object())
        refuse_invalid(where + ".file", "must be an object with file_data");
    if (given(*file, "file_id"))
        refuse_unsupported(where + ".file.file_id",
                           "Anthropic cannot read OpenAI's uploaded files; send file_data");
    std::string& data = required_string(*file, "file_data", where + ".file");
    // OpenAI takes file_data as a data: URL or as bare base64 of a PDF.
    auto media = parse_data_url(data);
    Json block =
        media_block(media ? std::move(*media) : DataUrl{"application/pdf", std::move(data)},
                    where + ".file.file_data");
    if (Json* filename = given(*file, "filename"); filename && block["type"] == "document") {
        if (!filename->is_string())
            refuse_invalid(where + ".file.filename", "must be a string");
        block["title"] = std::move(*filename);
    }
    return block;
}

// The block for one content part of a message of `role`, or null when the part is dropped (blank
// text, the refusal of an earlier answer). Only user messages hold images and files.
Json part_block(Json& part, const std::string& where, std::string_view role) {
    const bool media = role == "user";
    if (!part.is_object())
        refuse_invalid(where, "must be an object");
    const std::string& type = required_string(part, "type", where);
    Json block;
    if (type == "text") {
        std::string& text = required_string(part, "text", where);
        if (is_blank(text))
            return nullptr;
        block = text_block(std::move(text));
    } else if (type == "refusal" && role == "assistant") {
        return nullptr;  // an earlier answer's refusal text: Anthropic has no place for it
    } else if (type == "image_url" && media) {
        block = image_url_block(part, where);
    } else if (type == "file" && media) {
        block = file_block(part, where);
    } else if (type == "input_audio") {
        refuse_unsupported(where, "Anthropic does not take audio input");
    } else {
        refuse_unsupported(where + ".type", "content parts of type \"" + type +
                                                "\" cannot be sent in this message to Anthropic");
    }
    keep_cache_control(part, block);
    return block;
}

// The blocks of a message's content: a string, or an array of parts. Null content has none.
Json content_blocks(Json& message, const std::string& where, std::string_view role) {
    Json blocks = Json::array();
    Json* content = given(message, "content");
    if (!content)
        return blocks;
    const std::string field = where + ".content";
    if (content->is_string()) {
        if (!is_blank(content->get_ref<const std::string&>()))
            blocks.push_back(text_block(std::move(content->get_ref<std::string&>())));
    } else if (content->is_array()) {
        for (std::size_t j = 0; j < content->size(); ++j) {
            Json block = part_block((*content)[j], field + "[" + std::to_string(j) + "]", role);
            if (!block.is_null())
                blocks.push_back(std::move(block));
        }
    } else {
        refuse_invalid(field, "must be a string or an array of content parts");
    }
    return blocks;
}

Json tool_use_block(Json& call, const std::string& where) {
    if (!call.is_object())
        refuse_invalid(where, "must be an object");
    if (Json* type = given(call, "type"); type && *type != "function")
        refuse_unsupported(where + ".type", "Anthropic takes tool calls of type \"function\" only");
    const std::string& id = required_string(call, "id", where);
    Json* function = given(call, "function");
    if (!function || !function->is_object())
        refuse_invalid(where + ".function", "must be an object with name and arguments");
    std::string& name = required_string(*function, "name", where + ".function");
    const std::string arguments_field = where + ".function.arguments";
    const std::string& arguments = required_string(*function, "arguments", where + ".function");
    // A call without arguments streamed by some servers has arguments "".
    Json input = Json::object();
    if (!is_blank(arguments)) {
        input = parse_document(arguments);
        if (!input.is_object())
            refuse_invalid(
                arguments_field,
                "must be a JSON object (Anthropic's tool input), e.g. {\"city\":\"Paris\"}");
    }
    return Json{{"type", "tool_use"},
                {"id", anthropic_tool_id(id)},
                {"name", std::move(name)},
                {"input", std::move(input)}};
}

Json tool_result_block(Json& message, const std::string& where) {
    Json block = {
        {"type", "tool_result"},
        {"tool_use_id", anthropic_tool_id(required_string(message, "tool_call_id", where))}};
    Json* content = given(message, "content");
    if (content && content->is_string()) {
        if (!is_blank(content->get_ref<const std::string&>()))
            block["content"] = std::move(*content);
    } else if (Json blocks = content_blocks(message, where, "tool"); !blocks.empty()) {
        block["content"] = std::move(blocks);
    }
    return block;
}

// Builds the turns, merging consecutive messages of one side.
class Turns {
  public:
    void add(const char* role, Json blocks) { add(role, std::move(blocks), Json::array()); }
    void add_tool_result(Json block) {
        add("user", Json::array(), Json::array({std::move(block)}));
    }

    Json take() {
        flush();
        return std::move(turns_);
    }

  private:
    void add(const char* role, Json blocks, Json results) {
        if (role_ != role)
            flush();
        role_ = role;
        for (auto& b : results)
            results_.push_back(std::move(b));
        for (auto& b : blocks)
            others_.push_back(std::move(b));
    }

    void flush() {
        if (results_.empty() && others_.empty())
            return;
        // Anthropic wants a turn's tool results first, before anything else the user says.
        for (auto& b : others_)
            results_.push_back(std::move(b));
        turns_.push_back(Json{{"role", role_}, {"content", std::move(results_)}});
        results_ = Json::array();
        others_ = Json::array();
    }

    Json turns_ = Json::array();
    std::string role_;
    Json results_ = Json::array();
    Json others_ = Json::array();
};

// Message fields that carry nothing Anthropic can use, per role (null values are always fine).
bool dropped_field(std::string_view role, std::string_view key) {
    if (key == "name")
        return true;
    return role == "assistant" &&
           (key == "refusal" || key == "annotations" || key == "reasoning_content");
}

bool translated_field(std::string_view role, std::string_view key) {
    return key == "role" || key == "content" || (role == "assistant" && key == "tool_calls") ||
           (role == "tool" && key == "tool_call_id");
}

void check_fields(const Json& message, const std::string& role, const std::string& where) {
    for (const auto& [key, value] : message.items()) {
        if (value.is_null() || translated_field(role, key) || dropped_field(role, key))
            continue;
        refuse_unsupported(where + "." + key, "Anthropic's Messages API has no equivalent for it");
    }
}

}  // namespace

std::string anthropic_tool_id(std::string_view id) {
    std::string out(id);
    for (char& c : out)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            c = '_';
    return out;
}

EncodedMessages encode_messages(Json& messages) {
    if (!messages.is_array())
        refuse_invalid("messages", "must be an array");
    EncodedMessages out;
    Turns turns;
    for (std::size_t i = 0; i < messages.size(); ++i) {
        const std::string where = "messages[" + std::to_string(i) + "]";
        Json& message = messages[i];
        if (!message.is_object())
            refuse_invalid(where, "must be an object");
        const std::string role = required_string(message, "role", where);
        if (role == "function")
            refuse_unsupported(where + ".role",
                               "function messages are OpenAI's legacy form; send tool messages");
        if (role != "system" && role != "developer" && role != "user" && role != "assistant" &&
            role != "tool")
            refuse_invalid(where + ".role", "must be system, developer, user, assistant or tool");
        check_fields(message, role, where);
        if (role == "system" || role == "developer") {
            for (auto& block : content_blocks(message, where, role))
                out.system.push_back(std::move(block));
        } else if (role == "user") {
            turns.add("user", content_blocks(message, where, role));
        } else if (role == "tool") {
            turns.add_tool_result(tool_result_block(message, where));
        } else {
            Json blocks = content_blocks(message, where, role);
            if (Json* calls = given(message, "tool_calls")) {
                if (!calls->is_array())
                    refuse_invalid(where + ".tool_calls", "must be an array");
                for (std::size_t j = 0; j < calls->size(); ++j)
                    blocks.push_back(tool_use_block(
                        (*calls)[j], where + ".tool_calls[" + std::to_string(j) + "]"));
            }
            turns.add("assistant", std::move(blocks));
        }
    }
    out.messages = turns.take();
    return out;
}

}  // namespace anthropic
