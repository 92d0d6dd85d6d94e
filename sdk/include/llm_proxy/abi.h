/*
 * llm-proxy plugin ABI: common types, versions and the host API table.
 *
 * COMPATIBILITY POLICY
 * - The ABI has a major and a minor version (LP_ABI_MAJOR, LP_ABI_MINOR).
 * - Within one major version, released things never change: no field, function, constant or
 *   meaning is removed, reordered or redefined. New things are only appended: new fields go at the
 *   end of a struct, new functions at the end of a function table, and each such addition raises
 *   the minor version.
 * - Every struct that crosses the boundary starts with `struct_size`. A reader uses only the fields
 *   that the writer's `struct_size` covers, and treats absent trailing fields as NULL/zero. So a
 *   plugin built against 1.0 keeps loading in a 1.7 host, and a 1.7 plugin loads in a 1.0 host as
 *   long as it checks `host->abi_minor` before calling a function added after 1.0.
 * - A plugin whose major version differs from the host's is refused, with a message naming both.
 * - Removal only happens in a new major version, after the thing was marked deprecated in the
 *   headers for at least two minor releases.
 *
 * CONVENTIONS
 * - Strings are lp_str {ptr, len}: UTF-8, not NUL-terminated. `ptr` may be NULL when len is 0.
 *   The only NUL-terminated strings are the static descriptors of lp_plugin_entry / lp_export.
 * - OWNERSHIP lines on each function say who owns what. Data the host hands to a plugin is
 *   borrowed until the call returns; data a plugin hands to a host function is copied by the host
 *   before that function returns. Nothing allocated on one side is freed on the other.
 * - THREADS tags on each function:
 *     [main-thread]  called on the main thread, never concurrently with another [main-thread]
 *                    call: at start-up and shut-down, where nothing else runs; and (plugins
 *                    built for 1.4 and later) on a reload, where the instances of the previous
 *                    configuration may still be serving [request] calls meanwhile. A host
 *                    reloads only when every loaded plugin was built for 1.4 or later.
 *     [request]      called on the thread serving one request; hooks of one request never run
 *                    concurrently, but hooks of different requests run concurrently on different
 *                    threads, so instance state shared between requests must be thread-safe.
 *                    Hooks must not block: a host thread serves many requests. While a hook waits
 *                    in a host call (call_llm), other requests' hooks may run on its thread, so
 *                    keep no thread-local state across host calls.
 *     [thread-safe]  may be called from any thread at any time.
 * - Errors never cross the boundary as exceptions (C++) or panics (Rust): a plugin returns a status
 *   code and describes the failure through lp_host_api.set_error, which the host copies.
 */
#ifndef LLM_PROXY_ABI_H
#define LLM_PROXY_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LP_ABI_MAJOR 1
#define LP_ABI_MINOR 5

/* What each minor version added (check host->abi_minor before relying on it):
 * 1.1  Stream hooks (decode_stream_event, on_stream_event) read and edit the current event's data
 *      with get_field, get_string_field and edit_field. The host ends every canonical stream
 *      that finished cleanly with `data: [DONE]` itself: no hook sees it, and one a plugin emits
 *      is absorbed (so 1.0 providers that pass the upstream's on still give exactly one). A
 *      provider that must also run in a 1.0 host emits it there itself, in end_stream.
 * 1.2  Client APIs ("llm_proxy.client_api/1", client_api.h): routes that speak another API to
 *      their clients. lp_request_view.api; lp_host_api.emit_named_event.
 * 1.3  lp_request_outcome.attempts, llm_name and upstream_model: what retries and fallbacks did.
 * 1.4  Reloads (SIGHUP): instance_new and instance_free ([main-thread]) may run while instances of
 *      the previous configuration serve requests. Nothing else changed: a plugin whose instances
 *      keep no state shared with other instances (or guard it) is ready by being rebuilt.
 * 1.5  lp_request_view.key_id and key_metadata: the client key a request was authenticated with
 *      on a route with auth. */

/* A borrowed UTF-8 string or byte buffer. */
typedef struct lp_str {
    const char* ptr;
    size_t len;
} lp_str;

/* Status codes returned by plugin hooks. A fixed-width integer, not an enum, so its size is part
 * of the ABI on every compiler. */
typedef int32_t lp_status;
/* The hook succeeded; the host goes on with the request. For hooks that may replace data, the
 * original passes unchanged unless the hook replaced it through a host function. */
#define LP_CONTINUE ((lp_status)0)
/* Stream hooks only: the current event is dropped (events emitted by the hook still go out). */
#define LP_DROP ((lp_status)1)
/* The hook answered the request itself (lp_host_api.respond or emitted events); the host sends
 * that answer and makes no upstream call. */
#define LP_RESPONDED ((lp_status)2)
/* The hook failed. It should have called lp_host_api.set_error; if it did not, the host answers
 * 500 naming the plugin. */
#define LP_FAILED ((lp_status)-1)

typedef int32_t lp_log_level;
#define LP_LOG_TRACE ((lp_log_level)0)
#define LP_LOG_DEBUG ((lp_log_level)1)
#define LP_LOG_INFO ((lp_log_level)2)
#define LP_LOG_WARN ((lp_log_level)3)
#define LP_LOG_ERROR ((lp_log_level)4)

/* What kind of canonical (OpenAI-format) endpoint an [llm.NAME] serves: its `type` key. */
typedef int32_t lp_endpoint;
#define LP_ENDPOINT_CHAT ((lp_endpoint)1)      /* POST .../chat/completions */
#define LP_ENDPOINT_EMBEDDING ((lp_endpoint)2) /* POST .../embeddings */

/* One HTTP header. OWNERSHIP: borrowed for the call. */
typedef struct lp_header {
    lp_str name;
    lp_str value;
} lp_header;

/* Field edits (lp_host_api.edit_field), with RFC 6902 (JSON Patch) meanings. */
typedef int32_t lp_edit;
#define LP_EDIT_ADD ((lp_edit)0) /* set an object member, or insert into an array ("-" appends) */
#define LP_EDIT_REPLACE ((lp_edit)1) /* replace an existing value */
#define LP_EDIT_REMOVE ((lp_edit)2)  /* remove an existing value */

/* The answer to a side call (lp_host_api.call_llm). OWNERSHIP: body is owned by the host and
 * valid until the hook that made the call returns. */
typedef struct lp_llm_answer {
    uint32_t struct_size;
    int32_t http_status;
    lp_str body; /* the canonical (OpenAI-format) answer, or the upstream's error body */
} lp_llm_answer;

/* Opaque handle to one hook invocation. Valid only until the hook returns; pass it back to the
 * lp_host_api functions that take one. */
typedef struct lp_call lp_call;

/* One canonical request as a hook sees it. OWNERSHIP: everything is borrowed for the call. */
typedef struct lp_request_view {
    uint32_t struct_size;
    lp_str body;         /* the JSON body, as the client sent it or as earlier hooks changed it */
    lp_str path;         /* the request target as received, e.g. "/v1/chat/completions?x=1" */
    lp_str model;        /* the body's "model" value */
    lp_str route_prefix; /* the path_prefix of the route that matched */
    lp_str llm_name;     /* the NAME of the target [llm.NAME]; empty in a client API's decode_request
                          * on a path whose routes choose their llm by the model it decodes */
    lp_endpoint endpoint;
    int32_t stream; /* 1 when the client asked for a stream ("stream": true), else 0 */
    /* The client's request headers, credentials included: redact before logging them. */
    const lp_header* headers;
    size_t header_count;
    /* 1.2: the API whose format `body` is in: "openai" (canonical), or a client API's name when a
     * route serves it natively (client_api.h). Absent (struct_size) means "openai". */
    lp_str api;
    /* 1.5: the id of the client key the request came with ([keys.ID] of the keys file), and that
     * key's metadata as a JSON object of strings ("{}" when it has none). Both empty on a route
     * without auth, and absent (struct_size) from older hosts. The key's secret is never shown to
     * plugins: on a route with auth, `headers` hold no credentials. */
    lp_str key_id;
    lp_str key_metadata;
} lp_request_view;

/* One server-sent event. OWNERSHIP: borrowed for the call. */
typedef struct lp_sse_event {
    uint32_t struct_size;
    lp_str event; /* the `event:` field; empty when absent */
    lp_str data;  /* the `data:` lines joined by "\n" */
    lp_str id;    /* the `id:` field; empty when absent */
} lp_sse_event;

/* The functions the host offers to plugins. Handed to lp_plugin_entry.init and valid until the
 * plugin's deinit returns. */
typedef struct lp_host_api {
    uint32_t struct_size;
    uint16_t abi_major;
    uint16_t abi_minor;

    /* Write a line to the host's log. The host names the plugin, and the instance whose hook or
     * instance_new is running, in the line ("plugin org.example.x [llm.NAME]: message"); a line
     * written from a thread of the plugin's own carries no name.
     * OWNERSHIP: message is copied. THREADS: [thread-safe]. */
    void (*log)(lp_log_level level, lp_str message);

    /* Describe why a hook is returning LP_FAILED. http_status is what the client receives (use 400
     * for bad requests, 502 for a bad upstream answer); type is the OpenAI error type (e.g.
     * "invalid_request_error"); code may be empty. Later calls replace earlier ones.
     * On init and instance_new the status is ignored and the message is shown at start-up.
     * OWNERSHIP: strings are copied. THREADS: [request] or [main-thread], with the call given. */
    void (*set_error)(lp_call* call, int32_t http_status, lp_str type, lp_str code, lp_str message);

    /* Provider encode_request only: the method (default "POST"), the path appended to the
     * configured base_url's path (e.g. "/chat/completions"), and headers of the upstream request.
     * set_upstream_header replaces a header of the same name (case-insensitive); an empty value
     * removes it.
     * The method must be an HTTP token (RFC 9110: letters, digits, !#$%&'*+-.^_`|~). The path
     * must be empty or start with '/', and hold only what an origin-form request target may:
     * letters, digits, -._~!$&'()*+,;=:@/? and %XX escapes; no "." or ".." segment. Percent-encode
     * whatever comes from the request (a model name) before putting it in a path: a CR, LF, space
     * or NUL there would let a client write to the upstream. A value that breaks these rules is
     * not used: the request fails with a 500 naming the provider and the value, whatever the hook
     * returns. OWNERSHIP: copied. THREADS: [request]. */
    void (*set_upstream_method)(lp_call* call, lp_str method);
    void (*set_upstream_path)(lp_call* call, lp_str path);
    void (*set_upstream_header)(lp_call* call, lp_str name, lp_str value);

    /* Replace the body the hook is working on: the upstream request body in encode_request and
     * on_request, the response body in decode_response and on_response.
     * OWNERSHIP: copied. THREADS: [request]. */
    void (*set_body)(lp_call* call, lp_str body);

    /* Answer the request without an upstream call (from encode_request or on_request, returning
     * LP_RESPONDED) or replace a non-streaming response (decode_response, on_response; the
     * upstream's headers, such as retry-after, stay with it). content_type empty means
     * "application/json". OWNERSHIP: copied. THREADS: [request]. */
    void (*respond)(lp_call* call, int32_t http_status, lp_str content_type, lp_str body);

    /* Send one canonical stream event to the client, written as "data: <data>\n\n"; data of
     * several lines (split at LF, CRLF or CR) goes out as one "data: " line each, which a client
     * joins again with "\n". The end marker "[DONE]" is the host's to write (since 1.1): emitted,
     * it is dropped.
     * From decode_stream_event / on_stream_event / end_stream the emitted events replace the
     * current one. From encode_request or on_request of a streaming request, returning
     * LP_RESPONDED, they are the whole streamed answer.
     * OWNERSHIP: copied. THREADS: [request]. */
    void (*emit_event)(lp_call* call, lp_str data);

    /* Field access to the body the hook works on (the request in on_request and encode_request,
     * the answer in on_response and decode_response, and since 1.1 the current event's data in
     * decode_stream_event and on_stream_event: an edited event goes on as edited, unless the
     * hook emitted events or returned LP_DROP), by JSON Pointer (RFC 6901), e.g. "/model",
     * "/messages/0/content" or "/choices/0/delta/content". Cheap: the host scans the JSON text
     * only as far as the field, and splices edits into the text without re-serialising it.
     * In end_stream there is no current event: every field is absent.
     *
     * get_field writes the value's JSON text to *value_json (a string comes quoted);
     * get_string_field writes a string value unescaped to *value. Both return LP_CONTINUE, or
     * LP_FAILED (nothing written) when the field is absent or, for get_string_field, not a string.
     * OWNERSHIP: the results are borrowed until the hook returns; edits within the hook do not
     * invalidate them (they keep showing the text as it was). THREADS: [request]. */
    lp_status (*get_field)(lp_call* call, lp_str pointer, lp_str* value_json);
    lp_status (*get_string_field)(lp_call* call, lp_str pointer, lp_str* value);

    /* Edits one field: value_json is JSON text (ignored for LP_EDIT_REMOVE). Returns LP_CONTINUE,
     * or LP_FAILED (body unchanged) when the pointer cannot be applied or the value is not JSON;
     * the reason is then logged at debug level. Edits apply in order, each seeing the previous.
     * OWNERSHIP: copied. THREADS: [request]. */
    lp_status (*edit_field)(lp_call* call, lp_edit op, lp_str pointer, lp_str value_json);

    /* A side call: sends request_body (a canonical non-streaming request, e.g. a chat completion)
     * to the configured [llm.NAME] named llm_name, through its provider, with that llm's
     * connection pool and timeouts, and waits for the answer. The call is abandoned when the
     * client of the current request disconnects. Returns LP_CONTINUE with *answer filled when an
     * answer came (whatever its status), or LP_FAILED when none could be had (no such llm,
     * unreachable, timeout); set_error has then been called on `call` with the reason (override
     * it to name your plugin). Available in on_request and on_response.
     * OWNERSHIP: request_body is copied; answer->body is borrowed until the hook returns.
     * THREADS: [request]. */
    lp_status (*call_llm)(lp_call* call, lp_str llm_name, lp_str request_body,
                          lp_llm_answer* answer);

    /* 1 when a line at `level` would be written by log(), else 0: skip building lines nobody
     * reads. THREADS: [thread-safe]. */
    int32_t (*log_enabled)(lp_log_level level);

    /* 1.2: emit_event with an `event:` name ("message_start"), written "event: <event>\n" before
     * the data lines; for client APIs whose streams name their events, and for providers and
     * processors in native mode. An empty name is emit_event. The name must not hold CR or LF
     * (such an event is not sent, and the hook's request fails).
     * OWNERSHIP: copied. THREADS: [request]. */
    void (*emit_named_event)(lp_call* call, lp_str event, lp_str data);
} lp_host_api;

#ifdef __cplusplus
}
#endif

#endif /* LLM_PROXY_ABI_H */
