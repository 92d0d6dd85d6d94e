// The keys file: the client keys llm-proxy accepts, kept as hashes only. `llm-proxy keys`
// writes it; people may edit it too. A TOML file of one table per key:
//
//   [keys.team-a]
//   hash = "sha256:..."          # key_hash() of the secret; the secret itself is never stored
//   hint = "sk-lp-AbCd..."       # the secret's start, to tell keys apart
//   created = 2026-11-30T12:00:00Z
//   expires = 2027-01-01T00:00:00Z   # optional; from then on the key is refused (401)
//   revoked = 2026-12-01T08:00:00Z   # optional; set by `llm-proxy keys revoke`
//   routes = ["/v1/chat/completions"]  # optional: the route path_prefixes it may use
//   models = ["gpt-4o*"]               # optional: the models it may ask for ('*' patterns)
//   metadata = { team = "a" }          # optional: strings, which processors see
//   limits = { requests_per_minute = 60, tokens_per_minute = 100000, concurrent_requests = 4 }
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.hpp"

namespace llmproxy {

struct ClientKey {
    std::string id;    // 1 to 64 of [A-Za-z0-9_.-]; what logs and metrics name
    std::string hash;  // key_hash() of the secret
    std::string hint;
    std::int64_t created = 0;  // Unix seconds; 0: not recorded
    std::optional<std::int64_t> expires, revoked;
    std::vector<std::string> routes;  // empty: every route
    std::vector<std::string> models;  // empty: every model
    std::vector<std::pair<std::string, std::string>> metadata;
    std::string metadata_json = "{}";  // metadata as a JSON object of strings, as parsed
    Limits limits;
    std::string limit_holder;  // "key:ID": what its limits' counters are named by
    int line = 0;
};

// At most this many metadata entries per key, of keys up to 64 and values up to 512 bytes.
inline constexpr std::size_t kMaxKeyMetadata = 16;

// Whether id may name a key.
bool valid_key_id(std::string_view id);

// Parses a keys file's text; `file` names it in messages. Throws ConfigError listing every
// problem (two keys with one hash among them).
std::vector<ClientKey> parse_key_file(const std::string& text, const std::string& file);

// Reads and parses a keys file. Throws ConfigError, also when it cannot be read.
std::vector<ClientKey> load_key_file(const std::string& path);

// The text of a keys file holding keys, which parse_key_file reads back as they are.
std::string key_file_text(const std::vector<ClientKey>& keys);

// Writes keys to path whole or not at all (a new file of its own renamed over the old one, and the
// directory synced), keeping the old file's mode and owner; a new file is made readable by its
// owner only. A path that is a symbolic link has its target replaced. Throws std::runtime_error
// saying what failed.
void save_key_file(const std::string& path, const std::vector<ClientKey>& keys);

// Holds an exclusive lock on PATH.lock while it lives, so that two `llm-proxy keys` commands
// changing one keys file take turns (each reads the file after the other has written it). Throws
// std::runtime_error when the lock file cannot be made.
class KeyFileLock {
  public:
    explicit KeyFileLock(const std::string& path);
    ~KeyFileLock();
    KeyFileLock(const KeyFileLock&) = delete;
    KeyFileLock& operator=(const KeyFileLock&) = delete;

  private:
    int fd_ = -1;
};

// Unix seconds as RFC 3339 UTC ("2026-11-30T12:00:00Z"), and back (a TOML date-time with any
// offset, or a date alone, meaning its midnight UTC); nullopt when text is neither, or a time
// before 1970 or after 9999.
std::string rfc3339_utc(std::int64_t seconds);
std::optional<std::int64_t> parse_rfc3339(std::string_view text);

}  // namespace llmproxy
