// `logger`: logs each request of its route and how it ended, through the host's log.
//   config_value: the level (trace, debug, info, warn, error; default info)
//   additional_config.max_content_chars: longest message text shown (default 200)
//   additional_config.headers: also log the request headers (default false)
// Credentials never reach the log: Authorization, api-key, x-api-key, cookie and proxy-
// authorization headers are masked, and API-key shapes inside message texts are masked too.
#include <strings.h>

#include "patterns.hpp"
#include "processor_kit.hpp"
#include "processors.hpp"

namespace processors {

namespace {

struct Logger {
    std::string name;
    lp_log_level level = LP_LOG_INFO;
    std::size_t max_content_chars = 200;
    bool headers = false;
    PatternSet secrets{{"api_key"}, {}, "logger"};
};

lp_log_level parse_level(std::string_view text) {
    static const std::pair<std::string_view, lp_log_level> kLevels[] = {{"trace", LP_LOG_TRACE},
                                                                        {"debug", LP_LOG_DEBUG},
                                                                        {"info", LP_LOG_INFO},
                                                                        {"warn", LP_LOG_WARN},
                                                                        {"error", LP_LOG_ERROR}};
    for (const auto& [name, value] : kLevels)
        if (name == text)
            return value;
    throw ConfigMistake("config_value must be a log level: trace, debug, info, warn or error");
}

bool is_credential(std::string_view header) {
    for (const char* name :
         {"authorization", "proxy-authorization", "api-key", "x-api-key", "cookie"})
        if (header.size() == std::strlen(name) &&
            strncasecmp(header.data(), name, header.size()) == 0)
            return true;
    return false;
}

std::string shown(const Logger& logger, std::string_view text) {
    std::string safe = logger.secrets.redact(text, "[REDACTED]").value_or(std::string(text));
    if (safe.size() <= logger.max_content_chars)
        return safe;
    std::size_t cut = logger.max_content_chars;
    while (cut > 0 && (static_cast<unsigned char>(safe[cut]) & 0xC0) == 0x80)
        --cut;  // UTF-8
    return safe.substr(0, cut) + "... (" + std::to_string(safe.size()) + " chars)";
}

lp_status instance_new(const lp_processor_config* config, lp_call* call, void** out) {
    return create_instance(call, out, [&] {
        auto logger = std::make_unique<Logger>();
        logger->name = std::string(view(config->name));
        if (config->config_value.len)
            logger->level = parse_level(view(config->config_value));
        Settings settings(config->additional_config_json);
        logger->max_content_chars = settings.count("max_content_chars", 200);
        logger->headers = settings.boolean("headers", false);
        settings.finish();
        return static_cast<void*>(logger.release());
    });
}

void instance_free(void* instance) {
    delete static_cast<Logger*>(instance);
}

lp_status on_request(void* instance, void*, lp_call* call, const lp_request_view* request) {
    const auto& logger = *static_cast<Logger*>(instance);
    if (!host()->log_enabled(logger.level))
        return LP_CONTINUE;
    return lp_support::guarded(host(), call, [&] {
        std::string line = "[" + logger.name +
                           "] request route=" + std::string(view(request->route_prefix)) +
                           " model=" + std::string(view(request->model)) +
                           " stream=" + (request->stream ? "true" : "false");
        if (logger.headers)
            for (std::size_t i = 0; i < request->header_count; ++i) {
                std::string_view name = view(request->headers[i].name);
                line += " header." + std::string(name) + "=" +
                        (is_credential(name) ? std::string("[REDACTED]")
                                             : shown(logger, view(request->headers[i].value)));
            }
        Body body(call);
        std::size_t index = 0;
        body.for_each_message_text([&](const std::string& pointer, std::string_view text) {
            auto slash = pointer.find('/', 10);  // "/messages/N/..."
            std::string message = pointer.substr(0, slash);
            auto role = body.get_string(message + "/role");
            line += " message[" + std::to_string(index++) + "]." + std::string(role.value_or("?")) +
                    "=" + json_string(shown(logger, text));
        });
        log(logger.level, line);
        return LP_CONTINUE;
    });
}

void on_finish(void* instance, void*, const lp_request_outcome* outcome) {
    const auto& logger = *static_cast<Logger*>(instance);
    if (!host()->log_enabled(logger.level))
        return;
    try {
        std::string line = "[" + logger.name +
                           "] finished status=" + std::to_string(outcome->http_status) +
                           " upstream_status=" + std::to_string(outcome->upstream_status) +
                           " streamed=" + (outcome->streamed ? "true" : "false") +
                           " client_gone=" + (outcome->client_gone ? "true" : "false") +
                           " duration_ms=" + std::to_string(outcome->duration_ms) +
                           " prompt_tokens=" + std::to_string(outcome->prompt_tokens) +
                           " completion_tokens=" + std::to_string(outcome->completion_tokens);
        if (outcome->error_message.len)
            line += " error=" + std::string(view(outcome->error_message));
        log(logger.level, line);
    } catch (...) {
        // Logging must never take the host down.
    }
}

}  // namespace

const lp_processor kLogger = {
    sizeof(lp_processor), instance_new, instance_free, nullptr,   nullptr,
    on_request,           nullptr,      nullptr,       on_finish,
};

}  // namespace processors
