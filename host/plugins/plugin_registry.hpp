// Loads plugin shared objects and indexes what they export. A plugin that cannot be used is
// refused with a message naming the file, what is wrong and what to do; refusal is not fatal here:
// the caller fails start-up only when the config needs something a refused plugin would have given.
#pragma once

#include <llm_proxy/plugin.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace llmproxy {

// The API of canonical bodies and events (lp_request_view.api), built into the host: routes speak
// it unless they name a client API, and no plugin may export a client API of this name.
inline constexpr std::string_view kCanonicalApi = "openai";

struct LoadedPlugin {
    std::string file;
    std::string id;
    std::string version;
    std::string description;
    unsigned abi_major = 0, abi_minor = 0;
    std::vector<std::string> providers;
    std::vector<std::string> processors;
    std::vector<std::string> client_apis;
    void (*deinit)() = nullptr;
};

struct RefusedPlugin {
    std::string file;
    std::string reason;
};

// A provider, processor or client API a plugin exports, by the name configs use.
template <typename VTable>
struct PluginType {
    std::string name;
    VTable vtable{};  // the plugin's table copied into a zeroed host-sized one
    const LoadedPlugin* plugin = nullptr;
    // The files of further plugins exporting the same name. Not empty: the name is ambiguous,
    // and a config that uses it is refused (Runtime), naming every file.
    std::vector<std::string> also_exported_by;
};
using ProviderType = PluginType<lp_provider>;
using ProcessorType = PluginType<lp_processor>;
using ClientApiType = PluginType<lp_client_api>;

class PluginRegistry {
  public:
    PluginRegistry() = default;
    ~PluginRegistry();  // calls every plugin's deinit; free all instances before
    PluginRegistry(const PluginRegistry&) = delete;
    PluginRegistry& operator=(const PluginRegistry&) = delete;

    // Loads every "*.so" in dir, in name order. A missing dir is recorded as refused.
    void load_directory(const std::string& dir);

    // Loads one file. Returns false (and records why in refused()) when it cannot be used.
    // Loading the same file twice is a no-op. A type name exported by a plugin loaded before
    // does not refuse the plugin: the name becomes ambiguous (PluginType::also_exported_by).
    bool load_file(const std::string& path);

    const ProviderType* provider(const std::string& name) const;
    const ProcessorType* processor(const std::string& name) const;
    const ClientApiType* client_api(const std::string& name) const;

    const std::vector<std::unique_ptr<LoadedPlugin>>& plugins() const { return plugins_; }
    const std::vector<RefusedPlugin>& refused() const { return refused_; }

    // Refusal reasons joined one per line, for "is it one of these?" hints; empty when none.
    std::string refused_summary() const;

  private:
    bool refuse(const std::string& file, std::string reason);

    std::vector<std::unique_ptr<LoadedPlugin>> plugins_;
    std::vector<RefusedPlugin> refused_;
    std::map<std::string, ProviderType> providers_;
    std::map<std::string, ProcessorType> processors_;
    std::map<std::string, ClientApiType> client_apis_;
};

}  // namespace llmproxy
