#include "access/key_store.hpp"

#include <cstring>

namespace llmproxy {

namespace {

int hex_value(char c) {
    return c <= '9' ? c - '0' : c - 'a' + 10;
}

// The bytes of a hash of key_hash's form ("sha256:" and 64 lower-case hex digits).
KeyDigest digest_of(std::string_view hash) {
    KeyDigest digest{};
    hash.remove_prefix(std::string_view("sha256:").size());
    for (std::size_t i = 0; i < digest.size(); ++i)
        digest[i] =
            static_cast<unsigned char>(hex_value(hash[2 * i]) << 4 | hex_value(hash[2 * i + 1]));
    return digest;
}

}  // namespace

std::size_t KeyStore::DigestHash::operator()(const KeyDigest& digest) const {
    std::size_t value = 0;
    std::memcpy(&value, digest.data(), sizeof value);
    return value;
}

KeyStore::KeyStore(std::vector<ClientKey> keys) : keys_(std::move(keys)) {
    by_digest_.reserve(keys_.size());
    for (const ClientKey& key : keys_)
        if (is_key_hash(key.hash))  // parse_key_file lets no other through
            by_digest_.emplace(digest_of(key.hash), &key);
}

const ClientKey* KeyStore::find(std::string_view secret) const {
    auto it = by_digest_.find(key_digest(secret));
    return it == by_digest_.end() ? nullptr : it->second;
}

}  // namespace llmproxy
