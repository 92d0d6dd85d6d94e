/*
 * tag_user: an llm-proxy processor written in plain C11.
 *
 * Sets the request's "user" field (which OpenAI uses to attribute abuse and usage) to
 * config_value when the client did not set one.
 *
 *   [processor.tag]
 *   type = "tag_user"
 *   config_value = "team-42"
 */
#include <llm_proxy/plugin.h>
#include <stdlib.h>
#include <string.h>

static const lp_host_api* host;

typedef struct tagger {
    char* user_json; /* config_value as a JSON string, e.g. "\"team-42\"" */
    size_t user_json_len;
} tagger;

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

static lp_status tag_new(const lp_processor_config* config, lp_call* call, void** instance) {
    tagger* t;
    size_t i;
    if (config->config_value.len == 0)
        return fail(call, "config_value must be the user tag to set");
    for (i = 0; i < config->config_value.len; ++i) {
        char c = config->config_value.ptr[i];
        if (c == '"' || c == '\\' || (unsigned char)c < 0x20)
            return fail(call,
                        "config_value may not contain quotes, backslashes or control characters");
    }
    t = calloc(1, sizeof *t);
    if (!t)
        return fail(call, "out of memory");
    t->user_json_len = config->config_value.len + 2;
    t->user_json = malloc(t->user_json_len);
    if (!t->user_json) {
        free(t);
        return fail(call, "out of memory");
    }
    t->user_json[0] = '"';
    memcpy(t->user_json + 1, config->config_value.ptr, config->config_value.len);
    t->user_json[t->user_json_len - 1] = '"';
    *instance = t;
    return LP_CONTINUE;
}

static void tag_free(void* instance) {
    tagger* t = instance;
    free(t->user_json);
    free(t);
}

static lp_status tag_on_request(void* instance, void* state, lp_call* call,
                                const lp_request_view* request) {
    const tagger* t = instance;
    lp_str existing;
    lp_str value;
    (void)state;
    (void)request;
    if (host->get_field(call, text("/user"), &existing) == LP_CONTINUE)
        return LP_CONTINUE;
    value.ptr = t->user_json;
    value.len = t->user_json_len;
    if (host->edit_field(call, LP_EDIT_ADD, text("/user"), value) != LP_CONTINUE)
        return fail(call, "tag_user could not set /user");
    return LP_CONTINUE;
}

static const lp_processor tag_processor = {
    sizeof(lp_processor), tag_new, tag_free, NULL, NULL, tag_on_request, NULL, NULL, NULL,
};

static const lp_export exports[] = {
    {sizeof(lp_export), LP_PROCESSOR_INTERFACE, "tag_user", &tag_processor},
};

static lp_status tag_init(const lp_host_api* api, lp_call* call) {
    (void)call;
    host = api;
    return LP_CONTINUE;
}

LP_DECLARE_PLUGIN_ENTRY = {
    sizeof(lp_plugin_entry),
    LP_ABI_MAJOR,
    LP_ABI_MINOR,
    "org.example.tag-user",
    "1.0.0",
    "Sets the request's user field",
    tag_init,
    NULL,
    exports,
    sizeof exports / sizeof exports[0],
};
