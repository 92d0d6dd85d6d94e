#include "runtime/runtime.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "config/named_key.hpp"
#include "limits/local_limit_store.hpp"
#include "plugins/host_call.hpp"
#include "plugins/plugin_invoke.hpp"

namespace llmproxy {

namespace {

// The names of every loaded plugin's types of one kind (LoadedPlugin::providers, ...).
using TypeNames = std::vector<std::string> LoadedPlugin::*;

std::string available(const std::vector<std::unique_ptr<LoadedPlugin>>& plugins, TypeNames kind,
                      std::string out = {}) {
    for (const auto& p : plugins)
        for (const auto& name : (*p).*kind)
            out += (out.empty() ? "" : ", ") + name;
    return out.empty() ? "none" : out;
}

const char* balance_name(Balance balance) {
    switch (balance) {
        case Balance::least_outstanding:
            return "least_outstanding";
        case Balance::latency:
            return "latency";
        case Balance::weighted:
            break;
    }
    return "weighted";
}

std::string not_loaded_hint(const PluginRegistry& plugins, TypeNames kind,
                            std::string built_in = {}) {
    std::string hint =
        " (available: " + available(plugins.plugins(), kind, std::move(built_in)) + ")";
    if (!plugins.refused().empty())
        hint +=
            ". These plugins were refused and may be the one meant:\n" + plugins.refused_summary();
    return hint;
}

// The problem of a type that more than one plugin exports, or "" when one does.
template <typename Type>
std::string exported_by_several(const Type& type, const char* kind) {
    if (type.also_exported_by.empty())
        return "";
    std::string files = type.plugin->file;
    for (const auto& file : type.also_exported_by)
        files += " and " + file;
    return std::string(kind) + " '" + type.name +
           "' is exported by more than one plugin: " + files +
           "; llm-proxy cannot tell which one is meant. Remove all but one of these files "
           "from the plugin directories.";
}

// The instance_new of `who` (e.g. "provider 'openai'") refused the settings of a table, whose
// type_key (provider, type) chose the plugin: the problem points at the key why names.
ConfigProblem refused_settings(const std::string& file, const std::string& table, int table_line,
                               const KeyLines& keys, const char* type_key, const std::string& who,
                               const std::string& why) {
    std::string message = who + " refused these settings: " + why;
    if (auto named = key_named_in(why, keys, type_key))
        return {file, named->line, table + "." + named->key, std::move(message)};
    return {file, table_line, table, std::move(message)};
}

}  // namespace

Runtime::Runtime(Config config, const PluginRegistry& plugins, LastingState lasting)
    : config_(std::move(config)), plugins_(plugins), lasting_(std::move(lasting)) {
    if (!lasting_.finish_queue)
        lasting_.finish_queue = std::make_shared<FinishQueue>();
    if (!lasting_.limits)
        lasting_.limits = std::make_shared<LocalLimitStore>();
    if (!config_.auth.keys_file.empty())
        load_keys();  // before any instance: a keys file with errors stops here
    std::vector<ConfigProblem> problems;
    if (const std::string& name = config_.auth.admin_key_env; !name.empty()) {
        const char* value = std::getenv(name.c_str());
        if (value && *value)
            admin_key_ = key_digest(value);
        else
            problems.push_back({config_.file, 0, "auth.admin_key_env",
                                "names " + name +
                                    ", which is not set: the admin key comes "
                                    "from it"});
    }
    std::size_t llm_index = 0;
    for (const auto& [name, llm] : config_.llms) {
        LlmRuntime rt;
        rt.config = &llm;
        rt.index = llm_index++;
        rt.limit_holder = "llm:" + name;
        rt.provider = plugins.provider(llm.provider);
        std::string key = "llm." + name;
        const int provider_line = line_of(llm.key_lines, "provider", llm.line);
        if (!rt.provider) {
            problems.push_back({config_.file, provider_line, key + ".provider",
                                "no loaded plugin provides provider '" + llm.provider + "'" +
                                    not_loaded_hint(plugins, &LoadedPlugin::providers)});
            continue;
        }
        if (auto several = exported_by_several(*rt.provider, "provider"); !several.empty()) {
            problems.push_back({config_.file, provider_line, key + ".provider", several});
            continue;
        }
        rt.plugin = rt.provider->plugin->id + " [" + key + "]";
        std::string api_key;
        if (!llm.token_env.empty()) {
            const char* value = std::getenv(llm.token_env.c_str());
            rt.token_missing = value == nullptr || *value == '\0';
            if (rt.token_missing)
                spdlog::warn(
                    "[llm.{}]: the environment variable {} (token_env) is not set; "
                    "requests to it will fail until it is",
                    name, llm.token_env);
            else
                api_key = value;
        }
        lp_provider_config pc{
            sizeof(lp_provider_config), to_lp(name),    static_cast<lp_endpoint>(llm.endpoint),
            to_lp(llm.base_url),        to_lp(api_key), to_lp(llm.options_json)};
        const std::string hook = "instance_new for [" + key + "]";
        lp_call call(HookSite("provider", llm.provider, hook));
        if (invoke_hook(rt.plugin, call, [&] {
                return rt.provider->vtable.instance_new(&pc, &call, &rt.instance);
            }) != LP_CONTINUE) {
            problems.push_back(refused_settings(config_.file, key, llm.line, llm.key_lines,
                                                "provider", "provider '" + llm.provider + "'",
                                                call.error_or_default().message));
            continue;
        }
        if (!llm.base_url.empty())
            rt.upstream = std::make_unique<UpstreamClient>(llm);
        llms_.emplace(name, std::move(rt));
    }
    for (const auto& [name, proc] : config_.processors) {
        ProcessorRuntime rt;
        rt.config = &proc;
        rt.type = plugins.processor(proc.type);
        std::string key = "processor." + name;
        const int type_line = line_of(proc.key_lines, "type", proc.line);
        if (!rt.type) {
            problems.push_back({config_.file, type_line, key + ".type",
                                "no loaded plugin provides processor type '" + proc.type + "'" +
                                    not_loaded_hint(plugins, &LoadedPlugin::processors)});
            continue;
        }
        if (auto several = exported_by_several(*rt.type, "processor"); !several.empty()) {
            problems.push_back({config_.file, type_line, key + ".type", several});
            continue;
        }
        rt.plugin = rt.type->plugin->id + " [" + key + "]";
        lp_processor_config pc{sizeof(lp_processor_config), to_lp(name), to_lp(proc.config_value),
                               to_lp(proc.additional_config_json)};
        const std::string hook = "instance_new for [" + key + "]";
        lp_call call(HookSite("processor", proc.type, hook));
        if (invoke_hook(rt.plugin, call, [&] {
                return rt.type->vtable.instance_new(&pc, &call, &rt.instance);
            }) != LP_CONTINUE) {
            problems.push_back(refused_settings(config_.file, key, proc.line, proc.key_lines,
                                                "type", "processor '" + proc.type + "'",
                                                call.error_or_default().message));
            continue;
        }
        processors_.emplace(name, rt);
    }
    create_client_apis(problems);
    if (problems.empty()) {
        create_models();
        create_routes(problems);
    }
    if (!problems.empty()) {
        free_instances();  // the destructor does not run when a constructor throws
        throw ConfigError(std::move(problems));
    }
    router_ = std::make_unique<Router<RouteRuntime>>(
        routes_, [](const RouteRuntime& r) { return std::string_view(r.config->path_prefix); });
    plugins_json_ = plugins_json();
    if (config_.server.metrics) {
        if (!lasting_.registry)
            lasting_.registry = std::make_shared<metrics::Registry>();
        metrics_ = std::make_unique<GatewayMetrics>(
            *lasting_.registry, config_,
            keys_ ? std::span<const ClientKey>(keys_->keys()) : std::span<const ClientKey>());
    }
    if (const auto& t = config_.telemetry; !t.otlp_endpoint.empty())
        spans_ = std::make_unique<SpanExporter>(
            SpanExporter::Settings{t.otlp_endpoint, t.service_name, t.max_queued_spans,
                                   t.export_batch_size, t.export_interval_ms, t.export_timeout_ms});
}

std::string Runtime::metrics_text() const {
    std::string text = lasting_.registry ? lasting_.registry->render() : std::string();
    std::vector<std::pair<std::string, double>> ejected, ejections;
    const auto now = ModelHealth::Clock::now();
    for (const auto& [name, model] : models_) {
        if (!model.health)
            continue;
        for (const auto& d : model.deployments) {
            const auto state = model.health->state(d.index, now);
            std::string labels = metrics::label("model", name) + ',' +
                                 metrics::label("llm", d.llm->config->name) + ',' +
                                 metrics::label("deployment", std::to_string(d.index));
            ejected.emplace_back(labels, state.ejected_ms > 0 ? 1 : 0);
            ejections.emplace_back(std::move(labels), static_cast<double>(state.total_ejections));
        }
    }
    if (spans_) {
        const std::pair<std::string, double> exported[] = {
            {"", static_cast<double>(spans_->exported())}};
        const std::pair<std::string, double> dropped[] = {
            {"", static_cast<double>(spans_->dropped())}};
        metrics::render_values(text, "llm_proxy_spans_exported_total",
                               "Spans the trace collector took.", metrics::Kind::counter, exported);
        metrics::render_values(text, "llm_proxy_spans_dropped_total",
                               "Spans dropped: the queue was full, or the collector did not take "
                               "them.",
                               metrics::Kind::counter, dropped);
    }
    if (ejected.empty())
        return text;
    metrics::render_values(text, "llm_proxy_deployment_ejected",
                           "Whether the deployment is ejected now (1) or not (0).",
                           metrics::Kind::gauge, ejected);
    metrics::render_values(text, "llm_proxy_deployment_ejections_total",
                           "The deployment's ejections since start.", metrics::Kind::counter,
                           ejections);
    return text;
}

void Runtime::create_models() {
    for (const auto& [name, model] : config_.models) {
        ModelRuntime rt;
        rt.config = &model;
        std::vector<int> weights;
        std::vector<std::string> labels;
        for (const auto& d : model.deployments) {
            rt.deployments.push_back({&d, &llms_.at(d.llm), rt.deployments.size()});
            weights.push_back(d.weight);
            labels.push_back("deployment " + std::to_string(labels.size()) + " ([llm." + d.llm +
                             "], model " + d.model + ")");
        }
        if (weights.size() > 1)
            rt.health = std::make_unique<ModelHealth>(model.balance, model.ejection,
                                                      std::move(weights), name, std::move(labels));
        models_.emplace(name, std::move(rt));
    }
    // Once every model exists: the chains point at them.
    for (auto& [name, rt] : models_)
        rt.fallbacks = fallbacks_of(rt.config->fallbacks, rt.config->context_window_fallbacks, &rt);
    for (auto& [name, rt] : llms_)
        rt.fallbacks =
            fallbacks_of(rt.config->fallbacks, rt.config->context_window_fallbacks, nullptr);
}

Fallbacks Runtime::fallbacks_of(const std::vector<std::string>& on_failure,
                                const std::vector<std::string>& on_context_window,
                                const ModelRuntime* self) const {
    // Depth first: a fallback's own fallbacks come before the next one of the list.
    auto flatten = [&](auto& flatten_, const std::vector<std::string>& names,
                       std::vector<std::string> ModelConfig::*list,
                       std::vector<const ModelRuntime*>& out) -> void {
        for (const auto& name : names) {
            const ModelRuntime* model = &models_.at(name);  // the config checked the names
            if (model == self || std::find(out.begin(), out.end(), model) != out.end())
                continue;
            out.push_back(model);
            flatten_(flatten_, model->config->*list, list, out);
        }
    };
    Fallbacks fallbacks;
    flatten(flatten, on_failure, &ModelConfig::fallbacks, fallbacks.on_failure);
    flatten(flatten, on_context_window, &ModelConfig::context_window_fallbacks,
            fallbacks.on_context_window);
    return fallbacks;
}

void Runtime::load_keys() {
    keys_ = std::make_unique<KeyStore>(load_key_file(config_.auth.keys_file));
    std::set<std::string_view> prefixes;
    for (const auto& route : config_.routes)
        prefixes.insert(route.path_prefix);
    for (const ClientKey& key : keys_->keys())
        for (const auto& route : key.routes)
            if (!prefixes.count(route))
                spdlog::warn("{}:{}: [keys.{}] may use the route '{}', which is not configured",
                             config_.auth.keys_file, key.line, key.id, route);
    spdlog::info("auth: {} client key(s) from {}", keys_->keys().size(), config_.auth.keys_file);
}

void Runtime::create_routes(std::vector<ConfigProblem>& problems) {
    routes_.reserve(config_.routes.size());  // routes point at each other: no reallocation
    std::map<std::string_view, RouteRuntime*> last_of_prefix;
    for (const auto& route : config_.routes) {
        RouteRuntime& rt = routes_.emplace_back();
        rt.index = routes_.size() - 1;
        const std::string key = "route[" + std::to_string(rt.index) + "]";
        rt.config = &route;
        rt.limit_holder = "route:" + route.path_prefix;
        // The llms the route may reach: its target_llm, or the deployments of the models it takes.
        std::vector<const LlmRuntime*> reached;
        auto reach_model = [&](const ModelRuntime& model) {
            for (const auto& d : model.deployments)
                if (std::find(reached.begin(), reached.end(), d.llm) == reached.end())
                    reached.push_back(d.llm);
        };
        auto reach_fallbacks = [&](const Fallbacks& fallbacks) {
            for (const auto* list : {&fallbacks.on_failure, &fallbacks.on_context_window})
                for (const ModelRuntime* model : *list)
                    reach_model(*model);
        };
        if (!route.target_llm.empty()) {
            rt.llm = &llms_.at(route.target_llm);
            reached.push_back(rt.llm);
            reach_fallbacks(rt.llm->fallbacks);
        } else {
            for (const auto& entry : models_)
                if (rt.takes(entry.first)) {
                    reach_model(entry.second);
                    reach_fallbacks(entry.second.fallbacks);
                }
        }
        if (!reached.empty())
            rt.endpoint = reached.front()->config->endpoint;
        for (const auto& p : route.processors)
            rt.processors.push_back(&processors_.at(p));
        if (route.api != kCanonicalApi) {
            rt.api = &client_apis_.at(route.api);
            const char* native = rt.api->type->vtable.native_provider;
            rt.native = native && rt.llm && rt.llm->config->provider == native;
            // Every other llm the route may reach (choosing by model, or falling back) gets a
            // translated request, which a native one cannot take, nor a native request another.
            for (const auto* llm : reached)
                if (llm != rt.llm && (rt.native || (native && llm->config->provider == native)))
                    problems.push_back(
                        {config_.file, route.line, key + ".target_llm",
                         rt.native
                             ? "the route relays client API '" + route.api + "' natively to [llm." +
                                   rt.llm->config->name + "], and cannot fall back to [llm." +
                                   llm->config->name + "] yet"
                             : "[llm." + llm->config->name + "] speaks client API '" + route.api +
                                   "' natively, which a route choosing by model or "
                                   "falling back cannot relay yet; give it a route with "
                                   "target_llm"});
        }
        auto [previous, first] = last_of_prefix.try_emplace(route.path_prefix, &rt);
        if (!first) {
            if (previous->second->native != rt.native)
                problems.push_back({config_.file, route.line, key + ".target_llm",
                                    "routes of one path_prefix relay their client API either "
                                    "all natively or all translated"});
            previous->second->next = &rt;
            previous->second = &rt;
        }
    }
}

bool RouteRuntime::takes(std::string_view model) const {
    const auto& patterns = config->models;
    return patterns.empty() || std::any_of(patterns.begin(), patterns.end(),
                                           [&](const auto& p) { return model_matches(p, model); });
}

const DeploymentRuntime& ModelRuntime::pick(std::span<const DeploymentRuntime* const> avoid,
                                            bool reserve) const {
    if (!health)
        return deployments.front();
    std::uint64_t avoided = 0;  // avoid may name other models' deployments too: only these count
    for (const DeploymentRuntime* d : avoid)
        if (d->index < deployments.size() && &deployments[d->index] == d)
            avoided |= std::uint64_t{1} << d->index;
    thread_local std::minstd_rand random{std::random_device{}()};
    const auto choice =
        health->choose(avoided, ModelHealth::Clock::now(),
                       std::uniform_real_distribution<double>(0.0, 1.0)(random), reserve);
    if (choice.entered_panic)
        spdlog::warn(
            "model {}: every deployment is ejected or cooling down; choosing among all of "
            "them until one is healthy again (panic mode)",
            config->name);
    return deployments[choice.index];
}

void Runtime::create_client_apis(std::vector<ConfigProblem>& problems) {
    for (const auto& route : config_.routes) {
        if (route.api == kCanonicalApi || client_apis_.count(route.api))
            continue;
        const int api_line = line_of(route.key_lines, "api", route.line);
        const std::string key = "route[" + std::to_string(&route - config_.routes.data()) + "].api";
        ClientApiRuntime rt;
        rt.type = plugins_.client_api(route.api);
        if (!rt.type) {
            problems.push_back({config_.file, api_line, key,
                                "no loaded plugin provides client API '" + route.api + "'" +
                                    not_loaded_hint(plugins_, &LoadedPlugin::client_apis,
                                                    std::string(kCanonicalApi) + " (built in)")});
            continue;
        }
        if (auto several = exported_by_several(*rt.type, "client API"); !several.empty()) {
            problems.push_back({config_.file, api_line, key, several});
            continue;
        }
        rt.plugin = rt.type->plugin->id + " [client API " + route.api + "]";
        lp_client_api_config cc{sizeof(lp_client_api_config), to_lp(route.api)};
        lp_call call(HookSite("client API", route.api, "instance_new"));
        if (invoke_hook(rt.plugin, call, [&] {
                return rt.type->vtable.instance_new(&cc, &call, &rt.instance);
            }) != LP_CONTINUE) {
            problems.push_back({config_.file, api_line, key,
                                "client API '" + route.api +
                                    "' failed to start: " + call.error_or_default().message});
            continue;
        }
        client_apis_.emplace(route.api, std::move(rt));
    }
}

Runtime::~Runtime() {
    // The last on_finish hooks run while their instances still exist: a queue of its own is
    // drained here; a shared one's jobs hold the runtime (shared-owned) until they have run.
    lasting_.finish_queue.reset();
    free_instances();
}

const LlmRuntime* Runtime::llm(std::string_view name) const {
    auto it = llms_.find(std::string(name));
    return it == llms_.end() ? nullptr : &it->second;
}

namespace {

nlohmann::json model_object(const std::string& name, std::time_t created, bool anthropic) {
    if (!anthropic)
        return {{"id", name}, {"object", "model"}, {"created", created}, {"owned_by", "llm-proxy"}};
    std::tm utc{};
    gmtime_r(&created, &utc);
    char created_at[32];
    std::strftime(created_at, sizeof created_at, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return {{"type", "model"}, {"id", name}, {"display_name", name}, {"created_at", created_at}};
}

}  // namespace

std::string Runtime::models_json(bool anthropic) const {
    nlohmann::json data = nlohmann::json::array();
    for (const auto& [name, model] : models_)
        data.push_back(model_object(name, created_, anthropic));
    if (!anthropic)
        return nlohmann::json{{"object", "list"}, {"data", data}}.dump();
    nlohmann::json first = data.empty() ? nlohmann::json() : data.front()["id"];
    nlohmann::json last = data.empty() ? nlohmann::json() : data.back()["id"];
    return nlohmann::json{
        {"data", data}, {"has_more", false}, {"first_id", first}, {"last_id", last}}
        .dump();
}

std::optional<std::string> Runtime::model_json(std::string_view id, bool anthropic) const {
    if (!model(id))
        return std::nullopt;
    return model_object(std::string(id), created_, anthropic).dump();
}

const ModelRuntime* Runtime::model(std::string_view name) const {
    auto it = models_.find(name);
    return it == models_.end() ? nullptr : &it->second;
}

void Runtime::free_instances() {
    // Plain references, not structured bindings: clang 14 (the fuzz build) cannot capture those.
    for (auto& entry : llms_) {
        LlmRuntime& llm = entry.second;
        if (llm.instance) {
            invoke_plugin(llm.plugin, "instance_free",
                          [&] { llm.provider->vtable.instance_free(llm.instance); });
            llm.instance = nullptr;
        }
    }
    for (auto& entry : processors_) {
        auto& proc = entry.second;
        if (proc.instance) {
            invoke_plugin(proc.plugin, "instance_free",
                          [&] { proc.type->vtable.instance_free(proc.instance); });
            proc.instance = nullptr;
        }
    }
    for (auto& entry : client_apis_) {
        auto& api = entry.second;
        if (api.instance) {
            invoke_plugin(api.plugin, "instance_free",
                          [&] { api.type->vtable.instance_free(api.instance); });
            api.instance = nullptr;
        }
    }
}

std::string Runtime::plugins_json() const {
    using nlohmann::json;
    json doc = json::object();
    json plugins = json::array();
    for (const auto& p : plugins_.plugins())
        plugins.push_back(
            {{"id", p->id},
             {"version", p->version},
             {"file", p->file},
             {"abi", std::to_string(p->abi_major) + "." + std::to_string(p->abi_minor)},
             {"providers", p->providers},
             {"processors", p->processors},
             {"client_apis", p->client_apis}});
    doc["plugins"] = plugins;
    json refused = json::array();
    for (const auto& r : plugins_.refused())
        refused.push_back({{"file", r.file}, {"reason", r.reason}});
    doc["refused_plugins"] = refused;
    return doc.dump();
}

std::string Runtime::health_json() const {
    using nlohmann::json;
    json doc = json::parse(plugins_json_);
    doc["status"] = "ok";
    json llms = json::object();
    for (const auto& [name, llm] : llms_)
        llms[name] = {{"provider", llm.config->provider},
                      {"base_url", llm.config->base_url},
                      {"ready", !llm.token_missing}};
    doc["llms"] = llms;
    json models = json::object();
    for (const auto& [name, model] : models_) {
        json deployments = json::array();
        const auto now = ModelHealth::Clock::now();
        for (const auto& d : model.deployments) {
            json entry = {
                {"llm", d.config->llm}, {"model", d.config->model}, {"weight", d.config->weight}};
            if (model.health) {
                const auto state = model.health->state(d.index, now);
                entry["healthy"] = state.ejected_ms == 0 && state.cooling_ms == 0;
                entry["in_flight"] = state.in_flight;
                entry["ejected_ms"] = state.ejected_ms;
                entry["cooling_ms"] = state.cooling_ms;
                entry["ejections"] = state.ejections;
                if (state.latency_ms >= 0)
                    entry["first_byte_ms"] = state.latency_ms;
            }
            deployments.push_back(std::move(entry));
        }
        models[name] = {{"balance", balance_name(model.config->balance)},
                        {"deployments", deployments}};
    }
    doc["models"] = models;
    json routes = json::array();
    for (const auto& r : routes_) {
        json procs = json::array();
        for (const auto* p : r.processors)
            procs.push_back(p->config->name);
        routes.push_back({{"path_prefix", r.config->path_prefix},
                          {"target_llm", r.config->target_llm},
                          {"models", r.config->models},
                          {"api", r.config->api},
                          {"native", r.native},
                          {"processors", procs},
                          {"allow_streaming", r.config->allow_streaming},
                          {"allow_non_streaming", r.config->allow_non_streaming}});
    }
    doc["routes"] = routes;
    return doc.dump();
}

}  // namespace llmproxy
