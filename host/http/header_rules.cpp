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

bool forward_request_header(std::string_view name, bool llm_has_own_key) {
    if (one_of(name, kHopByHop))
        return false;
    // Host is the upstream's; accept-encoding is dropped so that streams arrive uncompressed and
    // can be parsed event by event; Origin belongs to the browser-to-proxy hop (CORS).
    // x-request-id: the host sends the request's id (the client's own when well formed).
    constexpr std::array<std::string_view, 4> kHostOwned = {"host", "accept-encoding", "origin",
                                                            "x-request-id"};
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

// Whether a Connection header of headers names name (making it hop-by-hop).
bool nominated_by_connection(const HeaderList& headers, std::string_view name) {
    for (const auto& [header, value] : headers)
        if (equals_ignoring_case(header, "connection") && lists_token(value, name))
            return true;
    return false;
}

template <typename Forward>
HeaderList forwarded(const HeaderList& headers, Forward&& forward) {
    const bool has_connection = find_header(headers, "connection") != nullptr;
    HeaderList out;
    out.reserve(headers.size());
    for (const auto& [name, value] : headers)
        if (forward(name) && !(has_connection && nominated_by_connection(headers, name)))
            out.emplace_back(name, value);
    return out;
}

}  // namespace

HeaderList request_headers_for_upstream(const HeaderList& from_client, bool llm_has_own_key) {
    return forwarded(from_client, [&](std::string_view name) {
        return forward_request_header(name, llm_has_own_key);
    });
}

HeaderList response_headers_for_client(const HeaderList& from_upstream) {
    HeaderList out = forwarded(from_upstream, forward_response_header);
    for (auto& [name, value] : out)
        if (equals_ignoring_case(name, "x-request-id"))
            name = "x-upstream-request-id";
    return out;
}

}  // namespace llmproxy
