#include "http/header_rules.hpp"

#include <array>

#include "http/headers.hpp"

namespace llmproxy {

namespace {

template <std::size_t N>
bool one_of(std::string_view name, const std::array<std::string_view, N>& names) {
    for (auto n : names)
        if (equals_ignoring_case(name, n))
            return true;
    return false;
}

// RFC 9110 section 7.6.1 hop-by-hop headers, plus framing the host decides itself.
constexpr std::array<std::string_view, 10> kHopByHop = {"connection",
                                                        "keep-alive",
                                                        "proxy-connection",
                                                        "te",
                                                        "trailer",
                                                        "upgrade",
                                                        "transfer-encoding",
                                                        "content-length",
                                                        "proxy-authorization",
                                                        "proxy-authenticate"};

}  // namespace

bool forward_request_header(std::string_view name, bool llm_has_own_key) {
    if (one_of(name, kHopByHop))
        return false;
    // Host is the upstream's; accept-encoding is dropped so that streams arrive uncompressed and
    // can be parsed event by event; Origin belongs to the browser-to-proxy hop (CORS).
    constexpr std::array<std::string_view, 3> kHostOwned = {"host", "accept-encoding", "origin"};
    if (one_of(name, kHostOwned))
        return false;
    if (llm_has_own_key &&
        (equals_ignoring_case(name, "authorization") || equals_ignoring_case(name, "api-key") ||
         equals_ignoring_case(name, "x-api-key")))
        return false;
    return true;
}

bool forward_response_header(std::string_view name) {
    if (one_of(name, kHopByHop))
        return false;
    constexpr std::array<std::string_view, 5> kHostOwned = {"content-type", "content-encoding",
                                                            "date", "server", "set-cookie"};
    return !one_of(name, kHostOwned);
}

}  // namespace llmproxy
