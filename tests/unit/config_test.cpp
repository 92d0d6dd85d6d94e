#include "config/config.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

using llmproxy::ConfigError;
using llmproxy::parse_config;

namespace {

// Every problem reported for text, one "line: key: message" per entry.
std::vector<std::string> problems_of(const std::string& text) {
    try {
        parse_config(text, "test.toml");
    } catch (const ConfigError& e) {
        std::vector<std::string> out;
        for (const auto& p : e.problems())
            out.push_back(std::to_string(p.line) + ": " + p.key + ": " + p.message);
        return out;
    }
    return {};
}

std::string lines(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items)
        out += item + "\n";
    return out;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

const std::string kMinimal = R"(
[llm.main]
provider = "openai"
base_url = "http://127.0.0.1:9/v1"

[[route]]
path_prefix = "/v1/chat/completions"
target_llm = "main"
)";

}  // namespace

TEST_CASE("the shipped default config parses") {
    auto config = llmproxy::load_config(SOURCE_DIR "/config/default.toml");
    CHECK(config.server.port == 3000);
    CHECK(config.llms.count("echo") == 1);
    CHECK(config.llms.at("openai_chat").token_env == "OPENAI_API_KEY");
    CHECK(config.routes.size() >= 2);
}

TEST_CASE("the original README's example config parses, multi-line inline table included") {
    auto config = parse_config(read_file(SOURCE_DIR "/tests/fixtures/configs/original_readme.toml"),
                               "original_readme.toml");
    const auto& llm = config.llms.at("openai_chat");
    CHECK(llm.provider == "openai");
    CHECK(llm.endpoint == llmproxy::Endpoint::chat);
    CHECK(llm.base_url == "https://api.openai.com/v1");
    CHECK(llm.supports_streaming);
    const auto& enhance = config.processors.at("enhance_query");
    CHECK(enhance.type == "openai_chat");
    CHECK(enhance.config_value == "gpt-4");
    CHECK(enhance.additional_config_json == R"({"system_prompt":"Enhance this query"})");
    CHECK(config.processors.at("log_request").type == "logger");
    REQUIRE(config.routes.size() == 2);
    CHECK(config.routes[0].processors == std::vector<std::string>{"enhance_query"});
    CHECK(config.server.port == 3000);
    CHECK(config.server.cors_allowed_origins == std::vector<std::string>{"*"});
}

TEST_CASE("defaults apply when keys are absent") {
    auto config = parse_config(kMinimal, "test.toml");
    CHECK(config.server.host == "127.0.0.1");
    CHECK(config.server.max_body_bytes >= (32u << 20));
    const auto& llm = config.llms.at("main");
    CHECK(llm.endpoint == llmproxy::Endpoint::chat);
    CHECK(llm.supports_streaming);
    CHECK(llm.options_json == "{}");
    CHECK(config.routes[0].allow_streaming);
    CHECK(config.routes[0].allow_non_streaming);
}

TEST_CASE("unknown keys and sections are errors with line and key") {
    auto problems = problems_of(kMinimal + R"(
[server]
prot = 3000

[servre]
)");
    REQUIRE(problems.size() == 2);
    CHECK(problems[0].rfind("11: server.prot: unknown key (known keys here:", 0) == 0);
    CHECK(problems[1] ==
          "13: servre: unknown section (known: server, plugins, llm, processor, models, route, "
          "telemetry, auth, state, prices)");
}

TEST_CASE("the retired thread settings say what replaced them") {
    auto problems = problems_of(kMinimal + R"(
[server]
max_threads = 512
max_queued = 256
max_connections = 20000
worker_threads = 4
)");
    REQUIRE(problems.size() == 2);
    CHECK(problems[0].rfind("11: server.max_threads: is gone: ", 0) == 0);
    CHECK(problems[1].rfind("12: server.max_queued: is gone: ", 0) == 0);
    CHECK(problems[0].find("set max_connections") != std::string::npos);
    auto config = parse_config(kMinimal + "[server]\nmax_connections = 20000\nworker_threads = 4\n",
                               "test.toml");
    CHECK(config.server.max_connections == 20000);
    CHECK(config.server.worker_threads == 4);
}

TEST_CASE("a typo inside an llm table is caught") {
    auto problems = problems_of(R"(
[llm.main]
provider = "openai"
tokn_env = "KEY"
)");
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].rfind("4: llm.main.tokn_env: unknown key", 0) == 0);
}

TEST_CASE("wrong types and values are errors naming the key") {
    auto problems = problems_of(R"(
[server]
port = "3000"
cors_allowed_origins = "*"
log_level = "loud"

[llm.main]
provider = "openai"
type = "completion"
base_url = "ftp://example.com"
supports_streaming = "yes"
read_timeout_ms = 0

[processor.p]
config_value = "x"
additional_config = "not a table"

[[route]]
path_prefix = "v1/chat"
target_llm = "main"
processors = "p"
allow_streaming = false
allow_non_streaming = false
)");
    CHECK(lines(problems) ==
          lines({
              "3: server.port: must be an integer from 0 to 65535",
              "4: server.cors_allowed_origins: must be an array of strings",
              "5: server.log_level: must be one of trace, debug, info, warn, error, off",
              "9: llm.main.type: must be \"chat\" or \"embedding\", not \"completion\"",
              "10: llm.main.base_url: must start with http:// or https://",
              "11: llm.main.supports_streaming: must be true or false",
              "12: llm.main.read_timeout_ms: must be an integer from 1 to 86400000",
              "14: processor.p.type: is required",
              "16: processor.p.additional_config: must be a table, e.g. "
              "additional_config = { name = \"value\" }",
              "18: route[0].allow_streaming: allow_streaming and allow_non_streaming "
              "are both false: the route would refuse every request",
              "19: route[0].path_prefix: must start with '/'",
              "21: route[0].processors: must be an array of strings",
          }));
}

TEST_CASE("a route's api is \"openai\" unless it names one, and never empty") {
    auto config = llmproxy::parse_config(kMinimal + R"(
[[route]]
path_prefix = "/v1/messages"
api = "anthropic"
target_llm = "main"
)",
                                         "api.toml");
    REQUIRE(config.routes.size() == 2);
    CHECK(config.routes[0].api == "openai");
    CHECK(config.routes[1].api == "anthropic");
    CHECK(config.routes[1].key_lines.at("api") == config.routes[1].line + 2);
    auto problems = problems_of(kMinimal + R"(
[[route]]
path_prefix = "/v1/messages"
api = ""
target_llm = "main"
)");
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].find("route[1].api: must name an API") != std::string::npos);
}

TEST_CASE(
    "routes must name defined llms and processors, and none may follow one taking every "
    "model of its path_prefix") {
    auto problems = problems_of(kMinimal + R"(
[[route]]
path_prefix = "/v1/chat/completions"
target_llm = "missing"
processors = ["nope"]

[[route]]
target_llm = "main"
)");
    CHECK(lines(problems) ==
          lines({
              "10: route[1].target_llm: no [llm.missing] is defined",
              "10: route[1].processors: no [processor.nope] is defined",
              "10: route[1]: is never used: the route at line 6, before it with the same "
              "path_prefix, takes every model (give that one models = [...])",
              "15: route[2].path_prefix: is required",
          }));
}

TEST_CASE("a TOML syntax error reports its line") {
    auto problems = problems_of("[server]\nport = = 3\n");
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].rfind("2: : ", 0) == 0);
}

TEST_CASE("additional_config and options become JSON for the plugins") {
    auto config = parse_config(kMinimal + R"(
[llm.main.options]
organization = "org-1"
nested = { list = [1, 2.5, true] }

[processor.p]
type = "logger"
config_value = 3
additional_config = { max_body_chars = 10 }
)",
                               "test.toml");
    CHECK(config.llms.at("main").options_json ==
          R"({"nested":{"list":[1,2.5,true]},"organization":"org-1"})");
    CHECK(config.processors.at("p").config_value == "3");
    CHECK(config.processors.at("p").additional_config_json == R"({"max_body_chars":10})");
}

TEST_CASE("a ca_file that cannot be looked up is a problem, not an exception") {
    // Found by the config fuzz target: std::filesystem::exists threw for a name too long.
    const std::string llm = "[llm.a]\nprovider = \"openai\"\n";
    CHECK(lines(problems_of(llm + "ca_file = \"/" + std::string(300, 'a') + "\"\n")) ==
          "3: llm.a.ca_file: cannot be looked up: File name too long\n");
    CHECK(lines(problems_of(llm + "ca_file = \"/nonexistent/ca.pem\"\n")) ==
          "3: llm.a.ca_file: no such file: /nonexistent/ca.pem\n");
}

TEST_CASE("a missing file is reported as such") {
    try {
        llmproxy::load_config("/nonexistent/llm-proxy.toml");
        FAIL("no error");
    } catch (const ConfigError& e) {
        CHECK(std::string(e.what()) ==
              "/nonexistent/llm-proxy.toml: cannot read the config file\n");
    }
}

TEST_CASE("[auth] keys_file turns auth on for routes that do not turn it off") {
    auto config = parse_config(kMinimal + R"(
[[route]]
path_prefix = "/open/v1/chat/completions"
target_llm = "main"
auth = false

[auth]
keys_file = "secrets/keys.toml"
)",
                               "/etc/llm-proxy/config.toml");
    CHECK(config.auth.keys_file == "/etc/llm-proxy/secrets/keys.toml");
    CHECK(config.routes[0].auth);
    CHECK_FALSE(config.routes[1].auth);
    CHECK_FALSE(parse_config(kMinimal, "test.toml").routes[0].auth);

    CHECK(lines(problems_of(kMinimal + "auth = true\n")) ==
          "6: route[0].auth: needs client keys: set [auth] keys_file\n");
    CHECK(lines(problems_of(kMinimal + R"(models = ["a"]

[[route]]
path_prefix = "/v1/chat/completions"
target_llm = "main"
auth = false

[auth]
keys_file = "k.toml"
keys = 1
)")) == "11: route[1].auth: routes of one path_prefix share auth (true at line 6): the key is "
        "checked before the model is read\n"
        "18: auth.keys: unknown key (known keys here: admin_key_env, keys_file)\n");
    CHECK(lines(problems_of("[auth]\n")) == "1: auth.keys_file: is required\n");
    // An admin key alone (for GET /admin/usage) needs no keys file, and turns no route's auth on.
    auto admin_only = parse_config(kMinimal + "\n[auth]\nadmin_key_env = \"ADMIN\"\n", "t.toml");
    CHECK(admin_only.auth.admin_key_env == "ADMIN");
    CHECK(admin_only.auth.keys_file.empty());
    CHECK_FALSE(admin_only.routes[0].auth);
}

TEST_CASE("[state] names a Redis by URL, with its policy and timeout") {
    auto config = parse_config(kMinimal + R"(
[state]
redis = "redis://cache.internal:6380"
redis_password_env = "REDIS_PASSWORD"
on_error = "closed"
timeout_ms = 100
)",
                               "test.toml");
    CHECK(config.state.redis_host == "cache.internal");
    CHECK(config.state.redis_port == 6380);
    CHECK(config.state.redis_password_env == "REDIS_PASSWORD");
    CHECK_FALSE(config.state.fail_open);
    CHECK(config.state.timeout_ms == 100);
    auto defaults = parse_config(kMinimal + "\n[state]\nredis = \"redis://[::1]\"\n", "test.toml");
    CHECK(defaults.state.redis_host == "::1");
    CHECK(defaults.state.redis_port == 6379);
    CHECK(defaults.state.fail_open);
    CHECK(parse_config(kMinimal, "test.toml").state.redis.empty());

    for (const char* url :
         {"http://h:1", "redis://:secret@h", "redis://h/2", "redis://h?db=1", "redis://", "h:6379"})
        CHECK_MESSAGE(lines(problems_of(kMinimal + "\n[state]\nredis = \"" + url + "\"\n"))
                              .find("state.redis: must be redis://HOST") != std::string::npos,
                      url);
    CHECK(lines(problems_of(kMinimal + R"(
[state]
redis = "redis://h"
on_error = "maybe"
timeout_ms = 0
)")) == "12: state.on_error: must be \"open\" (admit requests while Redis cannot be reached) or "
        "\"closed\" (refuse them)\n"
        "13: state.timeout_ms: must be an integer from 1 to 60000\n");
}

TEST_CASE("budgets are tokens or dollars per day or month, and [prices] price models") {
    auto config =
        parse_config(kMinimal + R"(limits = { tokens_per_day = 100000, cost_per_month = 12.5 }

[prices."gpt-4o"]
input_per_million = 2.5
output_per_million = 10

[prices."gpt-4o*"]
input_per_million = 5

[prices."*"]
output_per_million = 1
)",
                     "test.toml");
    CHECK(config.routes[0].limits.tokens_per_day == 100000);
    CHECK(config.routes[0].limits.cost_per_month == 12'500'000);
    CHECK(config.routes[0].limits.any());
    REQUIRE(config.price_of("gpt-4o"));
    CHECK(config.price_of("gpt-4o")->output_per_million == 10);
    CHECK(config.price_of("gpt-4o-mini")->input_per_million == 5);  // the longest pattern
    CHECK(config.price_of("claude")->output_per_million == 1);
    CHECK(parse_config(kMinimal, "test.toml").price_of("gpt-4o") == nullptr);
    CHECK(lines(problems_of(kMinimal + "limits = { cost_per_month = 0.0000001 }\n")) ==
          "9: route[0].limits.cost_per_month: must be 0 (none) or at least 0.000001\n");
    CHECK(lines(problems_of(kMinimal + R"(limits = { cost_per_day = -1 }

[prices."a b"]
input_per_million = "2"
per_token = 1
)")) == "9: route[0].limits.cost_per_day: must be a number from 0 to 1000000000\n"
        "11: prices.a b: must be a model name or pattern (1 to 256 visible characters)\n"
        "12: prices.a b.input_per_million: must be a number from 0 to 1000000\n"
        "13: prices.a b.per_token: unknown key (known keys here: input_per_million, "
        "output_per_million)\n");
}

TEST_CASE("limits are whole numbers, and routes of one path_prefix share theirs") {
    auto config =
        parse_config(kMinimal + R"(limits = { requests_per_minute = 60, tokens_per_minute = 1000 }

[llm.main.limits]
concurrent_requests = 4
)",
                     "test.toml");
    CHECK(config.routes[0].limits.requests_per_minute == 60);
    CHECK(config.routes[0].limits.tokens_per_minute == 1000);
    CHECK(config.routes[0].limits.concurrent_requests == 0);
    CHECK(config.llms.at("main").limits.concurrent_requests == 4);
    CHECK(lines(problems_of(kMinimal + R"(limits = { requests_per_minute = -1, per_hour = 3 }
)")) == "9: route[0].limits.requests_per_minute: must be an integer from 0 to 1000000000000\n"
        "9: route[0].limits.per_hour: unknown key (known keys here: concurrent_requests, "
        "cost_per_day, cost_per_month, requests_per_minute, tokens_per_day, "
        "tokens_per_minute, tokens_per_month)\n");
    CHECK(lines(problems_of(kMinimal + R"(models = ["a"]
limits = { requests_per_minute = 5 }

[[route]]
path_prefix = "/v1/chat/completions"
target_llm = "main"
)")) == "12: route[1].limits: routes of one path_prefix share their limits (as at line 6): their "
        "counters are the path's; limit models through their llms' limits\n");
}
