// llm-proxy: command line, logging, start-up and shut-down.
#include <Poco/Exception.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "limits/limit_store.hpp"
#include "logging/log_text.hpp"
#include "plugins/plugin_registry.hpp"
#include "runtime/runtime.hpp"
#include "server/gateway_handler.hpp"
#include "server/reloader.hpp"
#include "server/server.hpp"
#include "tools/keys_command.hpp"
#include "tools/plugin_check.hpp"
#include "version.hpp"

namespace {

constexpr const char* kUsage = R"(usage: llm-proxy --config FILE [--check] [--plugin-dir DIR]...
       llm-proxy plugin check FILE.so [--type NAME] [--config JSON] [--verbose]
                              [--upstream-answer FILE] [--upstream-stream FILE]
       llm-proxy keys create|list|revoke ...   (llm-proxy keys --help)

An OpenAI-compatible LLM gateway with provider and processor plugins.

  --config FILE      the TOML configuration to serve (see config/default.toml)
  --check            validate the configuration and the plugins it needs, then exit:
                     0 when llm-proxy would start, 1 with the reasons when it would not
  --plugin-dir DIR   also load every *.so plugin in DIR, relative to the working directory
                     (repeatable; [plugins] dirs in the config adds more, relative to the
                     config file). The plugins built with llm-proxy are always loaded: from
                     plugins/ beside the executable in a build tree, from lib/llm-proxy/plugins
                     of the prefix when installed.
  --help             show this help
  --version          show the version and the plugin ABI version

plugin check FILE.so  load one plugin alone and exercise it as the host would (lifecycle, error
                     paths, concurrency, streams split at every byte, chat and embedding
                     requests); prints the settings its instances get, a verdict per check, and
                     exits 1 when any fails (2 when the options are wrong).
  --type NAME        check this export only
  --config JSON      instance settings, read as llm-proxy reads a config (numbers and booleans
                     where TOML takes them, unknown keys refused): {"base_url","api_key","type",
                     "options"} for providers ("type": "chat" or "embedding"; both when absent),
                     {"config_value","additional_config"} for processors. The checker supplies
                     the rest and says so.
  --verbose          also show the plugin's log lines and what each hook produced
  --upstream-answer FILE, --upstream-stream FILE
                     a whole upstream answer (the body) and an upstream stream (SSE bytes) in
                     the upstream's own format, which providers are checked with instead of the
                     OpenAI-format samples: for providers that translate (plugins/anthropic/check)

keys                 manages the client keys of [auth] keys_file; see llm-proxy keys --help

Environment: LLM_PROXY_LOG_LEVEL (trace|debug|info|warn|error|off) overrides [server] log_level.
)";

struct Options {
    std::string config;
    bool check = false;
    std::vector<std::string> plugin_dirs;
};

int usage_error(const std::string& message) {
    std::cerr << "llm-proxy: " << message << "\n\n" << kUsage;
    return 2;
}

// The directories holding the plugins built or installed with this executable.
std::vector<std::string> bundled_plugin_dirs() {
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec)
        return {};
    auto dir = exe.parent_path();
    std::vector<std::string> dirs;
    for (auto candidate : {dir / "plugins", dir / LLM_PROXY_INSTALLED_PLUGIN_DIR})
        if (std::filesystem::is_directory(candidate, ec))
            dirs.push_back(candidate.lexically_normal().string());
    return dirs;
}

// Where the status page's files may be: built beside the executable, or installed.
std::vector<std::filesystem::path> status_page_dirs() {
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec)
        return {};
    const auto dir = exe.parent_path();
    return {(dir / "status").lexically_normal(),
            (dir / LLM_PROXY_INSTALLED_STATUS_DIR).lexically_normal()};
}

void setup_logging(const std::string& config_level) {
    auto logger = spdlog::stderr_color_mt("llm-proxy");
    spdlog::set_default_logger(logger);
    llmproxy::escape_controls_in_log("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
    const char* env = std::getenv("LLM_PROXY_LOG_LEVEL");
    spdlog::set_level(spdlog::level::from_str(env && *env ? env : config_level));
}

int plugin_check_command(int argc, char** argv) {
    llmproxy::PluginCheckOptions options;
    for (int i = 3; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--config" && i + 1 < argc)
            options.config_json = argv[++i];
        else if (arg == "--type" && i + 1 < argc)
            options.type = argv[++i];
        else if (arg == "--upstream-answer" && i + 1 < argc)
            options.upstream_answer_file = argv[++i];
        else if (arg == "--upstream-stream" && i + 1 < argc)
            options.upstream_stream_file = argv[++i];
        else if (arg == "--verbose" || arg == "-v")
            options.verbose = true;
        else if (options.file.empty() && arg.rfind("--", 0) != 0)
            options.file = arg;
        else
            return usage_error("unknown or incomplete argument '" + arg + "'");
    }
    if (options.file.empty())
        return usage_error("plugin check needs the plugin file");
    spdlog::set_level(spdlog::level::off);  // the verdicts carry the messages (--verbose: the logs)
    return llmproxy::run_plugin_check(options, std::cout, std::cerr);
}

// Every connection takes one file descriptor, and one more while it talks to an upstream: the
// default soft limit (often 1,024) would stop a gateway long before max_connections. Raises the
// soft limit to the hard one, as nginx's worker_rlimit_nofile and Go's runtime do.
void raise_file_limit(const llmproxy::ServerConfig& server) {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return;
    if (limit.rlim_cur < limit.rlim_max) {
        rlimit raised{limit.rlim_max, limit.rlim_max};
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0)
            limit = raised;
    }
    const auto wanted = static_cast<rlim_t>(server.max_connections) * 2 + 64;
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < wanted)
        spdlog::warn(
            "open files are limited to {} (ulimit -n; hard limit {}), fewer than the {} that "
            "[server] max_connections = {} may need; connections beyond it wait in the listen "
            "queue",
            limit.rlim_cur, limit.rlim_max, wanted, server.max_connections);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc >= 3 && std::string(argv[1]) == "plugin" && std::string(argv[2]) == "check")
        return plugin_check_command(argc, argv);
    if (argc >= 2 && std::string(argv[1]) == "keys") {
        const std::vector<std::string> args(argv + 2, argv + argc);
        if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
            std::cout << llmproxy::kKeysUsage;
            return 0;
        }
        return llmproxy::run_keys_command(args, std::cout, std::cerr, std::time(nullptr));
    }
    Options options;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            std::cout << kUsage;
            return 0;
        } else if (arg == "--version") {
            std::cout << "llm-proxy " << LLM_PROXY_VERSION << " (plugin ABI " << LP_ABI_MAJOR << "."
                      << LP_ABI_MINOR << ")\n";
            return 0;
        } else if (arg == "--check") {
            options.check = true;
        } else if ((arg == "--config" || arg == "--plugin-dir") && i + 1 < argc) {
            (arg == "--config" ? options.config = argv[++i]
                               : options.plugin_dirs.emplace_back(argv[++i]));
        } else {
            return usage_error("unknown or incomplete argument '" + arg + "'");
        }
    }
    if (options.config.empty())
        return usage_error("--config FILE is required");

    std::signal(SIGPIPE, SIG_IGN);
    // Block the stop and reload signals in every thread; main waits for them below.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    sigset_t signals = stop_signals;
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    llmproxy::Config config;
    try {
        config = llmproxy::load_config(options.config);
    } catch (const llmproxy::ConfigError& e) {
        std::cerr << "llm-proxy: the configuration has errors:\n" << e.what();
        return 1;
    }
    setup_logging(config.server.log_level);
    raise_file_limit(config.server);

    // Declared in this order so that they go in the reverse one: every runtime (and its end-of-
    // request work) before the plugins, and the runtimes freed on the main thread.
    llmproxy::PluginRegistry plugins;
    std::vector<std::string> fixed_plugin_dirs = bundled_plugin_dirs();
    fixed_plugin_dirs.insert(fixed_plugin_dirs.end(), options.plugin_dirs.begin(),
                             options.plugin_dirs.end());
    for (const auto& dir : fixed_plugin_dirs)
        plugins.load_directory(dir);
    for (const auto& dir : config.plugin_dirs)
        plugins.load_directory(dir);
    llmproxy::RetiredRuntimes retired;
    std::shared_ptr<llmproxy::LimitStore> limits;
    try {
        limits = llmproxy::make_limit_store(config.state);
    } catch (const std::runtime_error& e) {
        std::cerr << "llm-proxy: cannot start: " << e.what() << "\n";
        return 1;
    }
    const llmproxy::LastingState lasting{std::make_shared<llmproxy::metrics::Registry>(),
                                         std::make_shared<llmproxy::FinishQueue>(), limits};
    // Last of all, on the way out: the end-of-request work still queued runs, and the runtimes
    // it held are freed here, before the registry of their plugins goes.
    struct FreeAtExit {
        llmproxy::FinishQueue& queue;
        llmproxy::RetiredRuntimes& retired;
        ~FreeAtExit() {
            queue.drain();
            retired.free_retired();
        }
    } free_at_exit{*lasting.finish_queue, retired};

    std::shared_ptr<llmproxy::Runtime> runtime;
    try {
        runtime = retired.adopt(std::make_unique<llmproxy::Runtime>(config, plugins, lasting));
    } catch (const llmproxy::ConfigError& e) {
        std::cerr << "llm-proxy: cannot start:\n" << e.what();
        return 1;
    }
    if (options.check) {
        std::cout << "llm-proxy: " << options.config << " is valid: " << config.llms.size()
                  << " llm(s), " << config.processors.size() << " processor(s), "
                  << config.routes.size() << " route(s), " << plugins.plugins().size()
                  << " plugin(s) loaded\n";
        return 0;
    }

    try {
        llmproxy::GatewayHandler handler(std::move(runtime), status_page_dirs());
        llmproxy::Server server(config.server, handler);
        llmproxy::Reloader reloader(options.config, config, fixed_plugin_dirs, plugins, handler,
                                    lasting, retired);
        server.start();
        spdlog::info("llm-proxy {} listening on http://{}:{} ({} routes, {} plugins)",
                     LLM_PROXY_VERSION, config.server.host, server.port(), config.routes.size(),
                     plugins.plugins().size());
        spdlog::info("rate limits: counters {}", lasting.limits->where());
        // SIGHUP reloads; SIGTERM or SIGINT stops. Runtimes a reload retired are freed here,
        // on this thread, once their last request has ended (checked every second).
        int signal = 0;
        for (;;) {
            const timespec second{1, 0};
            signal = sigtimedwait(&signals, nullptr, &second);
            retired.free_retired();
            if (signal == SIGHUP)
                reloader.reload();
            else if (signal > 0)
                break;
        }
        if (const int drain_ms = config.server.drain_delay_ms; drain_ms > 0) {
            server.start_draining();
            spdlog::info(
                "received signal {}; draining: /readyz says 503 for drain_delay_ms = {} "
                "before new connections are refused (a second signal ends it)",
                signal, drain_ms);
            const timespec drain{drain_ms / 1000, (drain_ms % 1000) * 1000000L};
            sigtimedwait(&stop_signals, nullptr, &drain);
        }
        spdlog::info("received signal {}; finishing requests in progress", signal);
        server.stop();
    } catch (const Poco::Exception& e) {
        spdlog::critical("cannot serve on {}:{}: {}", config.server.host, config.server.port,
                         e.displayText());
        return 1;
    }
    spdlog::info("stopped");
    return 0;
}
