#include "limits/limit_store.hpp"

#include <cstdlib>
#include <stdexcept>

#include "limits/local_limit_store.hpp"
#include "limits/redis_limit_store.hpp"

namespace llmproxy {

std::string_view kind_name(LimitKind kind) {
    switch (kind) {
        case LimitKind::requests:
            return "requests";
        case LimitKind::tokens:
            return "tokens";
        case LimitKind::concurrent:
            return "concurrent";
    }
    return "";
}

std::string_view kind_words(LimitKind kind) {
    switch (kind) {
        case LimitKind::requests:
            return "requests per minute";
        case LimitKind::tokens:
            return "tokens per minute";
        case LimitKind::concurrent:
            return "concurrent requests";
    }
    return "";
}

std::shared_ptr<LimitStore> make_limit_store(const StateConfig& state) {
    if (state.redis.empty())
        return std::make_shared<LocalLimitStore>();
    RedisSettings settings;
    settings.host = state.redis_host;
    settings.port = state.redis_port;
    settings.timeout_ms = state.timeout_ms;
    if (!state.redis_password_env.empty()) {
        const char* password = std::getenv(state.redis_password_env.c_str());
        if (!password || !*password)
            throw std::runtime_error("[state] redis_password_env names " +
                                     state.redis_password_env + ", which is not set");
        settings.password = password;
    }
    return std::make_shared<RedisLimitStore>(std::move(settings), state.fail_open);
}

}  // namespace llmproxy
