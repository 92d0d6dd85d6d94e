#include "anthropic/client_tool_names.hpp"

#include "anthropic/request_errors.hpp"
#include "anthropic/sha256.hpp"

namespace anthropic {

namespace {

constexpr std::size_t kHashDigits = 8;
constexpr std::size_t kKeptBytes = kMaxUpstreamToolName - kHashDigits - 1;

std::string shortened(std::string_view name) {
    std::size_t kept = kKeptBytes;
    while (kept > 0 && (static_cast<unsigned char>(name[kept]) & 0xc0) == 0x80)
        --kept;  // name[kept] continues a character: cut before that character
    return std::string(name.substr(0, kept)) + "_" + sha256_hex(name).substr(0, kHashDigits);
}

}  // namespace

std::string ToolNames::upstream_name(std::string_view name) {
    std::string upstream = name.size() > kMaxUpstreamToolName ? shortened(name) : std::string(name);
    for (const auto& [known_upstream, known_client] : names_) {
        if (known_upstream != upstream)
            continue;
        if (known_client != name)
            refuse_invalid("tools", "the tool names \"" + known_client + "\" and \"" +
                                        std::string(name) +
                                        "\" would both reach the upstream as \"" + upstream +
                                        "\" (it takes names of at most 64 characters)");
        return upstream;
    }
    names_.emplace_back(upstream, name);
    return upstream;
}

std::string_view ToolNames::client_name(std::string_view upstream) const {
    for (const auto& [known_upstream, known_client] : names_)
        if (known_upstream == upstream)
            return known_client;
    return upstream;
}

}  // namespace anthropic
