#include "app/runtime.hpp"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "plugins/host_call.hpp"

namespace llmproxy {

namespace {

std::string available(const std::vector<std::unique_ptr<LoadedPlugin>>& plugins, bool providers) {
    std::string out;
    for (const auto& p : plugins)
        for (const auto& name : providers ? p->providers : p->processors)
            out += (out.empty() ? "" : ", ") + name;
    return out.empty() ? "none" : out;
}

std::string not_loaded_hint(const PluginRegistry& plugins, bool providers) {
    std::string hint = " (available: " + available(plugins.plugins(), providers) + ")";
    if (!plugins.refused().empty())
        hint +=
            ". These plugins were refused and may be the one meant:\n" + plugins.refused_summary();
    return hint;
}

}  // namespace

Runtime::Runtime(Config config, const PluginRegistry& plugins)
    : config_(std::move(config)), plugins_(plugins) {
    std::vector<ConfigProblem> problems;
    for (const auto& [name, llm] : config_.llms) {
        LlmRuntime rt;
        rt.config = &llm;
        rt.provider = plugins.provider(llm.provider);
        std::string key = "llm." + name;
        if (!rt.provider) {
            problems.push_back({config_.file, llm.line, key + ".provider",
                                "no loaded plugin provides provider '" + llm.provider + "'" +
                                    not_loaded_hint(plugins, true)});
            continue;
        }
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
        lp_call call("provider '" + llm.provider + "' instance_new for [" + key + "]");
        if (rt.provider->vtable.instance_new(&pc, &call, &rt.instance) != LP_CONTINUE) {
            problems.push_back({config_.file, llm.line, key,
                                "provider '" + llm.provider + "' refused these settings: " +
                                    call.error_or_default().message});
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
        if (!rt.type) {
            problems.push_back({config_.file, proc.line, key + ".type",
                                "no loaded plugin provides processor type '" + proc.type + "'" +
                                    not_loaded_hint(plugins, false)});
            continue;
        }
        lp_processor_config pc{sizeof(lp_processor_config), to_lp(name), to_lp(proc.config_value),
                               to_lp(proc.additional_config_json)};
        lp_call call("processor '" + proc.type + "' instance_new for [" + key + "]");
        if (rt.type->vtable.instance_new(&pc, &call, &rt.instance) != LP_CONTINUE) {
            problems.push_back({config_.file, proc.line, key,
                                "processor '" + proc.type + "' refused these settings: " +
                                    call.error_or_default().message});
            continue;
        }
        processors_.emplace(name, rt);
    }
    if (!problems.empty()) {
        free_instances();  // the destructor does not run when a constructor throws
        throw ConfigError(std::move(problems));
    }
    for (const auto& route : config_.routes) {
        RouteRuntime rt;
        rt.config = &route;
        rt.llm = &llms_.at(route.target_llm);
        for (const auto& p : route.processors)
            rt.processors.push_back(&processors_.at(p));
        routes_.push_back(std::move(rt));
    }
    router_ = std::make_unique<Router<RouteRuntime>>(
        routes_, [](const RouteRuntime& r) { return std::string_view(r.config->path_prefix); });
}

Runtime::~Runtime() {
    finish_queue_.reset();  // the last on_finish hooks run while their instances still exist
    free_instances();
}

const LlmRuntime* Runtime::llm(std::string_view name) const {
    auto it = llms_.find(std::string(name));
    return it == llms_.end() ? nullptr : &it->second;
}

void Runtime::free_instances() {
    for (auto& [name, llm] : llms_)
        if (llm.instance) {
            llm.provider->vtable.instance_free(llm.instance);
            llm.instance = nullptr;
        }
    for (auto& [name, proc] : processors_)
        if (proc.instance) {
            proc.type->vtable.instance_free(proc.instance);
            proc.instance = nullptr;
        }
}

std::string Runtime::health_json() const {
    using nlohmann::json;
    json doc = {{"status", "ok"}};
    json plugins = json::array();
    for (const auto& p : plugins_.plugins())
        plugins.push_back(
            {{"id", p->id},
             {"version", p->version},
             {"file", p->file},
             {"abi", std::to_string(p->abi_major) + "." + std::to_string(p->abi_minor)},
             {"providers", p->providers},
             {"processors", p->processors}});
    doc["plugins"] = plugins;
    json refused = json::array();
    for (const auto& r : plugins_.refused())
        refused.push_back({{"file", r.file}, {"reason", r.reason}});
    doc["refused_plugins"] = refused;
    json llms = json::object();
    for (const auto& [name, llm] : llms_)
        llms[name] = {{"provider", llm.config->provider},
                      {"base_url", llm.config->base_url},
                      {"ready", !llm.token_missing}};
    doc["llms"] = llms;
    json routes = json::array();
    for (const auto& r : routes_) {
        json procs = json::array();
        for (const auto* p : r.processors)
            procs.push_back(p->config->name);
        routes.push_back({{"path_prefix", r.config->path_prefix},
                          {"target_llm", r.config->target_llm},
                          {"processors", procs},
                          {"allow_streaming", r.config->allow_streaming},
                          {"allow_non_streaming", r.config->allow_non_streaming}});
    }
    doc["routes"] = routes;
    return doc.dump();
}

}  // namespace llmproxy
