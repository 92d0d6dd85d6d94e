// Public models in the configuration ([models.NAME]) and routes that take requests by model
// (issue 12): what parses, what each deployment defaults to, and how model patterns match.
#include <doctest/doctest.h>

#include "config/config.hpp"

using llmproxy::model_matches;
using llmproxy::parse_config;

TEST_CASE("model patterns: '*' matches any run of characters, anything else itself") {
    CHECK(model_matches("gpt-4o", "gpt-4o"));
    CHECK_FALSE(model_matches("gpt-4o", "gpt-4o-mini"));
    CHECK_FALSE(model_matches("gpt-4o", "gpt-4"));
    CHECK(model_matches("gpt-*", "gpt-4o"));
    CHECK(model_matches("gpt-*", "gpt-"));
    CHECK_FALSE(model_matches("gpt-*", "gpt"));
    CHECK(model_matches("*", ""));
    CHECK(model_matches("*-mini", "gpt-4o-mini"));
    CHECK(model_matches("claude-*-4-*", "claude-sonnet-4-5"));
    CHECK_FALSE(model_matches("claude-*-4-*", "claude-sonnet-3-5"));
    CHECK(model_matches("a*b*c", "aXbYbZc"));
    CHECK_FALSE(model_matches("a*b*c", "aXbYbZ"));
    CHECK(model_matches("**", "anything"));
    // A request's model longer than any configured name matches nothing, so a hostile one cannot
    // make matching slow.
    CHECK_FALSE(model_matches("*", std::string(llmproxy::kMaxModelName + 1, 'a')));
    CHECK(model_matches("*", std::string(llmproxy::kMaxModelName, 'a')));
    CHECK_FALSE(model_matches("*a*a*a*b", std::string(llmproxy::kMaxModelName, 'a')));
}

TEST_CASE("models: deployments default to the public name and weight 1, routes keep their order") {
    const auto config = parse_config(R"(
[llm.a]
provider = "openai"
[llm.b]
provider = "openai"

[models."gpt-4.1"]
deployments = [{ llm = "a" }, { llm = "b", model = "gpt-4.1-2025-04-14", weight = 3 }]

[[route]]
path_prefix = "/v1/chat/completions"
models = ["claude-*"]
target_llm = "b"

[[route]]
path_prefix = "/v1/chat/completions"
)",
                                     "test.toml");
    const auto& model = config.models.at("gpt-4.1");
    REQUIRE(model.deployments.size() == 2);
    CHECK(model.deployments[0].llm == "a");
    CHECK(model.deployments[0].model == "gpt-4.1");
    CHECK(model.deployments[0].weight == 1);
    CHECK(model.deployments[1].model == "gpt-4.1-2025-04-14");
    CHECK(model.deployments[1].weight == 3);
    REQUIRE(config.routes.size() == 2);
    CHECK(config.routes[0].models == std::vector<std::string>{"claude-*"});
    CHECK(config.routes[1].target_llm.empty());
    CHECK(config.routes[1].models.empty());
}

TEST_CASE("models: a route without target_llm needs [models] to choose from") {
    CHECK_THROWS_WITH_AS(parse_config(R"(
[llm.a]
provider = "openai"
[[route]]
path_prefix = "/v1/chat/completions"
)",
                                      "test.toml"),
                         doctest::Contains("'route[0].target_llm': is required, unless [models"),
                         llmproxy::ConfigError);
}

TEST_CASE("models: routes of one path_prefix must reach one endpoint type") {
    CHECK_THROWS_WITH_AS(parse_config(R"(
[llm.chat]
provider = "openai"
[llm.embed]
provider = "openai"
type = "embedding"
[[route]]
path_prefix = "/v1/x"
models = ["a"]
target_llm = "chat"
[[route]]
path_prefix = "/v1/x"
target_llm = "embed"
)",
                                      "test.toml"),
                         doctest::Contains("reach both chat and embedding llms"),
                         llmproxy::ConfigError);
}

TEST_CASE("models: balance and ejection parse, with the defaults where a key is absent") {
    const auto config = parse_config(R"(
[llm.a]
provider = "openai"
[models.fast]
deployments = [{ llm = "a" }, { llm = "a", model = "other" }]
balance = "latency"
[models.fast.ejection]
consecutive_failures = 0
base_ejection_ms = 1000
[models.plain]
deployments = [{ llm = "a" }]
[[route]]
path_prefix = "/v1/chat/completions"
)",
                                     "test.toml");
    const auto& fast = config.models.at("fast");
    CHECK(fast.balance == llmproxy::Balance::latency);
    CHECK(fast.ejection.consecutive_failures == 0);
    CHECK(fast.ejection.base_ejection_ms == 1000);
    CHECK(fast.ejection.max_ejection_ms == 300000);
    CHECK(fast.ejection.max_ejected_percent == 50);
    CHECK(config.models.at("plain").balance == llmproxy::Balance::weighted);
}

TEST_CASE("models: --check names a wrong balance and an ejection that cannot be") {
    auto problems = [](const std::string& model) {
        try {
            parse_config("[llm.a]\nprovider = \"openai\"\n" + model +
                             "\n[[route]]\npath_prefix = \"/v1/chat/completions\"\n",
                         "test.toml");
        } catch (const llmproxy::ConfigError& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    CHECK(problems("[models.m]\ndeployments = [{ llm = \"a\" }]\nbalance = \"fastest\"")
              .find("'models.m.balance': \"fastest\" is not a balance") != std::string::npos);
    CHECK(problems("[models.m]\ndeployments = [{ llm = \"a\" }]\n"
                   "ejection = { base_ejection_ms = 5000, max_ejection_ms = 1000 }")
              .find("'models.m.ejection.max_ejection_ms': must be at least base_ejection_ms "
                    "(5000)") != std::string::npos);
    CHECK(problems("[models.m]\ndeployments = [{ llm = \"a\" }]\n"
                   "ejection = { max_ejected_percent = 0 }")
              .find("'models.m.ejection.max_ejected_percent': must be an integer from 1 to 100") !=
          std::string::npos);
    CHECK(problems("[models.m]\ndeployments = [{ llm = \"a\" }]\nejection = { consecutive = 3 }")
              .find("models.m.ejection.consecutive") != std::string::npos);
    std::string many = "[models.m]\ndeployments = [";
    for (int i = 0; i < 65; ++i)
        many += "{ llm = \"a\" },";
    many += "]";
    CHECK(problems(many).find("has 65 deployments; at most 64") != std::string::npos);
}
