#include "access/key_store.hpp"

#include "access/key_secret.hpp"

namespace llmproxy {

KeyStore::KeyStore(std::vector<ClientKey> keys) : keys_(std::move(keys)) {
    by_hash_.reserve(keys_.size());
    for (const ClientKey& key : keys_)
        by_hash_.emplace(key.hash, &key);
}

const ClientKey* KeyStore::find(std::string_view secret) const {
    auto it = by_hash_.find(key_hash(secret));
    return it == by_hash_.end() ? nullptr : it->second;
}

}  // namespace llmproxy
