// The instance settings of `llm-proxy plugin check --config JSON`, read the way llm-proxy reads a
// config file: numbers and booleans are taken where TOML takes them (config_value = 100 is "100"),
// and unknown keys and values of the wrong type are errors. What --config does not give, the
// checker supplies, and says so (describe_settings).
#pragma once

#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace llmproxy {

struct CheckSettings {
    // For providers, what [llm.NAME] gives: base_url, the key token_env names, type, options.
    std::string base_url = "http://127.0.0.1:9/v1";
    std::string api_key = "sk-check";
    std::vector<Endpoint> endpoints = {Endpoint::chat, Endpoint::embedding};
    std::string options_json = "{}";
    // For processors, what [processor.NAME] gives.
    std::string config_value;
    std::string additional_config_json = "{}";

    std::set<std::string> given;  // the keys --config set; the others hold defaults
};

// --config is not usable: the message says why, for the user.
struct CheckSettingsError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Reads --config for a run checking providers, processors or both (the keys of the kinds not
// checked are unknown). Throws CheckSettingsError.
CheckSettings parse_check_settings(std::string_view json, bool providers, bool processors);

// One line per setting a provider (or processor) instance gets, each marked "(given)" or with
// why the checker chose it, e.g. `api_key = "sk-check" (default: a key for token_env)`.
std::vector<std::string> describe_settings(const CheckSettings& settings, bool provider);

}  // namespace llmproxy
