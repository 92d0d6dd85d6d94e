/*
 * llm-proxy plugin ABI: the provider interface, "llm_proxy.provider/1".
 *
 * A provider is a codec between the canonical (OpenAI-format) API and one upstream API. It never
 * does I/O: the host connects, sends, receives, times out and cancels. For each request the host
 * calls, in order:
 *   request_new -> encode_request -> (upstream call) -> decode_response            (non-streaming)
 *   request_new -> encode_request -> (upstream call) -> decode_stream_event... -> end_stream
 * and always request_free exactly once at the end, also after errors and client disconnects.
 * Upstream streams are server-sent events; the host parses the framing and hands over one event
 * per call. An upstream answer with an HTTP status >= 400 goes to decode_response, also for
 * streaming requests.
 * The end of the canonical stream is the host's (ABI 1.1): after end_stream returns LP_CONTINUE
 * the host writes `data: [DONE]`; after any failure it writes an error event and no [DONE]. A
 * provider never emits [DONE] (one emitted is absorbed); an upstream's own end marker is just
 * an upstream event, which decode_stream_event may drop.
 */
#ifndef LLM_PROXY_PROVIDER_H
#define LLM_PROXY_PROVIDER_H

#include "abi.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LP_PROVIDER_INTERFACE "llm_proxy.provider/1"

/* The settings of one [llm.NAME] table. OWNERSHIP: borrowed for the instance_new call. */
typedef struct lp_provider_config {
    uint32_t struct_size;
    lp_str llm_name;      /* NAME */
    lp_endpoint endpoint; /* from `type` */
    lp_str base_url;      /* `base_url`, possibly empty */
    lp_str api_key;       /* the value of the variable named by `token_env`; empty if none */
    lp_str options_json;  /* the [llm.NAME.options] table as a JSON object ("{}" when absent) */
} lp_provider_config;

typedef struct lp_provider {
    uint32_t struct_size;

    /* Create the instance serving one [llm.NAME]. Store it in *instance. On failure return
     * LP_FAILED after set_error(call, ...) with a message that names the bad setting as the
     * config spells it ("options.region is required", "type must be \"chat\""); the host shows
     * it at the line of that key and refuses to start. REQUIRED. THREADS: [main-thread]. */
    lp_status (*instance_new)(const lp_provider_config* config, lp_call* call, void** instance);
    /* Destroy an instance. REQUIRED. THREADS: [main-thread]. */
    void (*instance_free)(void* instance);

    /* Per-request state, stored in *state (may stay NULL). OPTIONAL (NULL: state is NULL).
     * THREADS: [request]. */
    lp_status (*request_new)(void* instance, lp_call* call, void** state);
    /* Called exactly once for every successful request_new. OPTIONAL. THREADS: [request]. */
    void (*request_free)(void* instance, void* state);

    /* Turn the canonical request into the upstream request: set path, headers (e.g. the API key)
     * and, when the format differs, the body (unchanged if set_body is not called). May answer
     * itself and return LP_RESPONDED (a local provider). REQUIRED. THREADS: [request]. */
    lp_status (*encode_request)(void* instance, void* state, lp_call* call,
                                const lp_request_view* request);

    /* Turn a complete upstream answer into the canonical one: change the body (set_body,
     * edit_field) or replace the whole answer, status included (respond). What the hook does not
     * change passes through: without any of these calls, the upstream status and body go on
     * unchanged. OPTIONAL (NULL: pass through). THREADS: [request]. */
    lp_status (*decode_response)(void* instance, void* state, lp_call* call, int32_t http_status,
                                 lp_str body);

    /* Turn one upstream stream event into zero or more canonical events (emit_event). Returning
     * LP_CONTINUE without emitting passes the event on (as edit_field left it; unchanged without
     * edits); LP_DROP drops it; LP_FAILED ends the stream with an error event. get_field and
     * get_string_field read the upstream event's data (1.1). OPTIONAL (NULL: pass through).
     * THREADS: [request]. */
    lp_status (*decode_stream_event)(void* instance, void* state, lp_call* call,
                                     const lp_sse_event* event);

    /* The upstream stream ended cleanly; emit any final events, or return LP_FAILED when the
     * upstream ended too early (the client then gets an error event instead of [DONE]).
     * OPTIONAL. THREADS: [request]. */
    lp_status (*end_stream)(void* instance, void* state, lp_call* call);
} lp_provider;

#ifdef __cplusplus
}
#endif

#endif /* LLM_PROXY_PROVIDER_H */
