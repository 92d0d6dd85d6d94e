#include "config/config.hpp"

#include <Poco/Exception.h>
#include <Poco/URI.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <system_error>

#include "config/table_reader.hpp"

namespace llmproxy {

std::string ConfigProblem::to_string() const {
    std::string out = file;
    if (line > 0)
        out += ":" + std::to_string(line);
    out += ": ";
    if (!key.empty())
        out += "'" + key + "': ";
    return out + message;
}

static std::string join_problems(const std::vector<ConfigProblem>& problems) {
    std::string out;
    for (const auto& p : problems)
        out += p.to_string() + "\n";
    return out;
}

ConfigError::ConfigError(std::vector<ConfigProblem> problems)
    : std::runtime_error(join_problems(problems)), problems_(std::move(problems)) {}

namespace {

// A public model name or a pattern of them: what a client may put in "model".
bool valid_model_pattern(std::string_view name) {
    if (name.empty() || name.size() > kMaxModelName)
        return false;
    for (char c : name)
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
            return false;
    return true;
}

// Reads state.redis ("redis://HOST[:PORT]") into its host and port; false when it is not that.
bool parse_redis_url(StateConfig& state) {
    try {
        const Poco::URI uri(state.redis);
        if (uri.getScheme() != "redis" || uri.getHost().empty() || !uri.getUserInfo().empty() ||
            (!uri.getPath().empty() && uri.getPath() != "/") || !uri.getRawQuery().empty() ||
            !uri.getFragment().empty())
            return false;
        state.redis_host = uri.getHost();
        state.redis_port = uri.getPort() ? uri.getPort() : 6379;
        return true;
    } catch (const Poco::Exception&) {
        return false;
    }
}

bool valid_model_name(std::string_view name) {
    return valid_model_pattern(name) && name.find('*') == std::string_view::npos;
}

bool valid_name(const std::string& name) {
    if (name.empty())
        return false;
    for (char c : name)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'))
            return false;
    return true;
}

class Parser {
  public:
    Parser(std::string file) : file_(std::move(file)) {}

    Config parse(const toml::table& root) {
        config_.file = file_;
        for (auto&& [key, node] : root) {
            std::string k(key.str());
            if (k == "server") {
                parse_server(node);
            } else if (k == "plugins") {
                parse_plugins(node);
            } else if (k == "llm") {
                for_each_named_table(node, "llm", [&](auto& t, auto& name) { parse_llm(t, name); });
            } else if (k == "processor") {
                for_each_named_table(node, "processor",
                                     [&](auto& t, auto& name) { parse_processor(t, name); });
            } else if (k == "models") {
                parse_models(node);
            } else if (k == "route") {
                parse_routes(node);
            } else if (k == "telemetry") {
                parse_telemetry(node);
            } else if (k == "auth") {
                parse_auth(node);
            } else if (k == "state") {
                parse_state(node);
            } else if (k == "prices") {
                parse_prices(node);
            } else {
                add(&node, k,
                    "unknown section (known: server, plugins, llm, processor, models, route, "
                    "telemetry, auth, state, prices)");
            }
        }
        check_references();
        // Report in the order of the file, whatever order the checks ran in.
        std::stable_sort(problems_.begin(), problems_.end(),
                         [](const auto& a, const auto& b) { return a.line < b.line; });
        if (!problems_.empty())
            throw ConfigError(problems_);
        return config_;
    }

  private:
    void add(const toml::node* node, std::string key, std::string message) {
        int line = node ? static_cast<int>(node->source().begin.line) : 0;
        problems_.push_back({file_, line, std::move(key), std::move(message)});
    }

    const toml::table* expect_table(const toml::node& node, const std::string& key) {
        auto* table = node.as_table();
        if (!table)
            add(&node, key, "must be a table ([" + key + "])");
        return table;
    }

    template <typename Fn>
    void for_each_named_table(const toml::node& node, const std::string& section, Fn&& fn) {
        auto* outer = expect_table(node, section);
        if (!outer)
            return;
        for (auto&& [name, inner] : *outer) {
            std::string n(name.str());
            std::string key = section + "." + n;
            if (!valid_name(n))
                add(&inner, key, "names may use letters, digits, '_' and '-'");
            if (auto* t = expect_table(inner, key))
                fn(*t, n);
        }
    }

    void parse_server(const toml::node& node) {
        auto* table = expect_table(node, "server");
        if (!table)
            return;
        TableReader r(*table, "server", file_, problems_);
        auto& s = config_.server;
        r.read("host", s.host);
        r.read_int("port", s.port, 0, 65535);
        r.read("cors_allowed_origins", s.cors_allowed_origins);
        r.read_int("max_body_bytes", s.max_body_bytes, 1024, 1LL << 34);
        r.read_int("max_buffered_body_bytes", s.max_buffered_body_bytes, 1024, 1LL << 40);
        if (s.max_buffered_body_bytes < s.max_body_bytes)
            r.problem(table->get("max_buffered_body_bytes"), "max_buffered_body_bytes",
                      "must be at least max_body_bytes (" + std::to_string(s.max_body_bytes) +
                          "), or no request of the largest size could ever be received");
        r.read_int("request_head_timeout_ms", s.request_head_timeout_ms, 1, 3600000);
        r.read_int("request_body_timeout_ms", s.request_body_timeout_ms, 1, 3600000);
        r.read_int("request_body_min_rate", s.request_body_min_rate, 0, 1LL << 30);
        r.read_int("max_connections", s.max_connections, 1, 1000000);
        r.read_int("worker_threads", s.worker_threads, 0, 1024);
        for (const char* retired : {"max_threads", "max_queued"})
            if (const toml::node* node = r.get(retired))
                r.problem(node, retired,
                          "is gone: connections are no longer served one per thread; set "
                          "max_connections (connections served at once, beyond it a 503) and, if "
                          "needed, worker_threads (event-loop threads, 0: one per CPU)");
        r.read_int("keep_alive_timeout_ms", s.keep_alive_timeout_ms, 0, 3600000);
        r.read_int("client_send_timeout_ms", s.client_send_timeout_ms, 1, 3600000);
        r.read_int("shutdown_grace_ms", s.shutdown_grace_ms, 0, 3600000);
        r.read_int("drain_delay_ms", s.drain_delay_ms, 0, 3600000);
        r.read("metrics", s.metrics);
        r.read("access_log", s.access_log);
        r.read("status_page", s.status_page);
        if (s.access_log != "text" && s.access_log != "json" && s.access_log != "off")
            r.problem(table->get("access_log"), "access_log",
                      "must be \"text\", \"json\" or \"off\"");
        r.read("log_level", s.log_level);
        static const std::set<std::string> levels = {"trace", "debug", "info",
                                                     "warn",  "error", "off"};
        if (!levels.count(s.log_level))
            r.problem(table->get("log_level"), "log_level",
                      "must be one of trace, debug, info, warn, error, off");
        r.reject_unknown_keys();
    }

    void parse_telemetry(const toml::node& node) {
        auto* table = expect_table(node, "telemetry");
        if (!table)
            return;
        TableReader r(*table, "telemetry", file_, problems_);
        auto& t = config_.telemetry;
        r.read("otlp_endpoint", t.otlp_endpoint);
        if (!t.otlp_endpoint.empty()) {
            try {
                Poco::URI uri(t.otlp_endpoint);
                if (uri.getScheme() != "http" || uri.getHost().empty())
                    throw std::invalid_argument("not http");
                if (uri.getPath().empty() || uri.getPath() == "/")
                    t.otlp_endpoint = "http://" + uri.getAuthority() + "/v1/traces";
            } catch (const std::exception&) {
                r.problem(table->get("otlp_endpoint"), "otlp_endpoint",
                          "must be an http:// URL of an OTLP/HTTP collector, e.g. "
                          "\"http://127.0.0.1:4318/v1/traces\" (https is not supported yet: "
                          "run a collector beside llm-proxy)");
            }
        }
        r.read("service_name", t.service_name);
        r.read_number("sample_ratio", t.sample_ratio, 0, 1);
        r.read_int("max_queued_spans", t.max_queued_spans, 1, 1000000);
        r.read_int("export_batch_size", t.export_batch_size, 1, 100000);
        r.read_int("export_interval_ms", t.export_interval_ms, 10, 3600000);
        r.read_int("export_timeout_ms", t.export_timeout_ms, 10, 600000);
        r.reject_unknown_keys();
    }

    void parse_auth(const toml::node& node) {
        auto* table = expect_table(node, "auth");
        if (!table)
            return;
        TableReader r(*table, "auth", file_, problems_);
        r.read("admin_key_env", config_.auth.admin_key_env);
        r.read("keys_file", config_.auth.keys_file, config_.auth.admin_key_env.empty());
        if (!config_.auth.keys_file.empty())
            config_.auth.keys_file = relative_to_config(config_.auth.keys_file);
        r.reject_unknown_keys();
    }

    // [prices."MODEL"]: model names (or patterns) as the models' own, not the tables' names.
    void parse_prices(const toml::node& node) {
        auto* outer = expect_table(node, "prices");
        if (!outer)
            return;
        for (auto&& [name, inner] : *outer) {
            const std::string model(name.str());
            const std::string key = "prices." + model;
            if (!valid_model_pattern(model))
                add(&inner, key, "must be a model name or pattern (1 to 256 visible characters)");
            auto* table = expect_table(inner, key);
            if (!table)
                continue;
            TableReader r(*table, key, file_, problems_);
            Price& price = config_.prices[model];
            r.read_number("input_per_million", price.input_per_million, 0, 1e6);
            r.read_number("output_per_million", price.output_per_million, 0, 1e6);
            r.reject_unknown_keys();
        }
    }

    void parse_state(const toml::node& node) {
        auto* table = expect_table(node, "state");
        if (!table)
            return;
        TableReader r(*table, "state", file_, problems_);
        StateConfig& state = config_.state;
        r.read("redis", state.redis, true);
        if (!state.redis.empty() && !parse_redis_url(state))
            r.problem(r.get("redis"), "redis",
                      "must be redis://HOST or redis://HOST:PORT (no user, password, path or "
                      "query: the password comes from redis_password_env)");
        r.read("redis_password_env", state.redis_password_env);
        std::string on_error = "open";
        r.read("on_error", on_error);
        if (on_error != "open" && on_error != "closed")
            r.problem(r.get("on_error"), "on_error",
                      "must be \"open\" (admit requests while Redis cannot be reached) or "
                      "\"closed\" (refuse them)");
        state.fail_open = on_error == "open";
        r.read_int("timeout_ms", state.timeout_ms, 1, 60000);
        r.reject_unknown_keys();
    }

    void parse_plugins(const toml::node& node) {
        auto* table = expect_table(node, "plugins");
        if (!table)
            return;
        TableReader r(*table, "plugins", file_, problems_);
        std::vector<std::string> dirs;
        r.read("dirs", dirs);
        for (const auto& d : dirs)
            config_.plugin_dirs.push_back(relative_to_config(d));
        r.reject_unknown_keys();
    }

    // A path the config gives, relative to the config file's directory unless absolute.
    std::string relative_to_config(const std::string& path) const {
        std::filesystem::path p(path);
        return (p.is_absolute() ? p : std::filesystem::path(file_).parent_path() / p)
            .lexically_normal();
    }

    void parse_llm(const toml::table& table, const std::string& name) {
        TableReader r(table, "llm." + name, file_, problems_);
        LlmConfig llm;
        llm.name = name;
        llm.line = r.line();
        r.read("provider", llm.provider, true);
        std::string type = "chat";
        r.read("type", type);
        if (type == "chat") {
            llm.endpoint = Endpoint::chat;
        } else if (type == "embedding") {
            llm.endpoint = Endpoint::embedding;
        } else {
            r.problem(table.get("type"), "type",
                      "must be \"chat\" or \"embedding\", not \"" + type + "\"");
        }
        r.read("base_url", llm.base_url);
        if (!llm.base_url.empty() && llm.base_url.rfind("http://", 0) != 0 &&
            llm.base_url.rfind("https://", 0) != 0)
            r.problem(table.get("base_url"), "base_url", "must start with http:// or https://");
        r.read("token_env", llm.token_env);
        r.read("supports_streaming", llm.supports_streaming);
        r.read_int("connect_timeout_ms", llm.connect_timeout_ms, 1, 600000);
        r.read_int("read_timeout_ms", llm.read_timeout_ms, 1, 86400000);
        for (auto [key, timeout] : {std::pair{"first_byte_timeout_ms", &llm.first_byte_timeout},
                                    std::pair{"first_event_timeout_ms", &llm.first_event_timeout},
                                    std::pair{"idle_timeout_ms", &llm.idle_timeout}}) {
            timeout->ms = llm.read_timeout_ms;
            if (r.get(key)) {
                r.read_int(key, timeout->ms, 1, 86400000);
                timeout->setting = key;
            }
        }
        r.read_int("total_timeout_ms", llm.total_timeout_ms, 0, 86400000);
        if (llm.total_timeout_ms > 0)
            for (auto [setting, ms] :
                 {std::pair{std::string_view("connect_timeout_ms"), llm.connect_timeout_ms},
                  std::pair{llm.first_byte_timeout.setting, llm.first_byte_timeout.ms},
                  std::pair{llm.first_event_timeout.setting, llm.first_event_timeout.ms}})
                // read_timeout_ms, a default for the gaps, may be larger: the total binds.
                if (ms > llm.total_timeout_ms && setting != "read_timeout_ms" && r.get(setting))
                    r.problem(table.get(setting), setting,
                              "= " + std::to_string(ms) + " cannot fit in total_timeout_ms = " +
                                  std::to_string(llm.total_timeout_ms) +
                                  ", which bounds the whole attempt");
        r.read_int("max_idle_connections", llm.max_idle_connections, 0, 100000);
        r.read_int("max_event_bytes", llm.max_event_bytes, 1024, 1LL << 30);
        r.read("ca_file", llm.ca_file);
        if (!llm.ca_file.empty()) {
            std::filesystem::path p(llm.ca_file);
            if (p.is_relative())
                p = std::filesystem::path(file_).parent_path() / p;
            llm.ca_file = p.lexically_normal();
            std::error_code error;  // e.g. a name too long, a directory we may not search
            if (!std::filesystem::exists(p, error))
                r.problem(table.get("ca_file"), "ca_file",
                          error ? "cannot be looked up: " + error.message()
                                : "no such file: " + llm.ca_file);
        }
        r.read_table_json("options", llm.options_json);
        llm.retry = parse_retry(r.get("retry"), "llm." + name + ".retry");
        r.read_limits("limits", llm.limits);
        r.read("fallbacks", llm.fallbacks);
        r.read("context_window_fallbacks", llm.context_window_fallbacks);
        r.reject_unknown_keys();
        record_key_lines(table, "", llm.key_lines);
        config_.llms[name] = std::move(llm);
    }

    std::optional<RetryPolicy> parse_retry(const toml::node* node, const std::string& path) {
        if (!node)
            return std::nullopt;
        auto* table = expect_table(*node, path);
        if (!table)
            return std::nullopt;
        TableReader r(*table, path, file_, problems_);
        RetryPolicy policy;
        r.read_int("attempts", policy.attempts, 1, 10);
        std::vector<std::string> on;
        r.read("on", on);
        if (r.get("on")) {
            policy.on_connect = policy.on_broken = policy.on_timeout = false;
            policy.on_status.clear();
        }
        for (const auto& what : on) {
            int status = 0;
            auto [end, ec] = std::from_chars(what.data(), what.data() + what.size(), status);
            const bool is_status = ec == std::errc() && end == what.data() + what.size() &&
                                   what.size() == 3;  // "0500" is no status
            if (what == "connect") {
                policy.on_connect = true;
            } else if (what == "broken") {
                policy.on_broken = true;
            } else if (what == "timeout") {
                policy.on_timeout = true;
            } else if (is_status && status >= 500 && status <= 599) {
                policy.on_status.push_back(status);
            } else if (is_status &&
                       (status == 408 || status == 409 || status == 425 || status == 429)) {
                policy.on_status.push_back(status);
            } else if (is_status && status >= 400 && status <= 499) {
                r.problem(table->get("on"), "on",
                          "\"" + what +
                              "\" is a client error: another attempt would get the same answer "
                              "(of 4xx, only 408, 409, 425 and 429 may be retried)");
            } else {
                r.problem(table->get("on"), "on",
                          "\"" + what +
                              "\" is not a failure llm-proxy retries: \"connect\", \"broken\", "
                              "\"timeout\", or an answer status such as \"429\" or \"503\"");
            }
        }
        r.read_int("backoff_base_ms", policy.backoff_base_ms, 0, 600000);
        r.read_int("backoff_max_ms", policy.backoff_max_ms, 0, 600000);
        if (policy.backoff_max_ms < policy.backoff_base_ms)
            r.problem(table->get("backoff_max_ms"), "backoff_max_ms",
                      "must be at least backoff_base_ms (" +
                          std::to_string(policy.backoff_base_ms) + ")");
        r.read_int("retry_after_max_ms", policy.retry_after_max_ms, 0, 3600000);
        r.read_int("deadline_ms", policy.deadline_ms, 0, 86400000);
        r.reject_unknown_keys();
        return policy;
    }

    void parse_processor(const toml::table& table, const std::string& name) {
        TableReader r(table, "processor." + name, file_, problems_);
        ProcessorConfig p;
        p.name = name;
        p.line = r.line();
        r.read("type", p.type, true);
        r.read_scalar_text("config_value", p.config_value);
        r.read_table_json("additional_config", p.additional_config_json);
        r.reject_unknown_keys();
        record_key_lines(table, "", p.key_lines);
        config_.processors[name] = std::move(p);
    }

    void parse_models(const toml::node& node) {
        auto* outer = expect_table(node, "models");
        if (!outer)
            return;
        for (auto&& [name, inner] : *outer) {
            const std::string n(name.str());
            const std::string key = "models." + n;
            if (!valid_model_name(n))
                add(&inner, key,
                    "a public model name is 1 to 256 characters, without control characters, "
                    "spaces or '*' (quote names with dots: [models.\"gpt-4.1\"])");
            if (auto* table = expect_table(inner, key))
                parse_model(*table, n);
        }
    }

    void parse_model(const toml::table& table, const std::string& name) {
        const std::string path = "models." + name;
        TableReader r(table, path, file_, problems_);
        ModelConfig model;
        model.name = name;
        model.line = r.line();
        const toml::node* deployments = r.get("deployments");
        const auto* list = deployments ? deployments->as_array() : nullptr;
        if (!list || list->empty() || !list->is_array_of_tables()) {
            r.problem(deployments, "deployments",
                      "must be a non-empty array of tables, e.g. deployments = [{ llm = "
                      "\"openai\", model = \"gpt-4o-2024-08-06\" }]");
        } else {
            std::size_t index = 0;
            for (auto&& item : *list) {
                TableReader d(*item.as_table(),
                              path + ".deployments[" + std::to_string(index++) + "]", file_,
                              problems_);
                ModelConfig::Deployment deployment;
                deployment.line = static_cast<int>(item.source().begin.line);
                d.read("llm", deployment.llm, true);
                d.read("model", deployment.model);
                if (deployment.model.empty())
                    deployment.model = name;
                d.read_int("weight", deployment.weight, 1, 1000000);
                d.reject_unknown_keys();
                model.deployments.push_back(std::move(deployment));
            }
        }
        if (model.deployments.size() > kMaxDeployments)
            r.problem(deployments, "deployments",
                      "has " + std::to_string(model.deployments.size()) + " deployments; at most " +
                          std::to_string(kMaxDeployments) + " are allowed");
        r.read("fallbacks", model.fallbacks);
        r.read("context_window_fallbacks", model.context_window_fallbacks);
        std::string balance;
        r.read("balance", balance);
        if (balance == "least_outstanding")
            model.balance = Balance::least_outstanding;
        else if (balance == "latency")
            model.balance = Balance::latency;
        else if (!balance.empty() && balance != "weighted")
            r.problem(
                table.get("balance"), "balance",
                "\"" + balance +
                    "\" is not a balance: \"weighted\", \"least_outstanding\" or \"latency\"");
        if (const toml::node* ejection = r.get("ejection"))
            parse_ejection(*ejection, path + ".ejection", model.ejection);
        r.reject_unknown_keys();
        record_key_lines(table, "", model.key_lines);
        config_.models[name] = std::move(model);
    }

    void parse_ejection(const toml::node& node, const std::string& path, EjectionPolicy& policy) {
        auto* table = expect_table(node, path);
        if (!table)
            return;
        TableReader r(*table, path, file_, problems_);
        r.read_int("consecutive_failures", policy.consecutive_failures, 0, 1000);
        r.read_int("failure_percent", policy.failure_percent, 0, 100);
        r.read_int("min_requests", policy.min_requests, 1, 1000000);
        r.read_int("interval_ms", policy.interval_ms, 100, 3600000);
        r.read_int("base_ejection_ms", policy.base_ejection_ms, 1, 3600000);
        r.read_int("max_ejection_ms", policy.max_ejection_ms, 1, 86400000);
        if (!table->get("max_ejection_ms"))  // the default cap never cuts a longer base
            policy.max_ejection_ms = std::max(policy.max_ejection_ms, policy.base_ejection_ms);
        else if (policy.max_ejection_ms < policy.base_ejection_ms)
            r.problem(table->get("max_ejection_ms"), "max_ejection_ms",
                      "must be at least base_ejection_ms (" +
                          std::to_string(policy.base_ejection_ms) + ")");
        r.read_int("max_ejected_percent", policy.max_ejected_percent, 1, 100);
        r.reject_unknown_keys();
    }

    void parse_routes(const toml::node& node) {
        auto* arr = node.as_array();
        if (!arr || !arr->is_array_of_tables()) {
            add(&node, "route", "must be an array of tables ([[route]])");
            return;
        }
        std::size_t index = 0;
        for (auto&& item : *arr) {
            std::string path = "route[" + std::to_string(index++) + "]";
            TableReader r(*item.as_table(), path, file_, problems_);
            RouteConfig route;
            route.line = r.line();
            r.read("path_prefix", route.path_prefix, true);
            if (!route.path_prefix.empty() && route.path_prefix[0] != '/')
                r.problem(item.as_table()->get("path_prefix"), "path_prefix",
                          "must start with '/'");
            r.read("target_llm", route.target_llm);
            r.read("models", route.models);
            for (const auto& pattern : route.models)
                if (!valid_model_pattern(pattern))
                    r.problem(item.as_table()->get("models"), "models",
                              "\"" + pattern +
                                  "\" is not a model name or pattern (1 to 256 characters, "
                                  "without control characters or spaces; '*' matches any run of "
                                  "characters)");
            r.read("api", route.api);
            if (route.api.empty())
                r.problem(item.as_table()->get("api"), "api",
                          "must name an API: \"openai\" (the default) or a client API a plugin "
                          "exports, e.g. \"anthropic\"");
            r.read("processors", route.processors);
            r.read("allow_streaming", route.allow_streaming);
            r.read("allow_non_streaming", route.allow_non_streaming);
            if (!route.allow_streaming && !route.allow_non_streaming)
                r.problem(nullptr, "allow_streaming",
                          "allow_streaming and allow_non_streaming are both false: the route "
                          "would refuse every request");
            route.retry = parse_retry(r.get("retry"), path + ".retry");
            r.read("hold_stream_head", route.hold_stream_head);
            r.read("auth", route.auth);  // the default is settled once [auth] has been read
            r.read_limits("limits", route.limits);
            r.reject_unknown_keys();
            record_key_lines(*item.as_table(), "", route.key_lines);
            config_.routes.push_back(std::move(route));
        }
    }

    void check_references() {
        for (const auto& [name, model] : config_.models) {
            for (std::size_t i = 0; i < model.deployments.size(); ++i) {
                const auto& d = model.deployments[i];
                if (!d.llm.empty() && !config_.llms.count(d.llm))
                    problems_.push_back(
                        {file_, d.line,
                         "models." + name + ".deployments[" + std::to_string(i) + "].llm",
                         "no [llm." + d.llm + "] is defined"});
            }
        }
        check_fallbacks();
        // Routes of one path_prefix are tried in order once the request's model is read, so they
        // must agree on what applies before that: the API (the shape of errors) and the endpoint.
        std::map<std::string, std::size_t> first_of_prefix, last_of_prefix;
        std::map<std::string, std::set<Endpoint>> endpoints_of_prefix;
        for (std::size_t i = 0; i < config_.routes.size(); ++i) {
            auto& route = config_.routes[i];
            const std::string path = "route[" + std::to_string(i) + "]";
            auto problem = [&](const std::string& key, std::string message) {
                problems_.push_back({file_, route.line, path + key, std::move(message)});
            };
            if (!route.key_lines.count("auth"))
                route.auth = !config_.auth.keys_file.empty();
            else if (route.auth && config_.auth.keys_file.empty())
                problem(".auth", "needs client keys: set [auth] keys_file");
            if (!route.target_llm.empty() && !config_.llms.count(route.target_llm))
                problem(".target_llm", "no [llm." + route.target_llm + "] is defined");
            if (route.target_llm.empty() && config_.models.empty())
                problem(".target_llm",
                        "is required, unless [models.NAME] tables are the targets, named by the "
                        "request's model");
            if (route.target_llm.empty())
                for (const auto& pattern : route.models)
                    if (std::none_of(
                            config_.models.begin(), config_.models.end(),
                            [&](const auto& m) { return model_matches(pattern, m.first); }))
                        problem(".models", "\"" + pattern + "\" matches no [models.NAME]");
            for (const auto& p : route.processors)
                if (!config_.processors.count(p))
                    problem(".processors", "no [processor." + p + "] is defined");
            for (Endpoint endpoint : endpoints_of(route))
                endpoints_of_prefix[route.path_prefix].insert(endpoint);
            if (route.path_prefix.empty())
                continue;
            auto [first, inserted] = first_of_prefix.emplace(route.path_prefix, i);
            if (!inserted) {
                const RouteConfig& before = config_.routes[last_of_prefix[route.path_prefix]];
                if (before.models.empty())
                    problem("", "is never used: the route at line " + std::to_string(before.line) +
                                    ", before it with the same path_prefix, takes every model "
                                    "(give that one models = [...])");
                const RouteConfig& head = config_.routes[first->second];
                if (head.api != route.api)
                    problem(".api", "routes of one path_prefix share their api (\"" + head.api +
                                        "\" at line " + std::to_string(head.line) +
                                        "): a request's errors take its shape before its model "
                                        "is read");
                if (head.limits.requests_per_minute != route.limits.requests_per_minute ||
                    head.limits.tokens_per_minute != route.limits.tokens_per_minute ||
                    head.limits.concurrent_requests != route.limits.concurrent_requests)
                    problem(".limits", "routes of one path_prefix share their limits (as at line " +
                                           std::to_string(head.line) +
                                           "): their counters are the path's; limit models "
                                           "through their llms' limits");
                if (head.auth != route.auth)
                    problem(".auth", std::string("routes of one path_prefix share auth (") +
                                         (head.auth ? "true" : "false") + " at line " +
                                         std::to_string(head.line) +
                                         "): the key is checked before the model is read");
            }
            last_of_prefix[route.path_prefix] = i;
        }
        for (const auto& [prefix, endpoints] : endpoints_of_prefix)
            if (endpoints.size() > 1)
                problems_.push_back(
                    {file_, config_.routes[first_of_prefix[prefix]].line,
                     "route[" + std::to_string(first_of_prefix[prefix]) + "].path_prefix",
                     "the routes of \"" + prefix +
                         "\" reach both chat and embedding llms; a path serves one type"});
    }

    // Every fallback names a public model, and no chain of fallbacks comes back to where it began.
    void check_fallbacks() {
        // endpoints: those of the table's own llms, which every fallback must serve alike.
        auto check_names = [&](const std::string& table, const KeyLines& lines, int line,
                               const std::set<Endpoint>& endpoints, const char* key,
                               const std::vector<std::string>& names) {
            for (const auto& name : names) {
                std::string problem;
                if (!config_.models.count(name))
                    problem = "\"" + name +
                              "\" is not a public model (fallbacks name [models.NAME] tables)";
                else if (model_endpoints(name) != endpoints)
                    problem = "[models." + name + "] does not serve the same kind of requests " +
                              "(chat or embedding) as " + table;
                if (!problem.empty())
                    problems_.push_back(
                        {file_, line_of(lines, key, line), table + "." + key, problem});
            }
        };
        for (const auto& [name, llm] : config_.llms) {
            const std::set<Endpoint> endpoints{llm.endpoint};
            check_names("llm." + name, llm.key_lines, llm.line, endpoints, "fallbacks",
                        llm.fallbacks);
            check_names("llm." + name, llm.key_lines, llm.line, endpoints,
                        "context_window_fallbacks", llm.context_window_fallbacks);
        }
        for (const auto& [name, model] : config_.models) {
            const std::set<Endpoint> endpoints = model_endpoints(name);
            check_names("models." + name, model.key_lines, model.line, endpoints, "fallbacks",
                        model.fallbacks);
            check_names("models." + name, model.key_lines, model.line, endpoints,
                        "context_window_fallbacks", model.context_window_fallbacks);
            for (auto list : {&ModelConfig::fallbacks, &ModelConfig::context_window_fallbacks}) {
                const std::string key =
                    list == &ModelConfig::fallbacks ? "fallbacks" : "context_window_fallbacks";
                std::vector<std::string> path{name};
                std::set<std::string> finished;  // models whose fallbacks hold no cycle
                if (fallback_cycle(list, path, finished))
                    problems_.push_back(
                        {file_, line_of(model.key_lines, key, model.line),
                         "models." + name + "." + key,
                         "the fallbacks come back to where they began: " + joined(path, " -> ")});
            }
        }
    }

    // The endpoint types of a public model's deployments' llms.
    std::set<Endpoint> model_endpoints(const std::string& name) const {
        std::set<Endpoint> out;
        for (const auto& d : config_.models.at(name).deployments)
            if (auto it = config_.llms.find(d.llm); it != config_.llms.end())
                out.insert(it->second.endpoint);
        return out;
    }

    // Whether following `list` from path.back() reaches a model already on path (then path ends
    // with it).
    // finished: models already walked without a cycle, never walked again (each model once).
    bool fallback_cycle(std::vector<std::string> ModelConfig::*list, std::vector<std::string>& path,
                        std::set<std::string>& finished) const {
        auto it = config_.models.find(path.back());
        if (it == config_.models.end() || finished.count(path.back()))
            return false;
        for (const auto& next : it->second.*list) {
            const bool seen = std::find(path.begin(), path.end(), next) != path.end();
            path.push_back(next);
            if (seen || fallback_cycle(list, path, finished))
                return true;
            path.pop_back();
        }
        finished.insert(path.back());
        return false;
    }

    static std::string joined(const std::vector<std::string>& parts, std::string_view separator) {
        std::string out;
        for (const auto& part : parts)
            out += (out.empty() ? "" : std::string(separator)) + part;
        return out;
    }

    // The endpoint types (chat, embedding) of the llms a route may send a request to.
    std::set<Endpoint> endpoints_of(const RouteConfig& route) const {
        std::set<Endpoint> out;
        auto add_llm = [&](const std::string& name) {
            if (auto it = config_.llms.find(name); it != config_.llms.end())
                out.insert(it->second.endpoint);
        };
        if (!route.target_llm.empty()) {
            add_llm(route.target_llm);
            return out;
        }
        // Plain references, not structured bindings: clang 14 (the fuzz build) cannot capture
        // those.
        for (const auto& entry : config_.models) {
            const std::string& name = entry.first;
            if (!route.models.empty() &&
                std::none_of(route.models.begin(), route.models.end(),
                             [&](const auto& pattern) { return model_matches(pattern, name); }))
                continue;
            for (const auto& d : entry.second.deployments)
                add_llm(d.llm);
        }
        return out;
    }

    std::string file_;
    Config config_;
    std::vector<ConfigProblem> problems_;
};

}  // namespace

int line_of(const KeyLines& keys, std::string_view key, int table_line) {
    auto it = keys.find(key);
    return it == keys.end() ? table_line : it->second;
}

std::string dollars_text(std::int64_t micros) {
    std::string text = fmt::format("{}.{:06}", micros / 1000000, micros % 1000000);
    while (text.back() == '0')
        text.pop_back();
    if (text.back() == '.')
        text.pop_back();
    return text;
}

const Price* Config::price_of(std::string_view model) const {
    if (auto it = prices.find(std::string(model)); it != prices.end())
        return &it->second;
    const Price* best = nullptr;
    std::size_t best_length = 0;
    for (const auto& [pattern, price] : prices)
        if (pattern.find('*') != std::string::npos && pattern.size() >= best_length &&
            model_matches(pattern, model)) {
            best = &price;
            best_length = pattern.size();
        }
    return best;
}

bool RetryPolicy::retries_status(int status) const {
    return std::find(on_status.begin(), on_status.end(), status) != on_status.end();
}

bool model_matches(std::string_view pattern, std::string_view model) {
    // Backtracking to the last star only: at most pattern x model steps, both bounded.
    if (model.size() > kMaxModelName)
        return false;
    std::size_t p = 0, m = 0, star = std::string_view::npos, resume = 0;
    while (m < model.size()) {
        if (p < pattern.size() && pattern[p] == '*') {
            star = p++;
            resume = m;
        } else if (p < pattern.size() && pattern[p] == model[m]) {
            ++p;
            ++m;
        } else if (star != std::string_view::npos) {
            p = star + 1;
            m = ++resume;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*')
        ++p;
    return p == pattern.size();
}

Config parse_config(const std::string& text, const std::string& file) {
    toml::parse_result result = toml::parse(text, file);
    if (!result) {
        const auto& err = result.error();
        std::string message(err.description());
        if (message.find("inline") != std::string::npos)
            message += " (write inline tables on one line: key = { name = \"value\" })";
        throw ConfigError({{file, static_cast<int>(err.source().begin.line), "", message}});
    }
    return Parser(file).parse(result.table());
}

Config load_config(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw ConfigError({{path, 0, "", "cannot read the config file"}});
    std::ostringstream text;
    text << in.rdbuf();
    return parse_config(text.str(), path);
}

}  // namespace llmproxy
