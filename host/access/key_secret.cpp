#include "access/key_secret.hpp"

#include <openssl/evp.h>
#include <sys/random.h>

#include <array>
#include <cstdint>
#include <memory>
#include <stdexcept>

namespace llmproxy {

std::string new_key_secret() {
    std::array<unsigned char, 32> bytes{};
    std::size_t filled = 0;
    while (filled < bytes.size()) {
        const ssize_t got = ::getrandom(bytes.data() + filled, bytes.size() - filled, 0);
        if (got < 0)
            throw std::runtime_error("no random bytes for a new key (getrandom failed)");
        filled += static_cast<std::size_t>(got);
    }
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string secret(kKeySecretPrefix);
    std::uint32_t bits = 0;
    int held = 0;
    for (unsigned char byte : bytes) {
        bits = (bits << 8) | byte;
        held += 8;
        while (held >= 6) {
            held -= 6;
            secret += kAlphabet[(bits >> held) & 63];
        }
    }
    if (held > 0)
        secret += kAlphabet[(bits << (6 - held)) & 63];
    return secret;
}

KeyDigest key_digest(std::string_view secret) {
    // Fetched once: OpenSSL 3 looks the algorithm up again on every EVP_sha256() digest, which
    // costs more than the hashing of a key. Each thread keeps a context of its own.
    static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    thread_local const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(
        EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    KeyDigest digest{};
    unsigned int size = 0;
    if (!sha256 || !context || EVP_DigestInit_ex(context.get(), sha256, nullptr) != 1 ||
        EVP_DigestUpdate(context.get(), secret.data(), secret.size()) != 1 ||
        EVP_DigestFinal_ex(context.get(), digest.data(), &size) != 1 || size != digest.size())
        throw std::runtime_error("SHA-256 is not available from OpenSSL");
    return digest;
}

std::string key_hash(std::string_view secret) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "sha256:";
    for (unsigned char byte : key_digest(secret)) {
        out += kHex[byte >> 4];
        out += kHex[byte & 15];
    }
    return out;
}

bool is_key_hash(std::string_view text) {
    constexpr std::string_view prefix = "sha256:";
    if (text.size() != prefix.size() + 64 || text.substr(0, prefix.size()) != prefix)
        return false;
    for (char c : text.substr(prefix.size()))
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    return true;
}

std::string key_hint(std::string_view secret) {
    return std::string(secret.substr(0, kKeySecretPrefix.size() + 4)) + "...";
}

}  // namespace llmproxy
