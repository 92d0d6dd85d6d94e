/* Compiled as C11 and C17 with -pedantic-errors -Wall -Wextra -Werror: the SDK headers are plain C.
 */
#include <llm_proxy/plugin.h>

/* A translation unit must declare something. */
typedef int sdk_headers_compile_as_c11;
