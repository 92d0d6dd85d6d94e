// Client key secrets: how they are made, and the one form in which llm-proxy keeps them.
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace llmproxy {

// The prefix of every secret llm-proxy makes. "sk-" is the shape log scrubbers (llm-proxy's
// logger processor among them) already mask.
inline constexpr std::string_view kKeySecretPrefix = "sk-lp-";

// A new secret: kKeySecretPrefix and 43 URL-safe base64 characters of 32 random bytes from the
// kernel. Throws std::runtime_error when no random bytes can be had.
std::string new_key_secret();

// What a keys file stores instead of the secret: "sha256:" and 64 lower-case hex digits. Secrets
// are random and long, so an unsalted hash is safe to keep and quick to look up.
std::string key_hash(std::string_view secret);

// The SHA-256 digest of a secret, as bytes: what a request's key is looked up by.
using KeyDigest = std::array<unsigned char, 32>;
KeyDigest key_digest(std::string_view secret);

// Whether text has key_hash's form.
bool is_key_hash(std::string_view text);

// The start of a secret, to tell keys apart in lists without revealing them: "sk-lp-AbCd...".
std::string key_hint(std::string_view secret);

}  // namespace llmproxy
