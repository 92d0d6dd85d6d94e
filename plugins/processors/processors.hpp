// The bundled processors, each a function table exported by processors.so.
#pragma once

#include <llm_proxy/processor.h>

namespace processors {

extern const lp_processor kLogger;        // logger.cpp
extern const lp_processor kOpenAiChat;    // openai_chat.cpp
extern const lp_processor kSystemPrompt;  // system_prompt.cpp
extern const lp_processor kParams;        // params.cpp
extern const lp_processor kRedact;        // redact.cpp
extern const lp_processor kGuard;         // guard.cpp

}  // namespace processors
