/*
 * simple_openai: an llm-proxy provider written in plain C11, for a simple OpenAI-compatible
 * upstream (a llama.cpp or vLLM server, say). Bodies and stream events are already in the
 * canonical (OpenAI) format, so the codec only sets the upstream path and the credentials; the
 * host does all the I/O.
 *
 *   [llm.local]
 *   provider = "simple_openai"
 *   base_url = "http://127.0.0.1:8080/v1"
 *   token_env = "LOCAL_KEY"            # optional
 *   [llm.local.options]
 *   path = "/chat/completions"         # optional: the path under base_url
 */
#include <llm_proxy/plugin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const lp_host_api* host;

typedef struct simple {
    char authorization[512]; /* "Bearer <key>", or empty */
    char path[128];
} simple;

static lp_str text(const char* s) {
    lp_str out;
    out.ptr = s;
    out.len = strlen(s);
    return out;
}

static lp_status fail(lp_call* call, const char* message) {
    host->set_error(call, 500, text(""), text(""), text(message));
    return LP_FAILED;
}

/* Reads options = {"path":"..."} with a deliberately small parser: the only key is "path". */
static int read_path_option(lp_str options, char* out, size_t cap) {
    const char* key = "\"path\"";
    const char* at;
    const char* start;
    const char* end;
    char buffer[1024];
    if (options.len >= sizeof buffer)
        return -1;
    memcpy(buffer, options.ptr, options.len);
    buffer[options.len] = '\0';
    if (strcmp(buffer, "{}") == 0)
        return 0;
    at = strstr(buffer, key);
    if (!at)
        return -1;
    start = strchr(at + strlen(key), '"');
    if (!start)
        return -1;
    end = strchr(start + 1, '"');
    if (!end || (size_t)(end - start - 1) >= cap)
        return -1;
    memcpy(out, start + 1, (size_t)(end - start - 1));
    out[end - start - 1] = '\0';
    return 1;
}

static lp_status simple_new(const lp_provider_config* config, lp_call* call, void** instance) {
    simple* s;
    if (config->base_url.len == 0)
        return fail(call, "base_url is required");
    if (config->endpoint != LP_ENDPOINT_CHAT)
        return fail(call, "simple_openai serves type = \"chat\" only");
    if (config->api_key.len > 400)
        return fail(call, "the API key is too long");
    s = calloc(1, sizeof *s);
    if (!s)
        return fail(call, "out of memory");
    strcpy(s->path, "/chat/completions");
    if (read_path_option(config->options_json, s->path, sizeof s->path) < 0) {
        free(s);
        return fail(call, "options may only hold path = \"/...\"");
    }
    if (config->api_key.len)
        snprintf(s->authorization, sizeof s->authorization, "Bearer %.*s", (int)config->api_key.len,
                 config->api_key.ptr);
    *instance = s;
    return LP_CONTINUE;
}

static void simple_free(void* instance) {
    free(instance);
}

static lp_status simple_encode(void* instance, void* state, lp_call* call,
                               const lp_request_view* request) {
    const simple* s = instance;
    (void)state;
    (void)request;
    host->set_upstream_path(call, text(s->path));
    host->set_upstream_header(call, text("Content-Type"), text("application/json"));
    if (s->authorization[0])
        host->set_upstream_header(call, text("Authorization"), text(s->authorization));
    return LP_CONTINUE;
}

static const lp_provider simple_provider = {
    sizeof(lp_provider), simple_new, simple_free, NULL, NULL, simple_encode, NULL, NULL, NULL,
};

static const lp_export exports[] = {
    {sizeof(lp_export), LP_PROVIDER_INTERFACE, "simple_openai", &simple_provider},
};

static lp_status simple_init(const lp_host_api* api, lp_call* call) {
    (void)call;
    host = api;
    return LP_CONTINUE;
}

LP_DECLARE_PLUGIN_ENTRY = {
    sizeof(lp_plugin_entry),
    LP_ABI_MAJOR,
    LP_ABI_MINOR,
    "org.example.simple-openai",
    "1.0.0",
    "A plain C provider for OpenAI-compatible servers",
    simple_init,
    NULL,
    exports,
    sizeof exports / sizeof exports[0],
};
