#include "plugins/plugin_registry.hpp"

#include <dlfcn.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "logging/log_text.hpp"
#include "plugins/host_call.hpp"
#include "plugins/plugin_invoke.hpp"

namespace llmproxy {

namespace {

constexpr std::size_t kEntryMinSize = offsetof(lp_plugin_entry, export_count) + sizeof(size_t);
constexpr std::size_t kExportMinSize = offsetof(lp_export, vtable) + sizeof(void*);

// Copies a table the plugin declared as `declared` bytes into a zeroed host-sized struct: fields
// appended by a newer minor version are ignored, fields an older plugin lacks read as NULL.
template <typename T>
T copy_table(const void* source, std::size_t declared) {
    T table;
    std::memset(&table, 0, sizeof(T));
    std::memcpy(&table, source, std::min(declared, sizeof(T)));
    table.struct_size = sizeof(T);
    return table;
}

std::string cstr(const char* s) {
    return s ? std::string(s) : std::string();
}

std::string abi_text(unsigned major, unsigned minor) {
    return std::to_string(major) + "." + std::to_string(minor);
}

// A required function absent from a table: the first one missing, or empty when all are there.
std::string missing_provider_function(const lp_provider& p) {
    if (!p.instance_new)
        return "instance_new";
    if (!p.instance_free)
        return "instance_free";
    if (!p.encode_request)
        return "encode_request";
    return {};
}

std::string missing_processor_function(const lp_processor& p) {
    if (!p.instance_new)
        return "instance_new";
    if (!p.instance_free)
        return "instance_free";
    return {};
}

std::string missing_client_api_function(const lp_client_api& a) {
    const std::pair<bool, const char*> required[] = {
        {a.instance_new != nullptr, "instance_new"},
        {a.instance_free != nullptr, "instance_free"},
        {a.decode_request != nullptr, "decode_request"},
        {a.encode_response != nullptr, "encode_response"},
        {a.encode_stream_event != nullptr, "encode_stream_event"},
        {a.encode_error != nullptr, "encode_error"}};
    for (auto [present, name] : required)
        if (!present)
            return name;
    return {};
}

// The rule of lp_export.type_name: [a-z0-9_]+.
bool type_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

bool valid_type_name(const std::string& name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), type_name_char);
}

// name made to follow the rule, for the message that refuses it.
std::string type_name_suggestion(const std::string& name) {
    std::string out;
    for (char c : name) {
        if (c >= 'A' && c <= 'Z')
            out.push_back(static_cast<char>(c - 'A' + 'a'));
        else
            out.push_back(type_name_char(c) ? c : '_');
    }
    return out;
}

template <typename Type>
bool exports_twice(const std::vector<Type>& types, const std::string& name) {
    return std::any_of(types.begin(), types.end(), [&](const Type& t) { return t.name == name; });
}

// Checks one export of interface `kind` and adds it to `into`; the refusal reason, or empty.
template <typename VTable>
std::string take_export(std::vector<PluginType<VTable>>& into, const char* kind,
                        const std::string& type, const void* vtable,
                        std::string (*missing_function)(const VTable&), const std::string& who) {
    auto table = copy_table<VTable>(vtable, *static_cast<const uint32_t*>(vtable));
    if (auto missing = missing_function(table); !missing.empty())
        return who + " exports " + kind + " '" + type + "' without the required function " +
               missing + "; implement it and rebuild.";
    if (exports_twice(into, type))
        return who + " exports " + kind + " '" + type + "' twice.";
    into.push_back({type, table, nullptr, {}});
    return {};
}

// Adds a type of a plugin just loaded to the index; a name taken before becomes ambiguous.
template <typename Type>
void index_type(std::map<std::string, Type>& index, const Type& type, const char* kind) {
    auto [it, added] = index.try_emplace(type.name, type);
    if (added)
        return;
    it->second.also_exported_by.push_back(type.plugin->file);
    spdlog::warn(
        "{} '{}' is exported by {} and by {}: a configuration that uses it is refused until one "
        "of the files is removed",
        kind, type.name, it->second.plugin->file, type.plugin->file);
}

// The types a plugin just initialised exports: named in its record, and indexed.
template <typename Type>
void register_types(LoadedPlugin& plugin, std::vector<Type>& types, std::vector<std::string>& names,
                    std::map<std::string, Type>& index, const char* kind) {
    for (auto& type : types) {
        type.plugin = &plugin;
        names.push_back(type.name);
        index_type(index, type, kind);
    }
}

}  // namespace

PluginRegistry::~PluginRegistry() {
    for (auto it = plugins_.rbegin(); it != plugins_.rend(); ++it)
        if ((*it)->deinit)
            invoke_plugin((*it)->id, "deinit", (*it)->deinit);
    // Plugins are never dlclose'd: code of theirs (thread-locals, atexit handlers) may outlive us.
}

bool PluginRegistry::refuse(const std::string& file, std::string reason) {
    spdlog::warn("plugin refused: {}", reason);
    refused_.push_back({file, std::move(reason)});
    return false;
}

std::string PluginRegistry::refused_summary() const {
    std::string out;
    for (const auto& r : refused_)
        out += "  " + r.reason + "\n";
    return out;
}

void PluginRegistry::load_directory(const std::string& dir) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
        refuse(dir, dir + ": plugin directory does not exist or is not a directory");
        return;
    }
    std::vector<std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
        if (entry.path().extension() == ".so")
            files.push_back(entry.path().string());
    std::sort(files.begin(), files.end());
    for (const auto& f : files)
        load_file(f);
}

bool PluginRegistry::load_file(const std::string& path) {
    std::error_code ec;
    std::string file = std::filesystem::weakly_canonical(path, ec).string();
    if (file.empty())
        file = path;
    for (const auto& p : plugins_)
        if (p->file == file)
            return true;

    void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char* why = dlerror();
        return refuse(file, file + ": cannot be loaded: " + cstr(why) +
                                ". Check that it is a shared object built for this machine and "
                                "that its dependencies are installed (ldd " +
                                file + ").");
    }
    const auto* entry = static_cast<const lp_plugin_entry*>(dlsym(handle, LP_PLUGIN_ENTRY_SYMBOL));
    if (!entry) {
        return refuse(file, file + ": not an llm-proxy plugin: it does not export the symbol '" +
                                LP_PLUGIN_ENTRY_SYMBOL +
                                "'. Declare it with LP_DECLARE_PLUGIN_ENTRY from "
                                "<llm_proxy/plugin.h> and build with that header.");
    }
    if (entry->abi_major != LP_ABI_MAJOR) {
        return refuse(
            file, file + ": built for plugin ABI " + abi_text(entry->abi_major, entry->abi_minor) +
                      ", but this llm-proxy supports ABI " + std::to_string(LP_ABI_MAJOR) +
                      ".x (up to " + abi_text(LP_ABI_MAJOR, LP_ABI_MINOR) +
                      "). Rebuild the plugin against the llm-proxy SDK headers of ABI " +
                      std::to_string(LP_ABI_MAJOR) + ".");
    }
    if (entry->struct_size < kEntryMinSize) {
        return refuse(file,
                      file + ": its lp_plugin_entry is " + std::to_string(entry->struct_size) +
                          " bytes, smaller than the " + std::to_string(kEntryMinSize) +
                          " bytes of ABI 1.0: the plugin was not built from <llm_proxy/plugin.h>.");
    }
    auto plugin = std::make_unique<LoadedPlugin>();
    plugin->file = file;
    plugin->id = cstr(entry->plugin_id);
    plugin->version = cstr(entry->version);
    plugin->description = cstr(entry->description);
    plugin->abi_major = entry->abi_major;
    plugin->abi_minor = entry->abi_minor;
    std::string who = file + ": plugin '" + plugin->id + "'";
    if (plugin->id.empty())
        return refuse(file, file + ": its lp_plugin_entry has no plugin_id.");
    if (!entry->init)
        return refuse(file, who + " lacks the required function init.");

    for (const auto& p : plugins_)
        if (p->id == plugin->id)
            return refuse(file, who + " is already loaded from " + p->file +
                                    "; remove one of the two files.");

    // Check every export before init, so a refused plugin never runs any code.
    std::vector<ProviderType> providers;
    std::vector<ProcessorType> processors;
    std::vector<ClientApiType> client_apis;
    for (std::size_t i = 0; i < entry->export_count; ++i) {
        const lp_export& ex = entry->exports[i];
        std::string type = cstr(ex.type_name);
        std::string iface = cstr(ex.interface_id);
        if (ex.struct_size < kExportMinSize || type.empty() || !ex.vtable)
            return refuse(file, who + " has a malformed export #" + std::to_string(i) +
                                    " (struct_size, type_name and vtable are required).");
        if (!valid_type_name(type))
            return refuse(file, who + " exports the type name \"" + printable(type) +
                                    "\", which breaks the rule of <llm_proxy/plugin.h>: [a-z0-9_]+ "
                                    "(lower-case letters, digits and '_'). Rename it, e.g. \"" +
                                    printable(type_name_suggestion(type)) + "\", and rebuild.");
        std::string refusal;
        if (iface == LP_PROVIDER_INTERFACE) {
            refusal = take_export(providers, "provider", type, ex.vtable,
                                  &missing_provider_function, who);
        } else if (iface == LP_PROCESSOR_INTERFACE) {
            refusal = take_export(processors, "processor", type, ex.vtable,
                                  &missing_processor_function, who);
        } else if (iface == LP_CLIENT_API_INTERFACE) {
            if (type == kCanonicalApi)
                return refuse(file, who + " exports client API '" + type +
                                        "', the API built into llm-proxy; rename it and rebuild.");
            refusal = take_export(client_apis, "client API", type, ex.vtable,
                                  &missing_client_api_function, who);
        } else {
            spdlog::warn(
                "{} exports '{}' with interface '{}', which this llm-proxy (ABI {}) does not "
                "know; that export is ignored",
                who, type, iface, abi_text(LP_ABI_MAJOR, LP_ABI_MINOR));
        }
        if (!refusal.empty())
            return refuse(file, refusal);
    }
    if (providers.empty() && processors.empty() && client_apis.empty())
        return refuse(file, who +
                                " exports no provider, processor or client API this llm-proxy "
                                "can use.");

    lp_call call(HookSite("plugin", plugin->id, "init"));
    lp_status status =
        invoke_hook(plugin->id, call, [&] { return entry->init(host_api(), &call); });
    if (status != LP_CONTINUE) {
        std::string why = call.error() ? call.error()->message : "no reason given";
        return refuse(file, who + " failed to initialise: " + why);
    }
    plugin->deinit = entry->struct_size >= offsetof(lp_plugin_entry, deinit) + sizeof(void*)
                         ? entry->deinit
                         : nullptr;

    register_types(*plugin, providers, plugin->providers, providers_, "provider");
    register_types(*plugin, processors, plugin->processors, processors_, "processor");
    register_types(*plugin, client_apis, plugin->client_apis, client_apis_, "client API");
    spdlog::debug("loaded plugin {} {} from {}", plugin->id, plugin->version, file);
    plugins_.push_back(std::move(plugin));
    return true;
}

const ProviderType* PluginRegistry::provider(const std::string& name) const {
    auto it = providers_.find(name);
    return it == providers_.end() ? nullptr : &it->second;
}

const ProcessorType* PluginRegistry::processor(const std::string& name) const {
    auto it = processors_.find(name);
    return it == processors_.end() ? nullptr : &it->second;
}

const ClientApiType* PluginRegistry::client_api(const std::string& name) const {
    auto it = client_apis_.find(name);
    return it == client_apis_.end() ? nullptr : &it->second;
}

}  // namespace llmproxy
