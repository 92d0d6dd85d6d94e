#include "server/reloader.hpp"

#include <spdlog/spdlog.h>

#include <cstdlib>

#include "runtime/runtime.hpp"

namespace llmproxy {

namespace {

template <typename T>
void compare(std::vector<std::string>& out, const char* key, const T& a, const T& b) {
    if (a != b)
        out.push_back(fmt::format("{} ({} -> {})", key, a, b));
}

// Says the reload ended refused (after the reasons), for false.
bool refused() {
    spdlog::error("reload: refused; the running configuration goes on");
    return false;
}

}  // namespace

std::vector<std::string> settings_needing_restart(const ServerConfig& a, const ServerConfig& b) {
    std::vector<std::string> out;
    compare(out, "host", a.host, b.host);
    compare(out, "port", a.port, b.port);
    compare(out, "worker_threads", a.worker_threads, b.worker_threads);
    compare(out, "max_connections", a.max_connections, b.max_connections);
    compare(out, "max_buffered_body_bytes", a.max_buffered_body_bytes, b.max_buffered_body_bytes);
    compare(out, "request_head_timeout_ms", a.request_head_timeout_ms, b.request_head_timeout_ms);
    compare(out, "request_body_timeout_ms", a.request_body_timeout_ms, b.request_body_timeout_ms);
    compare(out, "request_body_min_rate", a.request_body_min_rate, b.request_body_min_rate);
    compare(out, "keep_alive_timeout_ms", a.keep_alive_timeout_ms, b.keep_alive_timeout_ms);
    compare(out, "client_send_timeout_ms", a.client_send_timeout_ms, b.client_send_timeout_ms);
    compare(out, "shutdown_grace_ms", a.shutdown_grace_ms, b.shutdown_grace_ms);
    compare(out, "drain_delay_ms", a.drain_delay_ms, b.drain_delay_ms);
    return out;
}

std::shared_ptr<Runtime> RetiredRuntimes::adopt(std::unique_ptr<Runtime> runtime) {
    return std::shared_ptr<Runtime>(runtime.release(), [this](Runtime* done) {
        if (std::this_thread::get_id() == main_) {
            delete done;
            return;
        }
        std::lock_guard lock(mutex_);
        retired_.push_back(done);
    });
}

void RetiredRuntimes::free_retired() {
    std::vector<Runtime*> done;
    {
        std::lock_guard lock(mutex_);
        done.swap(retired_);
    }
    for (Runtime* runtime : done)
        delete runtime;
}

Reloader::Reloader(std::string file, const Config& running, std::vector<std::string> plugin_dirs,
                   PluginRegistry& plugins, GatewayHandler& handler, LastingState lasting,
                   RetiredRuntimes& retired)
    : file_(std::move(file)),
      running_(running.server),
      running_state_(running.state),
      plugin_dirs_(std::move(plugin_dirs)),
      plugins_(plugins),
      handler_(handler),
      lasting_(std::move(lasting)),
      retired_(retired) {}

bool Reloader::reload() {
    spdlog::info("reload: reading {}", file_);
    // Plugins built before 1.4 were promised no [main-thread] call while requests are served.
    for (const auto& plugin : plugins_.plugins())
        if (plugin->abi_minor < 4) {
            spdlog::error(
                "reload refused: plugin {} ({}) was built for ABI {}.{}, which promised "
                "that instances are never created or freed while requests are served; "
                "rebuild it against ABI 1.4 or later to allow reloads, or restart",
                plugin->id, plugin->file, plugin->abi_major, plugin->abi_minor);
            return refused();
        }
    std::shared_ptr<Runtime> runtime;
    try {
        Config config = load_config(file_);
        // New plugin files in the directories load; those loaded before stay as they are.
        for (const auto& dir : plugin_dirs_)
            plugins_.load_directory(dir);
        for (const auto& dir : config.plugin_dirs)
            plugins_.load_directory(dir);
        for (const auto& setting : settings_needing_restart(running_, config.server))
            spdlog::warn(
                "reload: [server] {} takes a restart to change; the running server "
                "keeps its setting",
                setting);
        if (!(config.state == running_state_))
            spdlog::warn(
                "reload: [state] takes a restart to change; the rate limits' counters stay {}",
                lasting_.limits->where());
        runtime = retired_.adopt(std::make_unique<Runtime>(std::move(config), plugins_, lasting_));
    } catch (const ConfigError& e) {
        spdlog::error("reload refused: {} has {} error(s):", file_, e.problems().size());
        for (const auto& problem : e.problems())
            spdlog::error("reload refused: {}", problem.to_string());
        return refused();
    } catch (const std::exception& e) {
        spdlog::error("reload refused: {}", e.what());
        return refused();
    }
    const char* level = std::getenv("LLM_PROXY_LOG_LEVEL");
    if (!(level && *level))
        spdlog::set_level(spdlog::level::from_str(runtime->config().server.log_level));
    const std::size_t routes = runtime->config().routes.size();
    handler_.serve(std::move(runtime));
    spdlog::info("reload: serving {} ({} routes); requests in progress finish as they started",
                 file_, routes);
    return true;
}

}  // namespace llmproxy
