// parse_response_head on any bytes: only Poco::Net::MessageException escapes; a head it accepts
// has a three-digit status, named header fields and a content_length that is the value of its
// Content-Length field; and an object that held an earlier head reads the same as a fresh one.
#include <Poco/Net/NetException.h>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"
#include "upstream/response_head.hpp"

using fuzz::require;
using llmproxy::ResponseHead;

namespace {

// A head that sets every field a later head must reset or overwrite.
constexpr std::string_view kEarlierHead =
    "HTTP/1.0 299 Earlier\r\nContent-Length: 12\r\nTransfer-Encoding: chunked\r\n"
    "Connection: keep-alive\r\n\r\n";

// Whether parse_response_head accepted the head.
bool parse(std::string_view head, ResponseHead& out) {
    try {
        llmproxy::parse_response_head(head, out);
        return true;
    } catch (const Poco::Net::MessageException&) {
        return false;
    }
}

void check_accepted(const ResponseHead& head) {
    require(head.status >= 100 && head.status <= 999, "the status has three digits");
    bool has_length = false;
    bool has_transfer_encoding = false;
    std::uint64_t last_length = 0;
    for (const auto& [name, value] : head.headers) {
        require(!name.empty(), "header fields have names");
        has_transfer_encoding =
            has_transfer_encoding || llmproxy::equals_ignoring_case(name, "transfer-encoding");
        if (!llmproxy::equals_ignoring_case(name, "content-length"))
            continue;
        has_length = true;
        auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), last_length);
        require(error == std::errc() && end == value.data() + value.size(),
                "an accepted Content-Length is a number");
    }
    // Transfer-Encoding overrides a Content-Length (RFC 9112 6.3), and such a head ends its
    // connection.
    require((has_length && !has_transfer_encoding) == head.has_length,
            "has_length says whether a Content-Length is in force");
    require(!head.has_length || last_length == head.content_length,
            "content_length is the value of the last Content-Length field");
    require(!(has_length && has_transfer_encoding) || !head.keep_alive,
            "a head with both Content-Length and Transfer-Encoding is not kept alive");
}

bool same(const ResponseHead& a, const ResponseHead& b) {
    return a.status == b.status && a.headers == b.headers && a.keep_alive == b.keep_alive &&
           a.chunked == b.chunked && a.has_length == b.has_length &&
           a.content_length == b.content_length;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view head(reinterpret_cast<const char*>(data), size);
    ResponseHead fresh;
    bool accepted = parse(head, fresh);
    if (accepted)
        check_accepted(fresh);

    ResponseHead reused;
    require(parse(kEarlierHead, reused), "the earlier head is accepted");
    require(parse(head, reused) == accepted, "a reused head object gives the same verdict");
    require(!accepted || same(fresh, reused), "a reused head object reads the same");
    return 0;
}
