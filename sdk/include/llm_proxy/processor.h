/*
 * llm-proxy plugin ABI: the processor interface, "llm_proxy.processor/1".
 *
 * A processor sits in a route's pipeline (`processors = [...]`) and sees every request of that
 * route. Order: on_request hooks run in the route's listed order, before the provider; on_response
 * and on_stream_event hooks run in reverse order, after the provider (like nested middleware), so
 * a processor that changed a request can undo its change on the answer. on_finish runs for every
 * processor whose request_new succeeded, after the client got its last byte (or left).
 */
#ifndef LLM_PROXY_PROCESSOR_H
#define LLM_PROXY_PROCESSOR_H

#include "abi.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LP_PROCESSOR_INTERFACE "llm_proxy.processor/1"

/* The settings of one [processor.NAME] table. OWNERSHIP: borrowed for the instance_new call. */
typedef struct lp_processor_config {
    uint32_t struct_size;
    lp_str name;                   /* NAME */
    lp_str config_value;           /* `config_value` as a string; empty when absent */
    lp_str additional_config_json; /* `additional_config` as a JSON object ("{}" when absent) */
} lp_processor_config;

/* How a request ended, for on_finish. OWNERSHIP: borrowed for the call. */
typedef struct lp_request_outcome {
    uint32_t struct_size;
    int32_t http_status;          /* the status the client got (200 for a stream that started) */
    int32_t upstream_status;      /* 0 when no upstream answer was received */
    int32_t streamed;             /* 1 when the answer was a stream */
    int32_t client_gone;          /* 1 when the client disconnected before the end */
    double duration_ms;           /* from request arrival to the end */
    double time_to_first_byte_ms; /* until the first byte of the answer went out; -1 if none */
    lp_str error_message;         /* empty on success */
    /* Token usage from the answer's "usage" (streams: when the upstream sent it); -1 if unknown. */
    int64_t prompt_tokens;
    int64_t completion_tokens;
    int64_t total_tokens;
    /* 1.3: the upstream attempts made, retries and fallbacks included (0 when the request was
     * answered before any), and the llm and the model name sent upstream of the last of them
     * (empty when there was none). */
    int32_t attempts;
    lp_str llm_name;
    lp_str upstream_model;
} lp_request_outcome;

typedef struct lp_processor {
    uint32_t struct_size;

    /* Create the instance for one [processor.NAME]; reject bad settings with LP_FAILED and
     * set_error naming the key as the config spells it ("additional_config.status must be ...",
     * "config_value must be ..."): the host shows the message at the line of that key.
     * REQUIRED. THREADS: [main-thread]. */
    lp_status (*instance_new)(const lp_processor_config* config, lp_call* call, void** instance);
    /* REQUIRED. THREADS: [main-thread]. */
    void (*instance_free)(void* instance);

    /* Per-request state. OPTIONAL (NULL: state is NULL). THREADS: [request]. */
    lp_status (*request_new)(void* instance, lp_call* call, void** state);
    /* Called exactly once for every successful request_new. OPTIONAL. THREADS: [request]. */
    void (*request_free)(void* instance, void* state);

    /* Before the provider: change the body (set_body), reject (set_error, LP_FAILED) or answer
     * (respond / emit_event, LP_RESPONDED). OPTIONAL. THREADS: [request]. */
    lp_status (*on_request)(void* instance, void* state, lp_call* call,
                            const lp_request_view* request);
    /* A complete canonical answer: replace it with respond(), or LP_FAILED to turn it into an
     * error. OPTIONAL. THREADS: [request]. */
    lp_status (*on_response)(void* instance, void* state, lp_call* call, int32_t http_status,
                             lp_str body);
    /* One canonical stream event: pass (LP_CONTINUE), change it in place (edit_field, 1.1),
     * replace it or add to it (emit_event), drop it (LP_DROP) or end the stream with an error
     * event (LP_FAILED). The end marker [DONE] is never seen here: the host writes it after the
     * last event. OPTIONAL. THREADS: [request]. */
    lp_status (*on_stream_event)(void* instance, void* state, lp_call* call,
                                 const lp_sse_event* event);
    /* Observe the outcome. Runs after the client got the whole answer (or left); request_free
     * follows. OPTIONAL. THREADS: [request] (on a host thread; never concurrent with other hooks
     * of the same request). */
    void (*on_finish)(void* instance, void* state, const lp_request_outcome* outcome);
} lp_processor;

#ifdef __cplusplus
}
#endif

#endif /* LLM_PROXY_PROCESSOR_H */
