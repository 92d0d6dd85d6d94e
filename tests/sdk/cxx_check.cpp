// Compiled as C++17 and C++20 with -pedantic-errors -Werror: the SDK headers serve C++ plugins.
#include <llm_proxy/plugin.h>

static_assert(sizeof(lp_plugin_entry) > 0, "the headers compile as C++");
