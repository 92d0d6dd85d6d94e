#include "anthropic/client_request_decoder.hpp"
#include "anthropic/simple_client_request.hpp"

#include <llm_proxy/cpp/plugin.hpp>

#include <algorithm>
#include <initializer_list>

#include "anthropic/client_message_decoder.hpp"
#include "anthropic/json_access.hpp"
#include "anthropic/json_text.hpp"
#include "anthropic/request_errors.hpp"
#include "anthropic/simple_client_request.hpp"

namespace anthropic {

namespace {

constexpr std::string_view kNotAnthropic =
    "cannot be translated for this route's model, which is not Anthropic's";

// Every top-level field the decoder translates or drops; the others are refused.
constexpr std::string_view kKnownFields[] = {
    "model", "max_tokens", "messages", "system", "stop_sequences", "stream", "temperature", "top_p",
    "metadata", "tools", "tool_choice", "thinking", "output_config", "output_format",
    // Dropped. cache_control: caching hints are advisory, the answer is the same without them.
    // service_tier: it chooses between Anthropic's own capacity tiers.
    "cache_control", "service_tier"};

void check_known_fields(const Json& request) {
    for (const auto& [key, value] : request.items()) {
        if (value.is_null() || std::find(std::begin(kKnownFields), std::end(kKnownFields), key) !=
                                   std::end(kKnownFields))
            continue;
        if (key == "top_k")
            refuse_unsupported(key, "OpenAI's API has no top-k sampling");
        refuse_unsupported(key, kNotAnthropic);
    }
}

void check_members(const Json& object, const std::string& where,
                   std::initializer_list<std::string_view> known) {
    for (const auto& [key, value] : object.items())
        if (std::find(known.begin(), known.end(), key) == known.end())
            refuse_unsupported(where + "." + key, kNotAnthropic);
}

[[noreturn]] void missing(const char* field) {
    throw llm_proxy::Error(std::string(field) + ": Field required", 400, "invalid_request_error",
                           "missing_required_parameter");
}

Json& object_field(Json& request, const char* key) {
    Json& value = request[key];
    if (!value.is_object())
        refuse_invalid(key, "must be an object");
    return value;
}

Json stop(Json& stop_sequences) {
    if (!stop_sequences.is_array())
        refuse_invalid("stop_sequences", "must be an array of strings");
    for (const auto& s : stop_sequences)
        if (!s.is_string())
            refuse_invalid("stop_sequences", "must be an array of strings");
    return std::move(stop_sequences);
}

Json tools(Json& tools, ToolNames& names) {
    if (!tools.is_array())
        refuse_invalid("tools", "must be an array");
    Json out = Json::array();
    for (std::size_t i = 0; i < tools.size(); ++i) {
        const std::string where = "tools." + std::to_string(i);
        Json& tool = tools[i];
        if (!tool.is_object())
            refuse_invalid(where, "must be an object");
        if (Json* type = given(tool, "type"); type && *type != "custom")
            refuse_unsupported(where + ".type",
                               "Anthropic's server tools (" + type->dump() +
                                   ") run at Anthropic only; this route's model is not "
                                   "Anthropic's");
        check_members(tool, where,
                      {"type", "name", "description", "input_schema", "strict", "cache_control",
                       "eager_input_streaming"});
        Json* name = given(tool, "name");
        if (!name || !name->is_string() || name->get_ref<const std::string&>().empty())
            refuse_invalid(where + ".name", "must be a non-empty string");
        Json* schema = given(tool, "input_schema");
        if (!schema || !schema->is_object())
            refuse_invalid(where + ".input_schema", "must be a JSON schema object");
        // The tool's own members go into `function` one by one: its "type" ("custom") must not
        // reach `parameters`, whose "type" is the schema's.
        Json function = {{"name", names.upstream_name(name->get_ref<const std::string&>())}};
        if (Json* description = given(tool, "description")) {
            if (!description->is_string())
                refuse_invalid(where + ".description", "must be a string");
            function["description"] = std::move(*description);
        }
        function["parameters"] = std::move(*schema);
        if (Json* strict = given(tool, "strict")) {
            if (!strict->is_boolean())
                refuse_invalid(where + ".strict", "must be true or false");
            function["strict"] = *strict;
        }
        out.push_back({{"type", "function"}, {"function", std::move(function)}});
    }
    return out;
}

// Writes tool_choice and parallel_tool_calls.
void tool_choice(Json& choice, ToolNames& names, Json& out) {
    if (!choice.is_object() || !choice["type"].is_string())
        refuse_invalid("tool_choice", "must be an object with a type");
    const std::string type = choice["type"];
    if (type == "tool") {
        check_members(choice, "tool_choice", {"type", "name", "disable_parallel_tool_use"});
        Json* name = given(choice, "name");
        if (!name || !name->is_string())
            refuse_invalid("tool_choice.name", "must be a string");
        out["tool_choice"] = {
            {"type", "function"},
            {"function", {{"name", names.upstream_name(name->get_ref<const std::string&>())}}}};
    } else if (type == "auto" || type == "any") {
        check_members(choice, "tool_choice", {"type", "disable_parallel_tool_use"});
        out["tool_choice"] = type == "any" ? "required" : "auto";
    } else if (type == "none") {
        check_members(choice, "tool_choice", {"type"});
        out["tool_choice"] = "none";
    } else {
        refuse_invalid("tool_choice.type", "must be auto, any, tool or none");
    }
    if (Json* disable = given(choice, "disable_parallel_tool_use")) {
        if (!disable->is_boolean())
            refuse_invalid("tool_choice.disable_parallel_tool_use", "must be true or false");
        if (*disable == true)
            out["parallel_tool_calls"] = false;
    }
}

// reasoning_effort for `thinking`; "" for none.
std::string effort_of_thinking(Json& thinking) {
    if (!thinking.is_object() || !thinking["type"].is_string())
        refuse_invalid("thinking", "must be an object with a type");
    const std::string type = thinking["type"];
    if (type == "disabled") {
        check_members(thinking, "thinking", {"type"});
        return "";
    }
    if (type == "adaptive") {
        // display chooses whether Anthropic shows its thinking text; it cannot change the answer.
        check_members(thinking, "thinking", {"type", "display"});
        return "medium";
    }
    if (type != "enabled")
        refuse_invalid("thinking.type", "must be enabled, adaptive or disabled");
    check_members(thinking, "thinking", {"type", "budget_tokens", "display"});
    Json* budget = given(thinking, "budget_tokens");
    if (!budget || !budget->is_number_integer())
        refuse_invalid("thinking.budget_tokens", "must be an integer");
    const std::int64_t tokens = budget->get<std::int64_t>();
    return tokens < 2048 ? "low" : tokens < 4096 ? "medium" : "high";
}

std::string effort_of_output_config(const Json& effort) {
    const std::string value = effort.is_string() ? effort.get<std::string>() : "";
    if (value == "low" || value == "medium" || value == "high" || value == "xhigh")
        return value;
    if (value == "max")
        return "xhigh";  // OpenAI's highest effort
    refuse_invalid("output_config.effort", "must be low, medium, high, xhigh or max");
}

// OpenAI's strict mode wants every object closed and every property required.
void make_strict(Json& schema) {
    if (!schema.is_object())
        return;
    // Members are added last: an insertion moves the members of an ordered object, so no pointer
    // into this one may be in use then.
    Json required;
    if (Json* properties = given(schema, "properties");
        properties && properties->is_object() && string_or_empty(schema, "type") == "object") {
        required = Json::array();
        for (auto& [name, property] : properties->items()) {
            required.push_back(name);
            make_strict(property);
        }
    }
    if (Json* items = given(schema, "items"))
        make_strict(*items);
    for (const char* key : {"anyOf", "oneOf", "allOf"})
        if (Json* list = given(schema, key); list && list->is_array())
            for (auto& sub : *list)
                make_strict(sub);
    for (const char* key : {"$defs", "definitions"})
        if (Json* defs = given(schema, key); defs && defs->is_object())
            for (auto& [name, sub] : defs->items())
                make_strict(sub);
    if (!required.is_null()) {
        schema["additionalProperties"] = false;
        schema["required"] = std::move(required);
    }
}

Json response_format(Json& format, const char* where) {
    if (!format.is_object() || string_or_empty(format, "type") != "json_schema")
        refuse_invalid(where, "must be {\"type\":\"json_schema\",\"schema\":{...}}");
    check_members(format, where, {"type", "schema"});
    Json* schema = given(format, "schema");
    if (!schema || !schema->is_object())
        refuse_invalid(std::string(where) + ".schema", "must be a JSON schema object");
    make_strict(*schema);
    return Json{
        {"type", "json_schema"},
        {"json_schema",
         {{"name", "structured_output"}, {"schema", std::move(*schema)}, {"strict", true}}}};
}

// reasoning_effort and response_format, from thinking, output_config and output_format.
void reasoning_and_format(Json& request, Json& out) {
    std::string effort;
    if (Json* thinking = given(request, "thinking"))
        effort = effort_of_thinking(*thinking);
    Json* format = given(request, "output_format");
    if (given(request, "output_config")) {
        Json& config = object_field(request, "output_config");
        check_members(config, "output_config", {"effort", "format"});
        if (Json* e = given(config, "effort"))
            effort = effort_of_output_config(*e);
        if (Json* f = given(config, "format")) {
            if (format)
                refuse_invalid("output_format",
                               "give output_format or output_config.format, "
                               "not both");
            out["response_format"] = response_format(*f, "output_config.format");
        }
    }
    if (format)
        out["response_format"] = response_format(*format, "output_format");
    if (!effort.empty())
        out["reasoning_effort"] = effort;
}

}  // namespace

DecodedRequest decode_client_request(std::string_view text) {
    if (auto simple = decode_simple_client_request(text))
        return std::move(*simple);
    return decode_client_request_in_full(text);
}

DecodedRequest decode_client_request_in_full(std::string_view text) {
    Json request = parse_document(text);
    if (!request.is_object())
        refuse_invalid("(body)", "must be a JSON object nesting at most " +
                                     std::to_string(kMaxJsonDepth) + " levels deep");
    check_known_fields(request);

    DecodedRequest decoded;
    Json out = Json::object();
    Json* model = given(request, "model");
    if (!model)
        missing("model");
    if (!model->is_string() || model->get_ref<const std::string&>().empty())
        refuse_invalid("model", "must be a non-empty string");
    decoded.model = model->get<std::string>();
    out["model"] = std::move(*model);

    Json* messages = given(request, "messages");
    if (!messages)
        missing("messages");
    Json canonical_messages = Json::array();
    if (Json* system = given(request, "system"))
        if (Json message = decode_system(*system); !message.is_null())
            canonical_messages.push_back(std::move(message));
    decode_messages(*messages, decoded.tool_names, canonical_messages);
    out["messages"] = std::move(canonical_messages);

    Json* max_tokens = given(request, "max_tokens");
    if (!max_tokens)
        missing("max_tokens");
    if (!max_tokens->is_number_integer() || max_tokens->get<std::int64_t>() < 0)
        refuse_invalid("max_tokens", "must be an integer of at least 0");
    out["max_tokens"] = *max_tokens;

    for (const char* key : {"temperature", "top_p"}) {
        if (Json* value = given(request, key)) {
            if (!value->is_number())
                refuse_invalid(key, "must be a number");
            out[key] = *value;
        }
    }
    if (Json* s = given(request, "stop_sequences"); s && !(s->is_array() && s->empty()))
        out["stop"] = stop(*s);
    if (Json* t = given(request, "tools"); t && !(t->is_array() && t->empty()))
        out["tools"] = tools(*t, decoded.tool_names);
    if (Json* choice = given(request, "tool_choice"))
        tool_choice(*choice, decoded.tool_names, out);
    reasoning_and_format(request, out);
    if (given(request, "metadata")) {
        Json& metadata = object_field(request, "metadata");
        check_members(metadata, "metadata", {"user_id"});
        if (Json* user = given(metadata, "user_id")) {
            if (!user->is_string())
                refuse_invalid("metadata.user_id", "must be a string");
            out["user"] = std::move(*user);
        }
    }
    if (Json* stream = given(request, "stream")) {
        if (!stream->is_boolean())
            refuse_invalid("stream", "must be true or false");
        decoded.stream = stream->get<bool>();
        out["stream"] = decoded.stream;
        if (decoded.stream)
            out["stream_options"] = {{"include_usage", true}};
    }
    decoded.body = compact_json(out);
    return decoded;
}

}  // namespace anthropic
