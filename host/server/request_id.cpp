#include "server/request_id.hpp"

#include <random>

namespace llmproxy {

namespace {

constexpr std::size_t kMaxRequestIdBytes = 128;

std::string new_request_id() {
    thread_local std::mt19937_64 random{std::random_device{}()};
    static constexpr char kHex[] = "0123456789abcdef";
    std::string id(32, '0');
    for (std::size_t half = 0; half < 2; ++half) {
        std::uint64_t bits = random();
        for (std::size_t i = 0; i < 16; ++i, bits >>= 4)
            id[half * 16 + i] = kHex[bits & 0xF];
    }
    return id;
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
