#include <spdlog/spdlog.h>

#include "plugins/host_call.hpp"
#include "plugins/plugin_invoke.hpp"

void lp_call::set_error(int status, std::string_view type, std::string_view code,
                        std::string_view message) {
    if (status < 400 || status > 599)
        status = 500;
    error_ = llmproxy::ApiError{status, type.empty() ? "server_error" : std::string(type),
                                std::string(code), std::string(message)};
}

llmproxy::ApiError lp_call::error_or_default() const {
    if (error_)
        return *error_;
    return llmproxy::ApiError::internal(where() + " failed without saying why");
}

void lp_call::misuse(const char* function) const {
    spdlog::warn("{} called {}, which is not available there; the call is ignored", where(),
                 function);
}

namespace llmproxy {

std::string HookSite::text() const {
    if (kind_.empty())
        return std::string(hook_);
    std::string text;
    text.reserve(kind_.size() + name_.size() + hook_.size() + 4);
    text.append(kind_).append(" '").append(name_).append("' ").append(hook_);
    return text;
}

namespace {

// Every entry point catches everything: an exception must never unwind into plugin code.
template <typename Fn>
void guarded(const char* function, Fn&& fn) {
    try {
        fn();
    } catch (const std::exception& e) {
        spdlog::error("host function {} failed: {}", function, e.what());
    } catch (...) {
        spdlog::error("host function {} failed", function);
    }
}

spdlog::level::level_enum spdlog_level(lp_log_level level) {
    switch (level) {
        case LP_LOG_TRACE:
            return spdlog::level::trace;
        case LP_LOG_DEBUG:
            return spdlog::level::debug;
        case LP_LOG_WARN:
            return spdlog::level::warn;
        case LP_LOG_ERROR:
            return spdlog::level::err;
        default:
            return spdlog::level::info;
    }
}

void host_log(lp_log_level level, lp_str message) {
    guarded("log", [&] {
        // Lines from threads of the plugin's own have no scope.
        if (const std::string* plugin = PluginScope::current())
            spdlog::log(spdlog_level(level), "plugin {}: {}", *plugin, view(message));
        else
            spdlog::log(spdlog_level(level), "plugin: {}", view(message));
    });
}

int32_t host_log_enabled(lp_log_level level) {
    return spdlog::default_logger_raw()->should_log(spdlog_level(level)) ? 1 : 0;
}

void host_set_error(lp_call* call, int32_t status, lp_str type, lp_str code, lp_str message) {
    if (!call)
        return;
    guarded("set_error", [&] { call->set_error(status, view(type), view(code), view(message)); });
}

void host_set_upstream_method(lp_call* call, lp_str method) {
    if (call)
        guarded("set_upstream_method", [&] { call->set_upstream_method(view(method)); });
}

void host_set_upstream_path(lp_call* call, lp_str path) {
    if (call)
        guarded("set_upstream_path", [&] { call->set_upstream_path(view(path)); });
}

void host_set_upstream_header(lp_call* call, lp_str name, lp_str value) {
    if (call)
        guarded("set_upstream_header", [&] { call->set_upstream_header(view(name), view(value)); });
}

void host_set_body(lp_call* call, lp_str body) {
    if (call)
        guarded("set_body", [&] { call->set_body(view(body)); });
}

void host_respond(lp_call* call, int32_t status, lp_str content_type, lp_str body) {
    if (call)
        guarded("respond", [&] { call->respond(status, view(content_type), view(body)); });
}

void host_emit_event(lp_call* call, lp_str data) {
    if (call)
        guarded("emit_event", [&] { call->emit_event(view(data)); });
}

void host_emit_named_event(lp_call* call, lp_str event, lp_str data) {
    if (call)
        guarded("emit_named_event", [&] { call->emit_named_event(view(event), view(data)); });
}

lp_status host_get_field(lp_call* call, lp_str pointer, lp_str* value_json) {
    bool found = false;
    if (call && value_json)
        guarded("get_field", [&] { found = call->get_field(view(pointer), *value_json); });
    return found ? LP_CONTINUE : LP_FAILED;
}

lp_status host_get_string_field(lp_call* call, lp_str pointer, lp_str* value) {
    bool found = false;
    if (call && value)
        guarded("get_string_field", [&] { found = call->get_string_field(view(pointer), *value); });
    return found ? LP_CONTINUE : LP_FAILED;
}

lp_status host_edit_field(lp_call* call, lp_edit op, lp_str pointer, lp_str value_json) {
    bool done = false;
    if (call)
        guarded("edit_field",
                [&] { done = call->edit_field(op, view(pointer), view(value_json)); });
    return done ? LP_CONTINUE : LP_FAILED;
}

lp_status host_call_llm(lp_call* call, lp_str llm_name, lp_str request_body,
                        lp_llm_answer* answer) {
    bool answered = false;
    // The fiber waits in here, and other fibers run hooks on this thread meanwhile.
    PluginScope waiting(nullptr);
    if (call && answer)
        guarded("call_llm",
                [&] { answered = call->call_llm(view(llm_name), view(request_body), *answer); });
    return answered ? LP_CONTINUE : LP_FAILED;
}

const lp_host_api kHostApi = {
    sizeof(lp_host_api),    LP_ABI_MAJOR,
    LP_ABI_MINOR,           host_log,
    host_set_error,         host_set_upstream_method,
    host_set_upstream_path, host_set_upstream_header,
    host_set_body,          host_respond,
    host_emit_event,        host_get_field,
    host_get_string_field,  host_edit_field,
    host_call_llm,          host_log_enabled,
    host_emit_named_event,
};

}  // namespace

const lp_host_api* host_api() {
    return &kHostApi;
}

}  // namespace llmproxy
