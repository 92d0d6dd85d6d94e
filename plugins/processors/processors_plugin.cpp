// processors.so: the bundled request processors.
#include <llm_proxy/plugin.h>

#include "processor_kit.hpp"
#include "processors.hpp"

namespace {

const lp_export kExports[] = {
    {sizeof(lp_export), LP_PROCESSOR_INTERFACE, "logger", &processors::kLogger},
    {sizeof(lp_export), LP_PROCESSOR_INTERFACE, "openai_chat", &processors::kOpenAiChat},
    {sizeof(lp_export), LP_PROCESSOR_INTERFACE, "system_prompt", &processors::kSystemPrompt},
    {sizeof(lp_export), LP_PROCESSOR_INTERFACE, "params", &processors::kParams},
    {sizeof(lp_export), LP_PROCESSOR_INTERFACE, "redact", &processors::kRedact},
    {sizeof(lp_export), LP_PROCESSOR_INTERFACE, "guard", &processors::kGuard},
};

lp_status init(const lp_host_api* host, lp_call*) {
    processors::set_host(host);
    return LP_CONTINUE;
}

}  // namespace

LP_DECLARE_PLUGIN_ENTRY = {
    sizeof(lp_plugin_entry),
    LP_ABI_MAJOR,
    LP_ABI_MINOR,
    "org.llm-proxy.processors",
    "1.0.0",
    "The bundled processors: logger, openai_chat, system_prompt, params, redact, guard",
    init,
    nullptr,
    kExports,
    sizeof(kExports) / sizeof(kExports[0]),
};
