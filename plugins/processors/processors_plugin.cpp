// processors.so: the bundled request processors.
#include <llm_proxy/cpp/plugin.hpp>

#include "processors.hpp"

LLM_PROXY_PLUGIN(
    "org.llm-proxy.processors", "1.0.0",
    "The bundled processors: logger, openai_chat, system_prompt, params, redact, guard",
    processors::logger_export(), processors::openai_chat_export(),
    processors::system_prompt_export(), processors::params_export(), processors::redact_export(),
    processors::guard_export());
