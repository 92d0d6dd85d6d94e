#include "anthropic/request_encoder.hpp"

#include <algorithm>
#include <iterator>

#include "anthropic/json_access.hpp"
#include "anthropic/json_text.hpp"
#include "anthropic/message_encoder.hpp"
#include "anthropic/request_errors.hpp"
#include "anthropic/simple_request.hpp"

namespace anthropic {

namespace {

// Every top-level field of a chat request the provider knows. Any other is refused.
constexpr std::string_view kKnownFields[] = {
    // translated
    "model", "messages", "max_tokens", "max_completion_tokens", "stop", "temperature", "top_p",
    "tools", "tool_choice", "parallel_tool_calls", "response_format", "reasoning_effort", "user",
    "safety_identifier", "stream", "stream_options",
    // Anthropic's own, passed through
    "top_k", "thinking",
    // no effect on the answer
    "store", "metadata", "prompt_cache_key", "service_tier",
    // refused unless they ask for nothing
    "n", "logprobs", "top_logprobs", "logit_bias", "presence_penalty", "frequency_penalty", "seed",
    "audio", "modalities", "prediction", "functions", "function_call", "web_search_options"};

void check_known_fields(const Json& request) {
    for (const auto& [key, value] : request.items())
        if (std::find(std::begin(kKnownFields), std::end(kKnownFields), key) ==
            std::end(kKnownFields))
            refuse_unsupported(key,
                               "the anthropic provider does not know this parameter, and "
                               "does not drop what it cannot translate");
}

// Fields Anthropic cannot honour, accepted only with values that ask for nothing.
void check_refused_fields(Json& request) {
    auto is_zero = [](const Json& v) { return v.is_number() && v.get<double>() == 0; };
    if (Json* n = given(request, "n"); n && *n != 1)
        refuse_unsupported("n", "Anthropic returns one choice; n must be 1");
    if (Json* v = given(request, "logprobs"); v && *v != false)
        refuse_unsupported("logprobs", "Anthropic returns no log probabilities");
    if (Json* v = given(request, "top_logprobs"); v && !is_zero(*v))
        refuse_unsupported("top_logprobs", "Anthropic returns no log probabilities");
    if (Json* v = given(request, "logit_bias"); v && *v != Json::object())
        refuse_unsupported("logit_bias", "Anthropic has no logit bias");
    for (const char* penalty : {"presence_penalty", "frequency_penalty"})
        if (Json* v = given(request, penalty); v && !is_zero(*v))
            refuse_unsupported(penalty, "Anthropic has no repetition penalties");
    if (given(request, "seed"))
        refuse_unsupported("seed", "Anthropic has no seeded sampling");
    if (given(request, "audio"))
        refuse_unsupported("audio", "Anthropic answers with text only");
    if (Json* v = given(request, "modalities"); v && *v != Json::array({"text"}))
        refuse_unsupported("modalities", "Anthropic answers with text only: [\"text\"]");
    if (given(request, "prediction"))
        refuse_unsupported("prediction", "Anthropic has no predicted outputs");
    if (given(request, "functions"))
        refuse_unsupported("functions", "legacy functions: send tools");
    if (given(request, "function_call"))
        refuse_unsupported("function_call", "legacy function_call: send tool_choice");
    if (given(request, "web_search_options"))
        refuse_unsupported("web_search_options",
                           "OpenAI's web search has no equivalent through this provider");
    if (Json* v = given(request, "service_tier"); v && *v != "auto")
        refuse_unsupported("service_tier", "only \"auto\" can be honoured");
}

std::int64_t max_tokens(Json& request, const EncoderSettings& settings) {
    for (const char* key : {"max_completion_tokens", "max_tokens"}) {
        if (Json* v = given(request, key)) {
            if (!v->is_number_integer() || v->get<std::int64_t>() < 0)
                refuse_invalid(key, "must be an integer of at least 0");
            return v->get<std::int64_t>();
        }
    }
    return settings.default_max_tokens;
}

Json stop_sequences(const Json& stop) {
    Json out = stop.is_array() ? stop : Json::array({stop});
    for (const auto& s : out) {
        if (!s.is_string())
            refuse_invalid("stop", "must be a string or an array of strings");
        if (is_blank(s.get_ref<const std::string&>()))
            refuse_value("stop",
                         "Anthropic refuses stop sequences that are empty or only "
                         "whitespace");
    }
    return out;
}

Json temperature(const Json& value) {
    if (!value.is_number() || value.get<double>() < 0)
        refuse_invalid("temperature", "must be a number of at least 0");
    if (value.get<double>() > 1)
        refuse_value("temperature",
                     "Anthropic's range is 0 to 1, and the provider does not "
                     "change what was asked for");
    return value;
}

Json tools(Json& tools) {
    if (!tools.is_array())
        refuse_invalid("tools", "must be an array");
    Json out = Json::array();
    for (std::size_t i = 0; i < tools.size(); ++i) {
        const std::string where = "tools[" + std::to_string(i) + "]";
        Json& tool = tools[i];
        if (!tool.is_object())
            refuse_invalid(where, "must be an object");
        if (string_or_empty(tool, "type") != "function")
            refuse_unsupported(where + ".type", "Anthropic takes tools of type \"function\"");
        Json* function = given(tool, "function");
        if (!function || !function->is_object() || !(*function)["name"].is_string())
            refuse_invalid(where + ".function", "must be an object with a name");
        Json t = {{"name", std::move((*function)["name"])}};
        if (Json* description = given(*function, "description"))
            t["description"] = std::move(*description);
        Json* parameters = given(*function, "parameters");
        t["input_schema"] = parameters ? std::move(*parameters)
                                       : Json{{"type", "object"}, {"properties", Json::object()}};
        if (Json* strict = given(*function, "strict"))
            t["strict"] = std::move(*strict);
        if (Json* cache_control = given(tool, "cache_control"))
            t["cache_control"] = std::move(*cache_control);
        out.push_back(std::move(t));
    }
    return out;
}

// tool_choice, with parallel_tool_calls folded in; null when there is none to send.
Json tool_choice(Json& request, bool has_tools) {
    Json* choice = given(request, "tool_choice");
    Json* parallel = given(request, "parallel_tool_calls");
    if (parallel && !parallel->is_boolean())
        refuse_invalid("parallel_tool_calls", "must be true or false");
    Json out;
    if (!choice) {
        if (!parallel || *parallel == true || !has_tools)
            return nullptr;
        out = {{"type", "auto"}};
    } else if (*choice == "auto" || *choice == "required" || *choice == "none") {
        out = {{"type", *choice == "required" ? "any" : choice->get<std::string>()}};
    } else if (choice->is_object() && string_or_empty(*choice, "type") == "function") {
        Json* function = given(*choice, "function");
        if (!function || !function->is_object() || !(*function)["name"].is_string())
            refuse_invalid("tool_choice.function", "must be an object with a name");
        out = {{"type", "tool"}, {"name", std::move((*function)["name"])}};
    } else if (choice->is_object()) {
        refuse_unsupported("tool_choice.type",
                           "Anthropic takes auto, required, none or a function to call");
    } else {
        refuse_invalid("tool_choice",
                       "must be auto, required, none or {\"type\":\"function\",...}");
    }
    if (parallel && *parallel == false && out["type"] != "none")
        out["disable_parallel_tool_use"] = true;
    return out;
}

// output_config.format from response_format; null for none.
Json output_format(Json& response_format) {
    if (!response_format.is_object() || !response_format["type"].is_string())
        refuse_invalid("response_format", "must be an object with a type");
    const std::string type = response_format["type"];
    if (type == "text")
        return nullptr;
    if (type == "json_object")
        refuse_value("response_format",
                     "Anthropic has no JSON mode without a schema; send {\"type\":\"json_schema\","
                     "\"json_schema\":{\"name\":...,\"schema\":{...}}}");
    if (type != "json_schema")
        refuse_value("response_format.type", "must be text or json_schema");
    Json* json_schema = given(response_format, "json_schema");
    Json* schema =
        json_schema && json_schema->is_object() ? given(*json_schema, "schema") : nullptr;
    if (!schema || !schema->is_object())
        refuse_invalid("response_format.json_schema.schema", "must be a JSON schema object");
    return Json{{"type", "json_schema"}, {"schema", std::move(*schema)}};
}

// Anthropic's effort for reasoning_effort; empty for none.
std::string effort(const Json& reasoning_effort) {
    const std::string value =
        reasoning_effort.is_string() ? reasoning_effort.get<std::string>() : "";
    if (value == "none")
        return "";
    if (value == "minimal" || value == "low")
        return "low";
    if (value == "medium" || value == "high" || value == "xhigh")
        return value;
    refuse_invalid("reasoning_effort", "must be none, minimal, low, medium, high or xhigh");
}

}  // namespace

EncodedRequest encode_request(std::string_view chat_request, const EncoderSettings& settings) {
    if (auto simple = encode_simple_request(chat_request, settings))
        return std::move(*simple);
    return encode_request_in_full(chat_request, settings);
}

EncodedRequest encode_request_in_full(std::string_view chat_request,
                                      const EncoderSettings& settings) {
    Json request = parse_document(chat_request);
    if (!request.is_object())
        refuse_invalid("(body)", "must be a JSON object nesting at most " +
                                     std::to_string(kMaxJsonDepth) + " levels deep");
    check_known_fields(request);
    check_refused_fields(request);

    EncodedRequest encoded;
    if (Json* options = given(request, "stream_options")) {
        if (!options->is_object())
            refuse_invalid("stream_options", "must be an object");
        if (Json* include = given(*options, "include_usage")) {
            if (!include->is_boolean())
                refuse_invalid("stream_options.include_usage", "must be true or false");
            encoded.include_usage = include->get<bool>();
        }
    }

    Json out = Json::object();
    if (Json* model = given(request, "model"))
        out["model"] = std::move(*model);
    out["max_tokens"] = max_tokens(request, settings);
    Json* messages = given(request, "messages");
    if (!messages)
        refuse_invalid("messages", "is required");
    EncodedMessages encoded_messages = encode_messages(*messages);
    if (!encoded_messages.system.empty())
        out["system"] = std::move(encoded_messages.system);
    out["messages"] = std::move(encoded_messages.messages);
    if (Json* stop = given(request, "stop"); stop && !(stop->is_array() && stop->empty()))
        out["stop_sequences"] = stop_sequences(*stop);
    if (Json* t = given(request, "temperature"))
        out["temperature"] = temperature(*t);
    for (const char* key : {"top_p", "top_k"})
        if (Json* v = given(request, key))
            out[key] = std::move(*v);
    bool has_tools = false;
    if (Json* t = given(request, "tools"); t && !(t->is_array() && t->empty())) {
        out["tools"] = tools(*t);
        has_tools = true;
    }
    if (Json choice = tool_choice(request, has_tools); !choice.is_null())
        out["tool_choice"] = std::move(choice);

    Json output_config = Json::object();
    Json* thinking = given(request, "thinking");
    if (Json* reasoning_effort = given(request, "reasoning_effort")) {
        if (thinking)
            refuse_invalid("reasoning_effort", "give reasoning_effort or thinking, not both");
        if (std::string e = effort(*reasoning_effort); !e.empty()) {
            out["thinking"] = {{"type", "adaptive"}};
            output_config["effort"] = e;
        }
    }
    if (thinking)
        out["thinking"] = std::move(*thinking);
    if (Json* format = given(request, "response_format"))
        if (Json f = output_format(*format); !f.is_null())
            output_config["format"] = std::move(f);
    if (!output_config.empty())
        out["output_config"] = std::move(output_config);

    for (const char* key : {"safety_identifier", "user"}) {
        if (Json* user = given(request, key)) {
            if (!user->is_string())
                refuse_invalid(key, "must be a string");
            out["metadata"] = {{"user_id", std::move(*user)}};
            break;
        }
    }
    if (Json* stream = given(request, "stream"))
        out["stream"] = std::move(*stream);
    encoded.body = compact_json(out);
    return encoded;
}

}  // namespace anthropic
