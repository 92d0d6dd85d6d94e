#include "config/named_key.hpp"

#include <doctest/doctest.h>

using llmproxy::key_named_in;

namespace {

const char* kProcessor = R"([processor.p]
type = "guard"
config_value = 3
additional_config = { status = 99, limits = {
    max_tokens = "many"
}, status_text = "x" }
)";

// "key@line" of what message names in kProcessor's table, or "none".
std::string named(std::string_view message) {
    auto config = llmproxy::parse_config(kProcessor, "p.toml");
    auto key = key_named_in(message, config.processors.at("p").key_lines, "type");
    return key ? key->key + "@" + std::to_string(key->line) : "none";
}

}  // namespace

TEST_CASE("the config records the line of every key, nested keys dotted") {
    auto config = llmproxy::parse_config(kProcessor, "p.toml");
    CHECK(config.processors.at("p").key_lines ==
          llmproxy::KeyLines{{"type", 2},
                             {"config_value", 3},
                             {"additional_config", 4},
                             {"additional_config.status", 4},
                             {"additional_config.limits", 4},
                             {"additional_config.limits.max_tokens", 5},
                             {"additional_config.status_text", 6}});
}

TEST_CASE("a plugin's message is pointed at the key it names") {
    CHECK(named("additional_config.limits.max_tokens must be a number") ==
          "additional_config.limits.max_tokens@5");
    CHECK(named("config_value must be a log level.") == "config_value@3");
    // The key named with the most levels wins over plainer words.
    CHECK(named("config_value is fine, but additional_config.status must be from 400 to 499") ==
          "additional_config.status@4");
    // An absent key: the line of its closest parent, under the name the message gives.
    CHECK(named("additional_config.limits.temperature is required") ==
          "additional_config.limits.temperature@4");
    CHECK(named("unknown key additional_config.nope (known: status)") ==
          "additional_config.nope@4");
    // The type key, which chose the plugin, is no setting of the plugin's.
    CHECK(named("this type takes no config") == "none");
    CHECK(named("options.region is required") == "none");
    CHECK(named("") == "none");
}
