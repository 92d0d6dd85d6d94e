#include "server/request_id.hpp"

#include <random>

namespace llmproxy {

namespace {

constexpr std::size_t kMaxRequestIdBytes = 128;

// splitmix64 (Steele, Lea and Flood): ids need to be unique, not secret, and this is a few
// instructions where a Mersenne twister is hundreds. Each thread starts from a random seed.
std::uint64_t next_random() {
    thread_local std::uint64_t state =
        std::random_device{}() * 0x9E3779B97F4A7C15ULL ^ std::random_device{}();
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

std::string new_request_id() {
    static constexpr char kHex[] = "0123456789abcdef";
    char id[32];
    for (std::size_t half = 0; half < 2; ++half) {
        std::uint64_t bits = next_random();
        for (std::size_t i = 0; i < 16; ++i, bits >>= 4)
            id[half * 16 + i] = kHex[bits & 0xF];
    }
    return std::string(id, sizeof id);
}

}  // namespace

bool well_formed_request_id(std::string_view id) {
    if (id.empty() || id.size() > kMaxRequestIdBytes)
        return false;
    for (char c : id) {
        const bool alnum =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && std::string_view("-_.:/+=@").find(c) == std::string_view::npos)
            return false;
    }
    return true;
}

std::string request_id_for(const HeaderList& headers) {
    if (const std::string* id = find_header(headers, "x-request-id");
        id && well_formed_request_id(*id))
        return *id;
    return new_request_id();
}

}  // namespace llmproxy
