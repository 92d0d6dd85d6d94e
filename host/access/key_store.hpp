// The client keys of one configuration, found by the secret a request presents.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "access/key_file.hpp"
#include "access/key_secret.hpp"

namespace llmproxy {

class KeyStore {
  public:
    explicit KeyStore(std::vector<ClientKey> keys);
    KeyStore(const KeyStore&) = delete;
    KeyStore& operator=(const KeyStore&) = delete;

    // The key whose hash is the secret's, or null. THREADS: any; the store never changes.
    const ClientKey* find(std::string_view secret) const;
    const std::vector<ClientKey>& keys() const { return keys_; }

  private:
    // A digest's first bytes are as good a hash as any: digests are uniformly distributed.
    struct DigestHash {
        std::size_t operator()(const KeyDigest& digest) const;
    };
    std::vector<ClientKey> keys_;
    std::unordered_map<KeyDigest, const ClientKey*, DigestHash> by_digest_;
};

}  // namespace llmproxy
