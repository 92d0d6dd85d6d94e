// Small helpers shared by the bundled C++ plugins: lp_str conversions and error reporting through
// the host API. Header-only; plugins stay self-contained shared objects.
#pragma once

#include <llm_proxy/plugin.h>

#include <string>
#include <string_view>

namespace lp_support {

inline std::string_view view(lp_str s) {
    return s.len ? std::string_view(s.ptr, s.len) : std::string_view();
}
inline lp_str str(std::string_view s) {
    return {s.data(), s.size()};
}

// Reports a failure on call and returns LP_FAILED, for `return fail(...)` in hooks.
inline lp_status fail(const lp_host_api* host, lp_call* call, int status, std::string_view type,
                      std::string_view code, std::string_view message) {
    host->set_error(call, status, str(type), str(code), str(message));
    return LP_FAILED;
}

}  // namespace lp_support
