// Every call from the host into plugin code goes through invoke_hook or invoke_plugin: they label
// the plugin's log lines with the plugin and instance running (lp_host_api.log takes no lp_call,
// so the host keeps that label per thread, PluginScope), and stop any C++ exception a plugin lets
// escape at the boundary.
//
// Hooks run on event-loop fibers, and a hook may suspend inside call_llm while other fibers run
// hooks of their own on the same thread. So whatever can suspend a fiber in the middle of a hook
// opens a PluginScope(nullptr) around the wait: other fibers then start from an empty scope, and
// the hook's own label is back when the wait returns.
#pragma once

#include <spdlog/spdlog.h>

#include <string>
#include <string_view>

#include "plugins/host_call.hpp"

namespace llmproxy {

class PluginScope {
  public:
    // Labels this thread's plugin log lines with *plugin (e.g. "org.llm-proxy.openai
    // [llm.openai_chat]") until the scope ends, then restores the label before it. nullptr: none.
    // *plugin must outlive the scope.
    explicit PluginScope(const std::string* plugin) : previous_(current_) { current_ = plugin; }
    ~PluginScope() { current_ = previous_; }
    PluginScope(const PluginScope&) = delete;
    PluginScope& operator=(const PluginScope&) = delete;

    // The label of the plugin running on this thread, or nullptr.
    static const std::string* current() { return current_; }

  private:
    static inline thread_local const std::string* current_ = nullptr;
    const std::string* previous_;
};

// Runs a hook of `plugin` that reports through `call` (hook returns its lp_status). An exception
// escaping the plugin is a plugin bug: the hook fails with a 500 naming call.where().
template <typename Hook>
lp_status invoke_hook(const std::string& plugin, lp_call& call, Hook&& hook) {
    PluginScope scope(&plugin);
    try {
        return hook();
    } catch (...) {
        call.set_error(500, "server_error", "plugin_exception",
                       call.where() + " threw an exception across the plugin ABI");
        return LP_FAILED;
    }
}

// Runs a function of `plugin` that has no lp_call (request_free, on_finish, instance_free,
// deinit); `what` names it in the error logged when an exception escapes.
template <typename Fn>
void invoke_plugin(const std::string& plugin, std::string_view what, Fn&& fn) noexcept {
    PluginScope scope(&plugin);
    try {
        fn();
    } catch (...) {
        spdlog::error("{}: {} threw an exception across the plugin ABI", plugin, what);
    }
}

}  // namespace llmproxy
