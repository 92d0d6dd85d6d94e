// `llm-proxy keys usage [ID] --config FILE`: asks a running llm-proxy's GET /admin/usage (with the
// admin key from the variable [auth] admin_key_env names) where each key, route and llm stands
// against its limits and budgets, and prints it.
#pragma once

#include <optional>
#include <ostream>
#include <string>

#include "config/config.hpp"

namespace llmproxy {

// url: the llm-proxy to ask (empty: the config's [server] host and port). key: one client key's
// id, or every holder. json: the answer as it came. Returns the exit status (0: printed); errors
// go to err, each saying what to do.
int print_key_usage(const Config& config, const std::string& url,
                    const std::optional<std::string>& key, bool json, std::ostream& out,
                    std::ostream& err);

}  // namespace llmproxy
