// SIGHUP: the configuration file read again, checked as --check checks it (the plugins of its
// directories loaded, every instance created), and served from then on. Requests in progress
// finish on the runtime they started on, streams included; the old runtime is freed when its last
// request (and its end-of-request work) ends. A configuration with errors is refused, each error
// logged, and the running one goes on. Settings the running server was built with (the listening
// address, threads, connection limits and timeouts) are logged as needing a restart.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "loop/finish_queue.hpp"
#include "metrics/registry.hpp"
#include "plugins/plugin_registry.hpp"
#include "server/gateway_handler.hpp"

namespace llmproxy {

// Keeps plugin instances' [main-thread] promise across reloads: a runtime whose last reference
// goes on another thread (a request's fiber, the finish queue) is handed back here, and the main
// thread frees it (instance_free) in free_retired().
class RetiredRuntimes {
  public:
    RetiredRuntimes() : main_(std::this_thread::get_id()) {}
    ~RetiredRuntimes() { free_retired(); }

    // A runtime, owned so that its end comes back to the main thread.
    std::shared_ptr<Runtime> adopt(std::unique_ptr<Runtime> runtime);
    // [main thread] Frees every runtime handed back since the last call.
    void free_retired();

  private:
    const std::thread::id main_;
    std::mutex mutex_;
    std::vector<Runtime*> retired_;
};

class Reloader {
  public:
    // file: the configuration file; running: the configuration in force; plugin_dirs: the
    // directories loaded at start besides the configuration's own (bundled, --plugin-dir);
    // lasting: what every runtime shares (the first runtime's).
    Reloader(std::string file, const Config& running, std::vector<std::string> plugin_dirs,
             PluginRegistry& plugins, GatewayHandler& handler, LastingState lasting,
             RetiredRuntimes& retired);

    // [main thread] Reads, checks and swaps in the configuration; false when it was refused.
    bool reload();

  private:
    const std::string file_;
    const ServerConfig running_;
    const StateConfig running_state_;  // lasting_.limits keeps it
    const std::vector<std::string> plugin_dirs_;
    PluginRegistry& plugins_;
    GatewayHandler& handler_;
    const LastingState lasting_;
    RetiredRuntimes& retired_;
};

// The [server] settings that differ between a and b and take a restart to change, each as
// "port (3000 -> 3001)".
std::vector<std::string> settings_needing_restart(const ServerConfig& a, const ServerConfig& b);

}  // namespace llmproxy
