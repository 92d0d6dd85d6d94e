// The gateway assembled from a validated config and the loaded plugins: one provider instance and
// upstream client per [llm.NAME], one processor instance per [processor.NAME], and the routes
// that tie them together. Built once at start-up; read-only while serving.
#pragma once

#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "access/key_store.hpp"
#include "balance/model_health.hpp"
#include "config/config.hpp"
#include "limits/limit_store.hpp"
#include "loop/finish_queue.hpp"
#include "plugins/plugin_registry.hpp"
#include "routing/router.hpp"
#include "runtime/gateway_metrics.hpp"
#include "tracing/span_exporter.hpp"
#include "upstream/upstream_client.hpp"

namespace llmproxy {

struct ModelRuntime;

// Where a request goes next when its target fails: public models in order, each one's own
// fallbacks right after it (the config's lists, flattened; no model twice, never the target).
struct Fallbacks {
    std::vector<const ModelRuntime*> on_failure;         // fallbacks
    std::vector<const ModelRuntime*> on_context_window;  // context_window_fallbacks

    bool empty() const { return on_failure.empty() && on_context_window.empty(); }
};

struct LlmRuntime {
    const LlmConfig* config = nullptr;
    const ProviderType* provider = nullptr;
    std::string plugin;  // "<plugin id> [llm.NAME]": labels the log lines of its calls
    void* instance = nullptr;
    std::unique_ptr<UpstreamClient> upstream;  // null when the llm has no base_url
    bool token_missing = false;                // token_env is set but the variable is not
    Fallbacks fallbacks;                       // for the requests of target_llm routes
    std::size_t index = 0;                     // in the config's llms (GatewayMetrics counts by it)
    std::string limit_holder;                  // "llm:NAME", naming its limits' counters
};

struct ProcessorRuntime {
    const ProcessorConfig* config = nullptr;
    const ProcessorType* type = nullptr;
    std::string plugin;  // "<plugin id> [processor.NAME]": labels the log lines of its calls
    void* instance = nullptr;
};

// A client API some route names (one instance per name, shared by its routes).
struct ClientApiRuntime {
    const ClientApiType* type = nullptr;
    std::string plugin;  // "<plugin id> [client API NAME]": labels the log lines of its calls
    void* instance = nullptr;
};

// One deployment of a public model: an llm, and the name its upstream knows the model by.
struct DeploymentRuntime {
    const ModelConfig::Deployment* config = nullptr;
    const LlmRuntime* llm = nullptr;
    std::size_t index = 0;  // in its model's deployments
};

// A public model ([models.NAME]) and its deployments.
struct ModelRuntime {
    const ModelConfig* config = nullptr;
    std::vector<DeploymentRuntime> deployments;
    Fallbacks fallbacks;
    // The deployments' health, which changes while serving (thread-safe); null when the model has
    // one deployment, and so nothing to choose.
    std::unique_ptr<ModelHealth> health;

    // The deployment of the next attempt, by the model's balance among the healthy ones (see
    // ModelHealth::choose), leaving out those in avoid (the ones that failed this request) while
    // others remain. Logs when the model enters panic mode. reserve: as ModelHealth::choose's
    // (when the model keeps health).
    const DeploymentRuntime& pick(std::span<const DeploymentRuntime* const> avoid = {},
                                  bool reserve = false) const;
};

struct RouteRuntime {
    const RouteConfig* config = nullptr;
    // The target_llm; null when the request's model names the target (a ModelRuntime).
    const LlmRuntime* llm = nullptr;
    // The next route of the same path_prefix, tried when this one does not take the model.
    const RouteRuntime* next = nullptr;
    Endpoint endpoint = Endpoint::chat;  // of every llm the route reaches (the config checks it)
    std::vector<const ProcessorRuntime*> processors;  // in the route's order
    // The client API the route speaks; null for the built-in canonical one (kCanonicalApi).
    const ClientApiRuntime* api = nullptr;
    // The llm's provider speaks the client API upstream (its native_provider): bodies, answers
    // and events pass untranslated, and only errors go through the client API.
    bool native = false;
    std::size_t index = 0;     // in the config's routes (GatewayMetrics counts by it)
    std::string limit_holder;  // "route:PREFIX", naming its limits' counters

    // Whether the route takes a request for `model`: one of config->models matches it, or the
    // route names none.
    bool takes(std::string_view model) const;
};

// What outlives one runtime, shared by the runtimes of successive reloads: counts go on, and so
// do rate limits. Null members are made afresh for the runtime.
struct LastingState {
    std::shared_ptr<metrics::Registry> registry;  // counts, when [server] metrics is on
    std::shared_ptr<FinishQueue> finish_queue;    // end-of-request work
    std::shared_ptr<LimitStore> limits;           // rate-limit counters
};

// Shared-owned while serving (a reload swaps in a new one; requests in progress keep theirs):
// a request's end-of-request work holds its runtime until it has run.
class Runtime : public std::enable_shared_from_this<Runtime> {
  public:
    // Creates every instance the config names. Throws ConfigError listing each llm, processor or
    // route's client API whose plugin is not loaded or whose instance_new refused its settings,
    // or the keys file's problems. plugins is read here only, never while serving.
    Runtime(Config config, const PluginRegistry& plugins, LastingState lasting = {});
    ~Runtime();  // frees every instance
    Runtime(const Runtime&) = delete;
    Runtime& operator=(const Runtime&) = delete;

    const Config& config() const { return config_; }
    const RouteRuntime* route_for(std::string_view path) const { return router_->match(path); }
    FinishQueue& finish_queue() { return *lasting_.finish_queue; }
    LimitStore& limits() { return *lasting_.limits; }
    // The [llm.NAME] runtime, or nullptr.
    const LlmRuntime* llm(std::string_view name) const;
    // The [models.NAME] runtime, or nullptr.
    const ModelRuntime* model(std::string_view name) const;
    // The client API some route speaks under this name, or nullptr.
    const ClientApiRuntime* client_api(std::string_view name) const {
        auto it = client_apis_.find(name);
        return it == client_apis_.end() ? nullptr : &it->second;
    }

    // The client keys of [auth] keys_file, read when the runtime was built; null without one.
    const KeyStore* keys() const { return keys_.get(); }
    // The digest of the admin key ([auth] admin_key_env), or null when there is none.
    const KeyDigest* admin_key() const { return admin_key_ ? &*admin_key_ : nullptr; }
    // Where the spans of sampled requests go; null when [telemetry] has no otlp_endpoint.
    SpanExporter* spans() { return spans_.get(); }
    // What is counted while serving; null when [server] metrics is off.
    GatewayMetrics* metrics() { return metrics_.get(); }
    // The GET /metrics text: every counted family, then the deployments' health.
    std::string metrics_text() const;

    // The /healthz document: plugins loaded and refused, llms and routes.
    std::string health_json() const;
    // GET /v1/models: the public models as an OpenAI model list, or as Anthropic's Models API
    // lists them (`{"data":[{"type":"model",...}],"has_more":false,...}`) when anthropic; and
    // one of them, or nullopt.
    std::string models_json(bool anthropic = false) const;
    std::optional<std::string> model_json(std::string_view id, bool anthropic = false) const;

  private:
    // /healthz's plugins and refused_plugins, from the registry as it is now.
    std::string plugins_json() const;
    void free_instances();
    // Creates the client API instance of every route that names one; problems go to problems.
    void create_client_apis(std::vector<ConfigProblem>& problems);
    // Builds the models and the routes; problems go to problems.
    void create_models();
    // The flattened fallbacks of a target whose config lists are these, never reaching self.
    Fallbacks fallbacks_of(const std::vector<std::string>& on_failure,
                           const std::vector<std::string>& on_context_window,
                           const ModelRuntime* self) const;
    void create_routes(std::vector<ConfigProblem>& problems);
    // Reads [auth] keys_file (throws ConfigError), warning of keys naming routes not configured.
    void load_keys();

    Config config_;
    const PluginRegistry& plugins_;  // during construction only
    std::map<std::string, LlmRuntime> llms_;
    std::map<std::string, ProcessorRuntime> processors_;
    std::map<std::string, ClientApiRuntime, std::less<>> client_apis_;
    std::map<std::string, ModelRuntime, std::less<>> models_;
    std::vector<RouteRuntime> routes_;
    std::unique_ptr<Router<RouteRuntime>> router_;
    std::string plugins_json_;  // /healthz's plugins and refused_plugins, as loaded at start
    std::time_t created_ = std::time(nullptr);  // the models' "created"
    LastingState lasting_;
    std::unique_ptr<GatewayMetrics> metrics_;
    std::unique_ptr<SpanExporter> spans_;
    std::unique_ptr<KeyStore> keys_;
    std::optional<KeyDigest> admin_key_;
};

}  // namespace llmproxy
