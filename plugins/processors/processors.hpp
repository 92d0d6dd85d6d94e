// The bundled processors, exported by processors.so; each file defines one.
#pragma once

#include <llm_proxy/plugin.h>

namespace processors {

lp_export logger_export();         // logger.cpp
lp_export openai_chat_export();    // openai_chat.cpp
lp_export system_prompt_export();  // system_prompt.cpp
lp_export params_export();         // params.cpp
lp_export redact_export();         // redact.cpp
lp_export guard_export();          // guard.cpp

}  // namespace processors
