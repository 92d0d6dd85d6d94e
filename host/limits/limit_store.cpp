#include "limits/limit_store.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <stdexcept>

#include "limits/local_limit_store.hpp"
#include "limits/redis_limit_store.hpp"

namespace llmproxy {

namespace {

struct KindNames {
    std::string_view name;
    std::string_view words;
};
constexpr std::array<KindNames, kLimitKinds> kKindNames = {{
    {"requests", "requests per minute"},
    {"tokens", "tokens per minute"},
    {"concurrent", "concurrent requests"},
    {"daily_tokens", "tokens per day"},
    {"monthly_tokens", "tokens per month"},
    {"daily_cost", "cost per day"},
    {"monthly_cost", "cost per month"},
}};

constexpr std::int64_t kMinuteMs = 60'000;
constexpr std::int64_t kDayMs = 86'400'000;

bool daily(LimitKind kind) {
    return kind == LimitKind::daily_tokens || kind == LimitKind::daily_cost;
}
bool monthly(LimitKind kind) {
    return kind == LimitKind::monthly_tokens || kind == LimitKind::monthly_cost;
}

// Days since the epoch of a civil (proleptic Gregorian) date; H. Hinnant's days_from_civil.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// The civil year and month (1-12) of a day since the epoch; H. Hinnant's civil_from_days.
std::pair<std::int64_t, unsigned> civil_month(std::int64_t days) {
    days += 719468;
    const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    const auto doe = static_cast<unsigned>(days - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return {static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2), m};
}

}  // namespace

std::string_view kind_name(LimitKind kind) {
    return kKindNames[static_cast<std::size_t>(kind)].name;
}

std::string_view kind_words(LimitKind kind) {
    return kKindNames[static_cast<std::size_t>(kind)].words;
}

std::int64_t epoch_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::uint64_t next_place() {
    static std::atomic<std::uint64_t> next{1};
    return next.fetch_add(1, std::memory_order_relaxed);
}

std::int64_t window_of(LimitKind kind, std::int64_t now_ms) {
    if (kind == LimitKind::concurrent)
        return 0;
    if (daily(kind))
        return now_ms / kDayMs;
    if (monthly(kind)) {
        const auto [year, month] = civil_month(now_ms / kDayMs);
        return (year - 1970) * 12 + (month - 1);
    }
    return now_ms / kMinuteMs;
}

std::int64_t window_end_ms(LimitKind kind, std::int64_t window) {
    if (daily(kind))
        return (window + 1) * kDayMs;
    if (monthly(kind)) {
        const std::int64_t next = window + 1;
        return days_from_civil(1970 + next / 12, static_cast<unsigned>(next % 12) + 1, 1) * kDayMs;
    }
    return (window + 1) * kMinuteMs;
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
