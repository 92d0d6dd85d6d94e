#include "server/usage_report.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <vector>

#include "access/key_file.hpp"
#include "http/api_error.hpp"
#include "limits/limit_store.hpp"

namespace llmproxy {

namespace {

struct Holder {
    std::string type;  // "key", "route", "llm"
    std::string name;
    std::string holder;  // type:name, as the counters name it
    const Limits* limits;
};

nlohmann::json amount(LimitKind kind, std::int64_t value) {
    if (counts_cost(kind))
        return static_cast<double>(value) / 1e6;
    return value;
}

std::string_view unit_of(LimitKind kind) {
    if (counts_cost(kind))
        return "dollars";
    if (counts_tokens(kind))
        return "tokens";
    return "requests";
}

}  // namespace

std::string usage_json(Runtime& runtime, std::optional<std::string_view> key, std::int64_t now_ms) {
    std::vector<Holder> holders;
    if (const KeyStore* keys = runtime.keys())
        for (const ClientKey& client : keys->keys())
            if (!key || client.id == *key)
                holders.push_back({"key", client.id, client.limit_holder, &client.limits});
    if (key && holders.empty())
        throw ApiException({404, "invalid_request_error", "unknown_key",
                            fmt::format("no client key has the id '{}'", *key)});
    if (!key) {
        for (const auto& route : runtime.config().routes)
            if (route.limits.any())
                holders.push_back(
                    {"route", route.path_prefix, "route:" + route.path_prefix, &route.limits});
        for (const auto& [name, llm] : runtime.config().llms)
            if (llm.limits.any())
                holders.push_back({"llm", name, "llm:" + name, &llm.limits});
    }
    std::vector<LimitCharge> charges;
    for (const Holder& holder : holders)
        for (const auto& [kind, limit] : limits_by_kind(*holder.limits))
            if (limit > 0)
                charges.push_back({holder.holder, kind, limit, 0, window_of(kind, now_ms)});
    const auto counts = runtime.limits().counts(charges);
    if (!counts)
        throw ApiException({503, "server_error", "rate_limits_unavailable",
                            "llm-proxy cannot reach its rate limits' counters now"});
    nlohmann::json report = {{"counters", runtime.limits().where()},
                             {"holders", nlohmann::json::array()}};
    std::size_t next = 0;
    for (const Holder& holder : holders) {
        nlohmann::json limits = nlohmann::json::array();
        for (const auto& [kind, limit] : limits_by_kind(*holder.limits)) {
            if (limit <= 0)
                continue;
            const LimitCharge& charge = charges[next];
            const std::int64_t used = (*counts)[next++];
            limits.push_back(
                {{"kind", kind_name(kind)},
                 {"limit", amount(kind, limit)},
                 {"used", amount(kind, used)},
                 {"unit", unit_of(kind)},
                 {"renews_at",
                  kind == LimitKind::concurrent
                      ? nlohmann::json(nullptr)
                      : nlohmann::json(rfc3339_utc(window_end_ms(kind, charge.window) / 1000))}});
        }
        report["holders"].push_back({{"holder", holder.holder},
                                     {"type", holder.type},
                                     {"name", holder.name},
                                     {"limits", std::move(limits)}});
    }
    return report.dump();
}

}  // namespace llmproxy
