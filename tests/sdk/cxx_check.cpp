// Compiled as C++17 and C++20 with -pedantic-errors -Werror: the SDK headers, the C++ layer
// included, serve C++ plugins.
#include <llm_proxy/cpp/plugin.hpp>
#include <llm_proxy/plugin.h>

static_assert(sizeof(lp_plugin_entry) > 0, "the C headers compile as C++");
static_assert(sizeof(llm_proxy::Error) > 0, "the C++ layer compiles");
