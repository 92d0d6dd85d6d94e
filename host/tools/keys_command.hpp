// `llm-proxy keys create|list|revoke`: manages the keys file ([auth] keys_file) that client keys
// are checked against. A new key's secret is printed once, alone on stdout; only its hash is
// kept. A running llm-proxy applies the changes on its next reload (SIGHUP).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace llmproxy {

// args: what follows "keys" on the command line. Returns 0 on success, 1 when the command failed
// (the reason on err), 2 when the arguments cannot be used (err shows the usage). now: Unix
// seconds, what "created", "revoked" and relative expiries are counted from.
int run_keys_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                     std::int64_t now);

// The usage text of `llm-proxy keys`.
extern const char* const kKeysUsage;

}  // namespace llmproxy
