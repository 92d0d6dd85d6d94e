/*
 * llm-proxy plugin ABI: the client API interface, "llm_proxy.client_api/1" (ABI 1.2).
 *
 * A client API teaches llm-proxy to speak another API to its clients, the way a provider teaches
 * it another upstream API. A route names one with `api = "NAME"` (default "openai", which is
 * built in). Like a provider it is a codec and does no I/O. For each request of such a route the
 * host calls, in order:
 *   request_new -> decode_request -> (the route's processors and provider, in canonical form)
 *     -> encode_response                                         (a whole answer, status < 400)
 *     -> encode_stream_event... -> end_stream                    (a stream that ended cleanly)
 *     -> encode_error                                            (any failure, before or
 * mid-stream) and request_free exactly once at the end when request_new succeeded. encode_error may
 * also be called without a request state (NULL), for a failure before request_new (a body too
 * large).
 *
 * Native mode. When the route's llm uses `native_provider` (a provider whose upstream API is this
 * very API), nothing is translated: request_new, decode_request, encode_response,
 * encode_stream_event and end_stream are not called, the client's body reaches the processors and
 * the provider as sent (lp_request_view.api names this API, so they know the format), and the
 * upstream's answer and events come back as they are, event names included, with no [DONE].
 * Errors still go through encode_error, with state NULL.
 */
#ifndef LLM_PROXY_CLIENT_API_H
#define LLM_PROXY_CLIENT_API_H

#include "abi.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LP_CLIENT_API_INTERFACE "llm_proxy.client_api/1"

/* The settings of a client API: its name, as routes use it. OWNERSHIP: borrowed for the call. */
typedef struct lp_client_api_config {
    uint32_t struct_size;
    lp_str name;
} lp_client_api_config;

typedef struct lp_client_api {
    uint32_t struct_size;

    /* The provider type name (as `provider = "..."` spells it) whose upstream speaks this API, so
     * that routes of this API to llms of that provider run in native mode; NULL when none.
     * OWNERSHIP: static, owned by the plugin. */
    const char* native_provider;

    /* One instance per loaded client API, created at start-up. REQUIRED.
     * THREADS: [main-thread]. */
    lp_status (*instance_new)(const lp_client_api_config* config, lp_call* call, void** instance);
    /* REQUIRED. THREADS: [main-thread]. */
    void (*instance_free)(void* instance);

    /* Per-request state (the stream's progress, the client's model name...). OPTIONAL (NULL:
     * state is NULL). THREADS: [request]. */
    lp_status (*request_new)(void* instance, lp_call* call, void** state);
    /* Called exactly once for every successful request_new. OPTIONAL. THREADS: [request]. */
    void (*request_free)(void* instance, void* state);

    /* The client's request (request->body, as sent) into a canonical chat request: set_body with
     * its JSON, which must name a "model" and say "stream" as the client asked. get_field reads
     * the client's body. On a request that cannot be translated return LP_FAILED after set_error
     * (400 naming the field); encode_error then shapes the answer. A request the client API
     * answers itself: respond() (in the client's format) and return LP_RESPONDED; nothing else
     * runs then. REQUIRED. THREADS: [request]. */
    lp_status (*decode_request)(void* instance, void* state, lp_call* call,
                                const lp_request_view* request);

    /* A whole canonical answer with a status below 400 into the client's format: set_body (or
     * respond, to change the status too); get_field reads the canonical answer. Error answers go
     * to encode_error instead. REQUIRED. THREADS: [request]. */
    lp_status (*encode_response)(void* instance, void* state, lp_call* call, int32_t http_status,
                                 lp_str body);

    /* One canonical stream event (a chat.completion.chunk) into zero or more client events:
     * emit_named_event (or emit_event for a data-only event), or LP_DROP. get_field reads the
     * canonical event. REQUIRED. THREADS: [request]. */
    lp_status (*encode_stream_event)(void* instance, void* state, lp_call* call,
                                     const lp_sse_event* event);

    /* The canonical stream ended cleanly: the client's closing events (what `data: [DONE]` is to
     * an OpenAI client). OPTIONAL. THREADS: [request]. */
    lp_status (*end_stream)(void* instance, void* state, lp_call* call);

    /* A failure, in the client's shape. error_type, code and message are the canonical
     * (OpenAI-style) error's; http_status is its status. Before an answer has started
     * (in_stream = 0): respond(status, content_type, body) with the whole error answer. Once a
     * stream has started (in_stream = 1): emit the error event(s) that end the client's stream.
     * Without a respond or an emitted event the host sends its OpenAI-style error. state may be
     * NULL (a failure before request_new). REQUIRED. THREADS: [request]. */
    lp_status (*encode_error)(void* instance, void* state, lp_call* call, int32_t in_stream,
                              int32_t http_status, lp_str error_type, lp_str code, lp_str message);
} lp_client_api;

#ifdef __cplusplus
}
#endif

#endif /* LLM_PROXY_CLIENT_API_H */
