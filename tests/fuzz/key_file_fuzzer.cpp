// parse_key_file on any text: only ConfigError escapes (never a crash, a hang or another
// exception), every problem names the file, and a keys file it accepts reads back the same from
// the text `llm-proxy keys` would write for it (a key, its limits or its metadata never change or
// vanish when the CLI rewrites the file).
#include <cstddef>
#include <cstdint>
#include <string>

#include "access/key_file.hpp"
#include "access/key_secret.hpp"
#include "fuzz_check.hpp"

using fuzz::require;

namespace {

const std::string kFile = "keys.toml";

bool same(const llmproxy::ClientKey& a, const llmproxy::ClientKey& b) {
    return a.id == b.id && a.hash == b.hash && a.hint == b.hint && a.created == b.created &&
           a.expires == b.expires && a.revoked == b.revoked && a.routes == b.routes &&
           a.models == b.models && a.metadata == b.metadata && a.metadata_json == b.metadata_json &&
           a.limits.requests_per_minute == b.limits.requests_per_minute &&
           a.limits.tokens_per_minute == b.limits.tokens_per_minute &&
           a.limits.concurrent_requests == b.limits.concurrent_requests;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    std::vector<llmproxy::ClientKey> keys;
    try {
        keys = llmproxy::parse_key_file(text, kFile);
    } catch (const llmproxy::ConfigError& e) {
        require(!e.problems().empty(), "a ConfigError lists at least one problem");
        for (const auto& problem : e.problems())
            require(problem.file == kFile, "every problem names the file");
        return 0;
    }
    for (const auto& key : keys)
        require(llmproxy::valid_key_id(key.id) && llmproxy::is_key_hash(key.hash),
                "an accepted key has a valid id and hash");
    std::vector<llmproxy::ClientKey> again;
    try {
        again = llmproxy::parse_key_file(llmproxy::key_file_text(keys), kFile);
    } catch (const llmproxy::ConfigError& e) {
        require(false, "the text written for an accepted keys file is accepted");
    }
    require(again.size() == keys.size(), "every key is written");
    for (std::size_t i = 0; i < keys.size(); ++i)
        require(same(keys[i], again[i]), "every key reads back the same");
    return 0;
}
