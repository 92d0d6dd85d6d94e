#include "tools/check_settings.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace llmproxy {

namespace {

using json = nlohmann::json;

const std::vector<std::string> kProviderKeys = {"base_url", "api_key", "type", "options"};
const std::vector<std::string> kProcessorKeys = {"config_value", "additional_config"};

[[noreturn]] void fail(const std::string& message) {
    throw CheckSettingsError("--config: " + message);
}

std::string joined(const std::vector<std::string>& keys) {
    std::string out;
    for (const auto& key : keys)
        out += (out.empty() ? "" : ", ") + key;
    return out;
}

std::string string_of(const json& value, const std::string& key) {
    if (!value.is_string())
        fail(key + " must be a string, not " + value.dump());
    return value.get<std::string>();
}

std::string object_of(const json& value, const std::string& key) {
    if (!value.is_object())
        fail(key + " must be an object (a TOML table), not " + value.dump());
    return value.dump();
}

// config_value as TOML gives it to a processor: a string as it is, a number or boolean as text.
std::string scalar_text(const json& value) {
    if (value.is_string())
        return value.get<std::string>();
    if (value.is_number() || value.is_boolean())
        return value.dump();
    fail("config_value must be a string, number or boolean, not " + value.dump());
}

std::string json_quoted(const std::string& text) {
    return json(text).dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

CheckSettings parse_check_settings(std::string_view text, bool providers, bool processors) {
    json config = json::parse(text, nullptr, false);
    if (config.is_discarded())
        fail("not JSON: " + std::string(text.substr(0, 200)));
    if (!config.is_object())
        fail("must be a JSON object, e.g. {\"config_value\":\"info\"}");
    std::vector<std::string> known;
    if (providers)
        known.insert(known.end(), kProviderKeys.begin(), kProviderKeys.end());
    if (processors)
        known.insert(known.end(), kProcessorKeys.begin(), kProcessorKeys.end());
    CheckSettings s;
    for (const auto& [key, value] : config.items()) {
        if (std::find(known.begin(), known.end(), key) == known.end())
            fail("unknown key '" + key + "' (known for the " +
                 (providers && processors ? "providers and processors"
                  : providers             ? "providers"
                                          : "processors") +
                 " checked: " + joined(known) + ")");
        s.given.insert(key);
        if (key == "base_url") {
            s.base_url = string_of(value, key);
            if (s.base_url.rfind("http://", 0) != 0 && s.base_url.rfind("https://", 0) != 0)
                fail("base_url must start with http:// or https://");
        } else if (key == "api_key") {
            s.api_key = string_of(value, key);
        } else if (key == "type") {
            std::string type = string_of(value, key);
            if (type != "chat" && type != "embedding")
                fail("type must be \"chat\" or \"embedding\", not " + json_quoted(type));
            s.endpoints = {type == "chat" ? Endpoint::chat : Endpoint::embedding};
        } else if (key == "options") {
            s.options_json = object_of(value, key);
        } else if (key == "config_value") {
            s.config_value = scalar_text(value);
        } else {
            s.additional_config_json = object_of(value, key);
        }
    }
    return s;
}

std::vector<std::string> describe_settings(const CheckSettings& s, bool provider) {
    auto given = [&](const char* key, const char* why) {
        return s.given.count(key) ? std::string(" (given)")
                                  : " (default: " + std::string(why) + ")";
    };
    if (!provider)
        return {"config_value = " + json_quoted(s.config_value) + given("config_value", "absent"),
                "additional_config = " + s.additional_config_json +
                    given("additional_config", "absent")};
    std::string types = s.endpoints.size() == 2            ? "\"chat\", then \"embedding\""
                        : s.endpoints[0] == Endpoint::chat ? "\"chat\""
                                                           : "\"embedding\"";
    return {"base_url = " + json_quoted(s.base_url) +
                given("base_url", "nothing is sent there: the checker plays the upstream"),
            "api_key = " + json_quoted(s.api_key) +
                given("api_key", "what the variable named by token_env would hold"),
            "type = " + types +
                given("type", "both; a refusal of \"embedding\" is reported, not failed"),
            "options = " + s.options_json + given("options", "absent")};
}

}  // namespace llmproxy
