// The gateway assembled from a validated config and the loaded plugins: one provider instance and
// upstream client per [llm.NAME], one processor instance per [processor.NAME], and the routes
// that tie them together. Built once at start-up; read-only while serving.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "pipeline/finish_queue.hpp"
#include "plugins/plugin_registry.hpp"
#include "routing/router.hpp"
#include "upstream/upstream_client.hpp"

namespace llmproxy {

struct LlmRuntime {
    const LlmConfig* config = nullptr;
    const ProviderType* provider = nullptr;
    std::string plugin;  // "<plugin id> [llm.NAME]": labels the log lines of its calls
    void* instance = nullptr;
    std::unique_ptr<UpstreamClient> upstream;  // null when the llm has no base_url
    bool token_missing = false;                // token_env is set but the variable is not
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

struct RouteRuntime {
    const RouteConfig* config = nullptr;
    LlmRuntime* llm = nullptr;
    std::vector<const ProcessorRuntime*> processors;  // in the route's order
    // The client API the route speaks; null for the built-in canonical one (kCanonicalApi).
    const ClientApiRuntime* api = nullptr;
    // The llm's provider speaks the client API upstream (its native_provider): bodies, answers
    // and events pass untranslated, and only errors go through the client API.
    bool native = false;
};

class Runtime {
  public:
    // Creates every instance the config names. Throws ConfigError listing each llm, processor or
    // route's client API whose plugin is not loaded or whose instance_new refused its settings.
    Runtime(Config config, const PluginRegistry& plugins);
    ~Runtime();  // frees every instance
    Runtime(const Runtime&) = delete;
    Runtime& operator=(const Runtime&) = delete;

    const Config& config() const { return config_; }
    const RouteRuntime* route_for(std::string_view path) const { return router_->match(path); }
    FinishQueue& finish_queue() { return *finish_queue_; }
    // The [llm.NAME] runtime, or nullptr.
    const LlmRuntime* llm(std::string_view name) const;

    // The /healthz document: plugins loaded and refused, llms and routes.
    std::string health_json() const;

  private:
    void free_instances();
    // Creates the client API instance of every route that names one; problems go to problems.
    void create_client_apis(std::vector<ConfigProblem>& problems);

    Config config_;
    const PluginRegistry& plugins_;
    std::map<std::string, LlmRuntime> llms_;
    std::map<std::string, ProcessorRuntime> processors_;
    std::map<std::string, ClientApiRuntime, std::less<>> client_apis_;
    std::vector<RouteRuntime> routes_;
    std::unique_ptr<Router<RouteRuntime>> router_;
    std::unique_ptr<FinishQueue> finish_queue_ = std::make_unique<FinishQueue>();
};

}  // namespace llmproxy
