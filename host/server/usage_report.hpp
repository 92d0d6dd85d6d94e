// GET /admin/usage: where every client key, route and llm stands against its limits and budgets
// now, read from the counters without charging them. Guarded by the admin key ([auth]
// admin_key_env); `llm-proxy keys usage` prints it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/runtime.hpp"

namespace llmproxy {

// The report as JSON: {"counters": WHERE, "holders": [{"holder": "key:ID", "type": "key", "name":
// "ID", "limits": [{"kind", "limit", "used", "unit", "renews_at"}]}]}, every key (limited or not),
// then the routes and llms that have limits. Dollars are numbers of dollars; renews_at is when
// the window ends (UTC, ISO 8601), null for concurrent requests. key: only that client key.
// Throws ApiException: 404 unknown_key for a key that is not in the keys file, 503
// rate_limits_unavailable when the counters cannot be reached. now_ms: since the epoch.
std::string usage_json(Runtime& runtime, std::optional<std::string_view> key, std::int64_t now_ms);

}  // namespace llmproxy
