/*
 * llm-proxy plugin ABI: the entry point. Include this header to write a plugin.
 *
 * A plugin is a shared object that exports exactly one symbol, LP_PLUGIN_ENTRY_SYMBOL, an
 * lp_plugin_entry object. Everything else travels through function tables. The host opens the file
 * with dlopen(RTLD_NOW | RTLD_LOCAL), checks the entry (struct_size, abi_major), calls init once,
 * then reads the exports: each one names an interface ("llm_proxy.provider/1",
 * "llm_proxy.processor/1" or "llm_proxy.client_api/1") and the name that configs use
 * (`provider = "openai"`, `type = "logger"`, `api = "anthropic"`). One plugin may export several.
 * A plugin is never unloaded before the process exits; deinit is called at shut-down after every
 * instance is freed.
 */
#ifndef LLM_PROXY_PLUGIN_H
#define LLM_PROXY_PLUGIN_H

#include "abi.h"
#include "client_api.h"
#include "processor.h"
#include "provider.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LP_PLUGIN_ENTRY_SYMBOL "llm_proxy_plugin_entry"

/* One interface implementation a plugin offers. OWNERSHIP: static, owned by the plugin, valid
 * until deinit returns. */
typedef struct lp_export {
    uint32_t struct_size;
    /* LP_PROVIDER_INTERFACE, LP_PROCESSOR_INTERFACE or (1.2) LP_CLIENT_API_INTERFACE */
    const char* interface_id;
    /* The name configs use: [a-z0-9_]+ (a plugin exporting another name is refused). When two
     * loaded plugins export one name, a config that uses it is refused, naming both files. */
    const char* type_name;
    const void* vtable; /* const lp_provider*, const lp_processor* or const lp_client_api* */
} lp_export;

typedef struct lp_plugin_entry {
    uint32_t struct_size;    /* sizeof(lp_plugin_entry) as the plugin was built */
    uint16_t abi_major;      /* LP_ABI_MAJOR as the plugin was built */
    uint16_t abi_minor;      /* LP_ABI_MINOR as the plugin was built */
    const char* plugin_id;   /* reverse-DNS id, e.g. "org.llm-proxy.openai"; NUL-terminated */
    const char* version;     /* the plugin's own version, e.g. "1.0.0" */
    const char* description; /* one line for humans */

    /* Called once, first. host stays valid until deinit returns. To refuse to run (a missing
     * resource, an unsupported host minor version), return LP_FAILED after set_error(call, ...)
     * saying why; the host then refuses the plugin with that message. REQUIRED.
     * THREADS: [main-thread]. */
    lp_status (*init)(const lp_host_api* host, lp_call* call);
    /* Called once at shut-down, after every instance was freed. OPTIONAL. THREADS: [main-thread].
     */
    void (*deinit)(void);

    /* The exports, valid from init until deinit. */
    const lp_export* exports;
    size_t export_count;
} lp_plugin_entry;

/* Declares the entry object with default visibility; plugins build with -fvisibility=hidden. */
#if defined(__GNUC__) || defined(__clang__)
#define LP_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define LP_PLUGIN_EXPORT
#endif

#ifdef __cplusplus
#define LP_DECLARE_PLUGIN_ENTRY \
    extern "C" LP_PLUGIN_EXPORT const lp_plugin_entry llm_proxy_plugin_entry
#else
#define LP_DECLARE_PLUGIN_ENTRY LP_PLUGIN_EXPORT const lp_plugin_entry llm_proxy_plugin_entry
#endif

#ifdef __cplusplus
}
#endif

#endif /* LLM_PROXY_PLUGIN_H */
