#include "limits/redis_limit_store.hpp"

#include <fmt/format.h>
#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>
#include <sys/random.h>

#include <array>
#include <charconv>
#include <chrono>

#include "logging/log_text.hpp"

namespace llmproxy {

namespace {

// KEYS: the counters. ARGV: for each, its limit, the amount, the counter's time to live (ms), and
// for concurrent requests the request's place (a sorted set's member, scored by when it was
// taken, "" for plain counts); last, the time now (ms since the epoch). A place older than its
// time to live no longer counts. Returns {1, 0, count...} with the counts after the charges, or
// {0, i, count...} when counter i (from 1) has no room, nothing charged.
constexpr std::string_view kChargeScript = R"lua(
local now = tonumber(ARGV[4 * #KEYS + 1])
local counts = {}
local refused = 0
for i = 1, #KEYS do
  if ARGV[4 * i] ~= '' then
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - tonumber(ARGV[4 * i - 1]))
    counts[i] = redis.call('ZCARD', KEYS[i])
  else
    counts[i] = tonumber(redis.call('GET', KEYS[i]) or '0')
  end
  if refused == 0 and counts[i] + tonumber(ARGV[4 * i - 2]) > tonumber(ARGV[4 * i - 3]) then
    refused = i
  end
end
if refused > 0 then return {0, refused, unpack(counts)} end
for i = 1, #KEYS do
  if ARGV[4 * i] ~= '' then
    redis.call('ZADD', KEYS[i], now, ARGV[4 * i])
    counts[i] = redis.call('ZCARD', KEYS[i])
  else
    counts[i] = redis.call('INCRBY', KEYS[i], ARGV[4 * i - 2])
  end
  redis.call('PEXPIRE', KEYS[i], ARGV[4 * i - 1])
end
return {1, 0, unpack(counts)}
)lua";

// KEYS: counters. ARGV: for each, "z" for a concurrent one's places (counted while younger than
// the time to live that comes next to last), "" for a plain count; last, the time now (ms).
// Returns their counts.
constexpr std::string_view kCountScript = R"lua(
local now = tonumber(ARGV[#ARGV])
local oldest = now - tonumber(ARGV[#ARGV - 1])
local counts = {}
for i = 1, #KEYS do
  if ARGV[i] == 'z' then
    counts[i] = redis.call('ZCOUNT', KEYS[i], '(' .. oldest, '+inf')
  else
    counts[i] = tonumber(redis.call('GET', KEYS[i]) or '0')
  end
end
return counts
)lua";

// KEYS[1]: a counter. ARGV: the amount to add (negative: to take), the counter's time to live
// (ms), and "1" when only a counter that exists changes. Never below 0. Returns the count.
constexpr std::string_view kAddScript = R"lua(
if ARGV[3] == '1' and redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local count = redis.call('INCRBY', KEYS[1], ARGV[1])
if count < 0 then
  redis.call('SET', KEYS[1], 0)
  count = 0
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return count
)lua";

constexpr std::int64_t kMinuteMs = 60'000;
constexpr std::int64_t kDayMs = 86'400'000;
// Error replies (a full Redis, a wrong password) are logged at most this often per thread.
constexpr std::int64_t kErrorLogIntervalMs = 10000;

std::string sha1_hex(std::string_view text) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha1(), nullptr);
    std::string hex;
    for (unsigned int i = 0; i < size; ++i)
        hex += fmt::format("{:02x}", digest[i]);
    return hex;
}

const std::string& charge_sha() {
    static const std::string sha = sha1_hex(kChargeScript);
    return sha;
}

const std::string& add_sha() {
    static const std::string sha = sha1_hex(kAddScript);
    return sha;
}

const std::string& count_sha() {
    static const std::string sha = sha1_hex(kCountScript);
    return sha;
}

// The counter of a charge, as the next word of command: "{llm-proxy}:HOLDER:KIND:WINDOW", and for
// concurrent requests "{llm-proxy}:HOLDER:concurrent:places", the sorted set of the places taken.
void add_counter(RespCommand& command, const LimitCharge& charge, std::int64_t window) {
    if (charge.kind == LimitKind::concurrent) {
        command.joined({"{llm-proxy}:", charge.holder, ":concurrent:places"});
        return;
    }
    const Decimal number(window);
    command.joined(
        {"{llm-proxy}:", charge.holder, ":", kind_name(charge.kind), ":", number.text()});
}

// How long a counter outlives its last change, a window's past the window's end; and how long a
// concurrent request's place counts, so that a place whose release was lost (a replica that
// died, a reply lost in an outage) comes back.
std::int64_t ttl_of(LimitKind kind) {
    switch (kind) {
        case LimitKind::requests:
        case LimitKind::tokens:
            return 2 * kMinuteMs;
        case LimitKind::concurrent:
            return 10 * kMinuteMs;
        case LimitKind::daily_tokens:
        case LimitKind::daily_cost:
            return 2 * kDayMs;
        case LimitKind::monthly_tokens:
        case LimitKind::monthly_cost:
            return 62 * kDayMs;
    }
    return 2 * kMinuteMs;
}

std::atomic<std::uint64_t> next_store_id{1};

// A random number telling this store's places from every other replica's.
std::uint64_t random_instance() {
    std::uint64_t value = 0;
    if (::getrandom(&value, sizeof value, 0) != sizeof value)
        value =
            static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    return value;
}

// Says why a reply is not the script's answer; empty when it is: {admitted, refused, count...}.
std::string charge_reply_problem(const redisReply& reply, std::size_t charges) {
    if (reply.type == REDIS_REPLY_ERROR)
        return "Redis refused the limits' script: " +
               printable(std::string_view(reply.str, reply.len));
    if (reply.type != REDIS_REPLY_ARRAY || reply.elements != charges + 2)
        return "Redis answered the limits' script with something else than its counts";
    for (std::size_t i = 0; i < reply.elements; ++i)
        if (reply.element[i]->type != REDIS_REPLY_INTEGER)
            return "Redis answered the limits' script with something else than its counts";
    const long long refused = reply.element[1]->integer;
    if (refused < 0 || static_cast<std::size_t>(refused) > charges ||
        (reply.element[0]->integer == 0) != (refused > 0))
        return "Redis answered the limits' script with something else than its counts";
    return {};
}

bool is_noscript(const redisReply& reply) {
    return reply.type == REDIS_REPLY_ERROR &&
           std::string_view(reply.str, reply.len).starts_with("NOSCRIPT");
}

// Runs a script by its digest, and by its text when Redis's script cache has lost it (flushed
// since the connection loaded it). command(verb, script) writes the command.
template <typename Command>
RedisReply run_script(RedisConnection& redis, std::string_view sha, std::string_view script,
                      const Command& command) {
    RedisReply reply = redis.call(command("EVALSHA", sha));
    if (is_noscript(*reply))
        reply = redis.call(command("EVAL", script));
    return reply;
}

std::int64_t steady_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// Logs a problem at warning level, at most once per interval on this thread.
void warn_now_and_then(const std::string& problem) {
    thread_local std::int64_t last_ms = -kErrorLogIntervalMs;
    const std::int64_t now = steady_ms();
    if (now - last_ms < kErrorLogIntervalMs) {
        spdlog::debug("limits: {}", problem);
        return;
    }
    last_ms = now;
    spdlog::warn("limits: {}", problem);
}

}  // namespace

RedisLimitStore::RedisLimitStore(RedisSettings settings, bool fail_open)
    : settings_(std::move(settings)),
      fail_open_(fail_open),
      id_(next_store_id++),
      instance_text_(fmt::format("{:016x}", random_instance())) {
    // Each new connection logs in, then loads the scripts, so that EVALSHA finds them.
    settings_.on_connect.clear();
    settings_.on_connect_count = 0;
    if (!settings_.password.empty()) {
        append_command(settings_.on_connect, {"AUTH", settings_.password});
        ++settings_.on_connect_count;
    }
    for (std::string_view script : {kChargeScript, kAddScript, kCountScript}) {
        append_command(settings_.on_connect, {"SCRIPT", "LOAD", script});
        ++settings_.on_connect_count;
    }
}

RedisLimitStore::~RedisLimitStore() = default;

std::string RedisLimitStore::where() const {
    return fmt::format("in Redis at {}:{} (on_error = {})", settings_.host, settings_.port,
                       fail_open_ ? "open" : "closed");
}

RedisConnection& RedisLimitStore::connection() {
    thread_local std::uint64_t cached_id = 0;
    thread_local RedisConnection* cached = nullptr;
    if (cached_id == id_)
        return *cached;
    std::lock_guard lock(mutex_);
    auto& made = connections_[std::this_thread::get_id()];
    if (!made)
        made = std::make_unique<RedisConnection>(settings_, health_);
    cached_id = id_;
    cached = made.get();
    return *cached;
}

void RedisLimitStore::write_charge(std::string& out, std::string_view verb, std::string_view script,
                                   std::span<const LimitCharge> charges) const {
    RespCommand command(out, 3 + 5 * charges.size() + 1);
    command.word(verb).word(script).number(static_cast<std::int64_t>(charges.size()));
    for (const LimitCharge& charge : charges)
        add_counter(command, charge, charge.window);
    for (const LimitCharge& charge : charges) {
        command.number(charge.limit).number(charge.amount).number(ttl_of(charge.kind));
        if (charge.kind == LimitKind::concurrent)
            add_place(command, charge);
        else
            command.word("");
    }
    command.number(epoch_ms());
}

LimitVerdict RedisLimitStore::charge(std::span<const LimitCharge> charges) {
    const std::size_t count = std::min(charges.size(), kMaxCharges);
    const auto command = [&](std::string_view verb, std::string_view script) {
        std::string text;
        text.reserve(512);
        write_charge(text, verb, script, charges.first(count));
        return text;
    };
    LimitVerdict verdict;
    verdict.unavailable = true;
    verdict.admitted = fail_open_;
    RedisReply reply;
    try {
        reply = run_script(connection(), charge_sha(), kChargeScript, command);
    } catch (const RedisUnavailable& e) {
        spdlog::debug("limits: {}", e.what());  // the connection logs each outage once
        return verdict;
    }
    if (std::string problem = charge_reply_problem(*reply, count); !problem.empty()) {
        warn_now_and_then(problem);
        return verdict;
    }
    verdict.unavailable = false;
    verdict.admitted = reply->element[0]->integer == 1;
    if (!verdict.admitted)
        verdict.refused = static_cast<std::size_t>(reply->element[1]->integer - 1);
    for (std::size_t i = 0; i < count; ++i)
        verdict.used[i] = reply->element[i + 2]->integer;
    return verdict;
}

void RedisLimitStore::add(const LimitCharge& charge, std::int64_t window, std::int64_t delta,
                          bool only_existing) {
    std::string text;
    text.reserve(256);
    RespCommand command(text, 7);
    command.word("EVALSHA").word(add_sha()).word("1");
    add_counter(command, charge, window);
    command.number(delta).number(ttl_of(charge.kind)).word(only_existing ? "1" : "0");
    try {
        connection().send(text);
    } catch (const RedisUnavailable& e) {
        spdlog::debug("limits: a correction of {} is lost: {}", charge.holder, e.what());
    }
}

void RedisLimitStore::correct(const LimitCharge& charge, std::int64_t delta,
                              std::int64_t now_window) {
    if (charge.window == now_window)
        add(charge, charge.window, delta, true);
    else if (delta > 0 && charge.window < now_window)
        add(charge, now_window, delta, false);
}

std::optional<std::vector<std::int64_t>> RedisLimitStore::counts(
    std::span<const LimitCharge> charges) {
    // In slices: each reply stays far below what a connection takes as one (RedisConnection),
    // however many keys the report covers.
    constexpr std::size_t kSlice = 500;
    static_assert(kSlice <= kMaxReplyElements);
    const std::int64_t now = epoch_ms();
    std::vector<std::int64_t> out;
    out.reserve(charges.size());
    for (std::size_t first = 0; first < charges.size(); first += kSlice) {
        const auto slice = charges.subspan(first, std::min(kSlice, charges.size() - first));
        const auto command = [&](std::string_view verb, std::string_view script) {
            std::string text;
            RespCommand words(text, 3 + 2 * slice.size() + 2);
            words.word(verb).word(script).number(static_cast<std::int64_t>(slice.size()));
            for (const LimitCharge& charge : slice)
                add_counter(words, charge, charge.window);
            for (const LimitCharge& charge : slice)
                words.word(charge.kind == LimitKind::concurrent ? "z" : "");
            words.number(ttl_of(LimitKind::concurrent)).number(now);
            return text;
        };
        RedisReply reply;
        try {
            reply = run_script(connection(), count_sha(), kCountScript, command);
        } catch (const RedisUnavailable& e) {
            spdlog::debug("limits: {}", e.what());
            return std::nullopt;
        }
        if (reply->type != REDIS_REPLY_ARRAY || reply->elements != slice.size()) {
            warn_now_and_then("Redis answered the counts' script with something else than counts");
            return std::nullopt;
        }
        for (std::size_t i = 0; i < reply->elements; ++i)
            out.push_back(
                reply->element[i]->type == REDIS_REPLY_INTEGER ? reply->element[i]->integer : 0);
    }
    return out;
}

void RedisLimitStore::release(const LimitCharge& charge) {
    std::string text;
    RespCommand command(text, 3);
    command.word("ZREM");
    add_counter(command, charge, 0);
    add_place(command, charge);
    try {
        connection().send(text);  // a place whose release is lost stops counting in time
    } catch (const RedisUnavailable& e) {
        spdlog::debug("limits: a concurrent place of {} is not given back now: {}", charge.holder,
                      e.what());
    }
}

void RedisLimitStore::add_place(RespCommand& command, const LimitCharge& charge) const {
    const Decimal place(charge.place);
    command.joined({instance_text_, ":", place.text()});
}

}  // namespace llmproxy
