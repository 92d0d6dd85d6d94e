// The `logger` processor: logs each request on its route and how it ended, through the host's
// log. config_value is the level (trace, debug, info, warn, error; default info);
// additional_config.max_body_chars caps how much of the request body is shown (default 500).
#include <llm_proxy/plugin.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "plugin_support.hpp"

namespace {

using lp_support::fail;
using lp_support::str;
using lp_support::view;

const lp_host_api* g_host = nullptr;

struct Instance {
    std::string name;
    lp_log_level level = LP_LOG_INFO;
    std::size_t max_body_chars = 500;
};

bool parse_level(std::string_view text, lp_log_level& level) {
    static const std::pair<std::string_view, lp_log_level> kLevels[] = {{"trace", LP_LOG_TRACE},
                                                                        {"debug", LP_LOG_DEBUG},
                                                                        {"info", LP_LOG_INFO},
                                                                        {"warn", LP_LOG_WARN},
                                                                        {"error", LP_LOG_ERROR}};
    for (const auto& [name, value] : kLevels)
        if (name == text) {
            level = value;
            return true;
        }
    return false;
}

lp_status create_instance(const lp_processor_config* config, lp_call* call, void** out) {
    auto instance = std::make_unique<Instance>();
    instance->name = std::string(view(config->name));
    if (config->config_value.len && !parse_level(view(config->config_value), instance->level))
        return fail(g_host, call, 500, "", "",
                    "config_value must be a log level: trace, debug, info, warn or error");
    auto extra = nlohmann::json::parse(view(config->additional_config_json), nullptr, false);
    for (auto& [key, value] : extra.items()) {
        if (key != "max_body_chars")
            return fail(g_host, call, 500, "", "",
                        "unknown key additional_config." + key + " (known: max_body_chars)");
        if (!value.is_number_unsigned())
            return fail(g_host, call, 500, "", "",
                        "additional_config.max_body_chars must be a non-negative integer");
        instance->max_body_chars = value.get<std::size_t>();
    }
    *out = instance.release();
    return LP_CONTINUE;
}

lp_status instance_new(const lp_processor_config* config, lp_call* call, void** out) {
    return lp_support::guarded(g_host, call, [&] { return create_instance(config, call, out); });
}

void instance_free(void* instance) {
    delete static_cast<Instance*>(instance);
}

lp_status on_request(void* instance_ptr, void*, lp_call*, const lp_request_view* request) {
    const auto& instance = *static_cast<Instance*>(instance_ptr);
    std::string_view body = view(request->body);
    std::string shown(body.substr(0, instance.max_body_chars));
    if (body.size() > instance.max_body_chars)
        shown += "... (" + std::to_string(body.size()) + " bytes)";
    std::string line = "[" + instance.name +
                       "] request route=" + std::string(view(request->route_prefix)) +
                       " model=" + std::string(view(request->model)) +
                       " stream=" + (request->stream ? "true" : "false") + " body=" + shown;
    g_host->log(instance.level, str(line));
    return LP_CONTINUE;
}

void on_finish(void* instance_ptr, void*, const lp_request_outcome* outcome) {
    const auto& instance = *static_cast<Instance*>(instance_ptr);
    std::string line = "[" + instance.name +
                       "] finished status=" + std::to_string(outcome->http_status) +
                       " upstream_status=" + std::to_string(outcome->upstream_status) +
                       " streamed=" + (outcome->streamed ? "true" : "false") +
                       " client_gone=" + (outcome->client_gone ? "true" : "false");
    if (outcome->error_message.len)
        line += " error=" + std::string(view(outcome->error_message));
    g_host->log(instance.level, str(line));
}

const lp_processor kLogger = {
    sizeof(lp_processor), instance_new, instance_free, nullptr,   nullptr,
    on_request,           nullptr,      nullptr,       on_finish,
};

const lp_export kExports[] = {
    {sizeof(lp_export), LP_PROCESSOR_INTERFACE, "logger", &kLogger},
};

lp_status init(const lp_host_api* host, lp_call*) {
    g_host = host;
    return LP_CONTINUE;
}

}  // namespace

LP_DECLARE_PLUGIN_ENTRY = {
    sizeof(lp_plugin_entry),
    LP_ABI_MAJOR,
    LP_ABI_MINOR,
    "org.llm-proxy.processors",
    "1.0.0",
    "The bundled request processors",
    init,
    nullptr,
    kExports,
    sizeof(kExports) / sizeof(kExports[0]),
};
