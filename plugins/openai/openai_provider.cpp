// The OpenAI provider: a codec for OpenAI's API and every server that speaks it (vLLM, Ollama,
// OpenRouter, llama.cpp, ...). The canonical format is OpenAI's own, so bodies and events pass
// through untouched; the provider adds the upstream path and credentials, and checks that a
// stream really ended with [DONE].
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
    std::string path;           // "/chat/completions" or "/embeddings"
    std::string authorization;  // "Bearer <key>", empty when no key
    std::string organization;
    std::string project;
};

struct RequestState {
    bool saw_done = false;
};

lp_status create_instance(const lp_provider_config* config, lp_call* call, void** out) {
    if (view(config->base_url).empty())
        return fail(g_host, call, 500, "", "",
                    "base_url is required: the API root of the OpenAI-compatible server, e.g. "
                    "base_url = \"https://api.openai.com/v1\"");
    auto instance = std::make_unique<Instance>();
    instance->path =
        config->endpoint == LP_ENDPOINT_EMBEDDING ? "/embeddings" : "/chat/completions";
    if (config->api_key.len)
        instance->authorization = "Bearer " + std::string(view(config->api_key));
    auto options = nlohmann::json::parse(view(config->options_json), nullptr, false);
    if (!options.is_object())
        return fail(g_host, call, 500, "", "", "options must be a table");
    for (auto& [key, value] : options.items()) {
        std::string* target = key == "organization" ? &instance->organization
                              : key == "project"    ? &instance->project
                                                    : nullptr;
        if (!target)
            return fail(g_host, call, 500, "", "",
                        "unknown key options." + key + " (known: organization, project)");
        if (!value.is_string())
            return fail(g_host, call, 500, "", "", "options." + key + " must be a string");
        *target = value.get<std::string>();
    }
    *out = instance.release();
    return LP_CONTINUE;
}

lp_status instance_new(const lp_provider_config* config, lp_call* call, void** out) {
    return lp_support::guarded(g_host, call, [&] { return create_instance(config, call, out); });
}

void instance_free(void* instance) {
    delete static_cast<Instance*>(instance);
}

lp_status request_new(void*, lp_call*, void** state) {
    *state = new RequestState;
    return LP_CONTINUE;
}

void request_free(void*, void* state) {
    delete static_cast<RequestState*>(state);
}

lp_status encode_request(void* instance_ptr, void*, lp_call* call, const lp_request_view*) {
    const auto& instance = *static_cast<Instance*>(instance_ptr);
    g_host->set_upstream_path(call, str(instance.path));
    g_host->set_upstream_header(call, str("Content-Type"), str("application/json"));
    if (!instance.authorization.empty())
        g_host->set_upstream_header(call, str("Authorization"), str(instance.authorization));
    if (!instance.organization.empty())
        g_host->set_upstream_header(call, str("OpenAI-Organization"), str(instance.organization));
    if (!instance.project.empty())
        g_host->set_upstream_header(call, str("OpenAI-Project"), str(instance.project));
    return LP_CONTINUE;
}

lp_status decode_stream_event(void*, void* state, lp_call*, const lp_sse_event* event) {
    if (view(event->data) == "[DONE]")
        static_cast<RequestState*>(state)->saw_done = true;
    return LP_CONTINUE;
}

lp_status end_stream(void*, void* state, lp_call* call) {
    if (static_cast<RequestState*>(state)->saw_done)
        return LP_CONTINUE;
    return fail(g_host, call, 502, "upstream_error", "upstream_stream_truncated",
                "the upstream stream ended without data: [DONE]; the answer may be incomplete");
}

const lp_provider kProvider = {
    sizeof(lp_provider), instance_new, instance_free,       request_new, request_free,
    encode_request,      nullptr,      decode_stream_event, end_stream,
};

const lp_export kExports[] = {
    {sizeof(lp_export), LP_PROVIDER_INTERFACE, "openai", &kProvider},
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
    "org.llm-proxy.openai",
    "1.0.0",
    "OpenAI chat completions and embeddings, and any OpenAI-compatible server",
    init,
    nullptr,
    kExports,
    sizeof(kExports) / sizeof(kExports[0]),
};
