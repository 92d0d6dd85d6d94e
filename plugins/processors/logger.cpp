// `logger`: logs each request of its route and how it ended, through the host's log.
//   config_value: the level (trace, debug, info, warn, error; default info)
//   additional_config.max_content_chars: longest message text shown (default 200)
//   additional_config.headers: also log the request headers (default false)
// On a route with auth, the line names the client key's id (key=ID).
// Credentials never reach the log: Authorization, api-key, x-api-key, cookie and proxy-
// authorization headers are masked, and API-key shapes inside message texts are masked too.
#include <strings.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstring>

#include "patterns.hpp"
#include "processor_kit.hpp"
#include "processors.hpp"

namespace processors {

namespace {

lp_log_level parse_level(std::string_view text) {
    static const std::pair<std::string_view, lp_log_level> kLevels[] = {{"trace", LP_LOG_TRACE},
                                                                        {"debug", LP_LOG_DEBUG},
                                                                        {"info", LP_LOG_INFO},
                                                                        {"warn", LP_LOG_WARN},
                                                                        {"error", LP_LOG_ERROR}};
    for (const auto& [name, value] : kLevels)
        if (name == text)
            return value;
    throw Error("config_value must be a log level: trace, debug, info, warn or error");
}

bool is_credential(std::string_view header) {
    for (const char* name :
         {"authorization", "proxy-authorization", "api-key", "x-api-key", "cookie"})
        if (header.size() == std::strlen(name) &&
            strncasecmp(header.data(), name, header.size()) == 0)
            return true;
    return false;
}

// A field value as logfmt writes it: as it is when plain, else quoted and escaped, so that a
// value from a client (a model name with a line break or " status=200" in it) cannot end the line
// or add fields of its own.
std::string field(std::string_view value) {
    bool plain = !value.empty() && std::none_of(value.begin(), value.end(), [](char c) {
        unsigned char b = static_cast<unsigned char>(c);
        return b <= ' ' || b == 0x7f || c == '"' || c == '=' || c == '\\';
    });
    return plain ? std::string(value) : json_string(value);
}

std::string milliseconds(double ms) {
    char text[32];
    std::snprintf(text, sizeof text, "%.3f", ms);
    return text;
}

class Logger : public llm_proxy::Processor {
  public:
    explicit Logger(const llm_proxy::ProcessorSettings& settings) : name_(settings.name) {
        if (!settings.config_value.empty())
            level_ = parse_level(settings.config_value);
        Settings extra(settings.additional_config_json);
        max_content_chars_ = extra.count("max_content_chars", 200);
        headers_ = extra.boolean("headers", false);
        extra.finish();
    }

    lp_status on_request(Call& call, const lp_request_view& request, RequestState*) override {
        if (!llm_proxy::Host::log_enabled(level_))
            return LP_CONTINUE;
        std::string line = "[" + name_ +
                           "] request route=" + field(llm_proxy::view(request.route_prefix)) +
                           " model=" + field(llm_proxy::view(request.model)) +
                           " stream=" + (request.stream ? "true" : "false");
        if (auto key = llm_proxy::request_key_id(request); !key.empty())
            line += " key=" + field(key);
        if (headers_)
            for (std::size_t i = 0; i < request.header_count; ++i) {
                std::string_view name = llm_proxy::view(request.headers[i].name);
                line +=
                    " header." + std::string(name) + "=" +
                    (is_credential(name) ? std::string("[REDACTED]")
                                         : field(shown(llm_proxy::view(request.headers[i].value))));
            }
        std::size_t index = 0;
        for_each_message_text(call, [&](const std::string& pointer, std::string_view text) {
            std::string message = pointer.substr(0, pointer.find('/', 10));  // "/messages/N"
            auto role = call.get_string(message + "/role");
            line += " message[" + std::to_string(index++) + "]." + field(role.value_or("?")) + "=" +
                    json_string(shown(text));
        });
        llm_proxy::Host::log(level_, line);
        return LP_CONTINUE;
    }

    void on_finish(const lp_request_outcome& outcome, RequestState*) override {
        if (!llm_proxy::Host::log_enabled(level_))
            return;
        std::string line = "[" + name_ +
                           "] finished status=" + std::to_string(outcome.http_status) +
                           " upstream_status=" + std::to_string(outcome.upstream_status) +
                           " streamed=" + (outcome.streamed ? "true" : "false") +
                           " client_gone=" + (outcome.client_gone ? "true" : "false") +
                           " duration_ms=" + milliseconds(outcome.duration_ms) +
                           " prompt_tokens=" + std::to_string(outcome.prompt_tokens) +
                           " completion_tokens=" + std::to_string(outcome.completion_tokens);
        // 1.3 hosts say what retries and fallbacks did.
        if (outcome.struct_size >= offsetof(lp_request_outcome, upstream_model) + sizeof(lp_str))
            line += " attempts=" + std::to_string(outcome.attempts) +
                    " llm=" + std::string(llm_proxy::view(outcome.llm_name)) +
                    " upstream_model=" + json_string(llm_proxy::view(outcome.upstream_model));
        if (outcome.error_message.len)
            line += " error=" + json_string(llm_proxy::view(outcome.error_message));
        llm_proxy::Host::log(level_, line);
    }

  private:
    std::string shown(std::string_view text) const {
        std::string safe = secrets_.redact(text, "[REDACTED]").value_or(std::string(text));
        if (safe.size() <= max_content_chars_)
            return safe;
        std::size_t cut = max_content_chars_;
        while (cut > 0 && (static_cast<unsigned char>(safe[cut]) & 0xC0) == 0x80)
            --cut;  // never cut a UTF-8 sequence
        return safe.substr(0, cut) + "... (" + std::to_string(safe.size()) + " chars)";
    }

    std::string name_;
    lp_log_level level_ = LP_LOG_INFO;
    std::size_t max_content_chars_ = 200;
    bool headers_ = false;
    PatternSet secrets_{{"api_key"}, {}, "logger"};
};

}  // namespace

lp_export logger_export() {
    return llm_proxy::processor_export<Logger>("logger");
}

}  // namespace processors
