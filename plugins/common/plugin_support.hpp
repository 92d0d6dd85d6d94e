// Small helpers shared by the bundled C++ plugins: lp_str conversions and error reporting through
// the host API. Header-only; plugins stay self-contained shared objects.
#pragma once

#include <llm_proxy/plugin.h>

#include <exception>
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

// Runs a hook body, turning any C++ exception into LP_FAILED with its message: exceptions must
// never cross the C ABI.
template <typename Body>
lp_status guarded(const lp_host_api* host, lp_call* call, Body&& body) {
    try {
        return body();
    } catch (const std::exception& e) {
        return fail(host, call, 500, "server_error", "plugin_error", e.what());
    } catch (...) {
        return fail(host, call, 500, "server_error", "plugin_error", "unknown exception");
    }
}

}  // namespace lp_support
