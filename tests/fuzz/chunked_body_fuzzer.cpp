// The client request reader (ClientSocket::read_head and read_body) on any bytes a client could
// send on one connection, through a socketpair off any event loop (waits are poll()): heads and
// bodies are read until the connection ends, with a body limit of half the input and again with a
// generous one. Only ApiException escapes; no body exceeds the limit; and while a reference
// reader written here follows the bytes, the host agrees with it: each head ends where the
// reference says and parses as parse_request_head says, a Content-Length body is the bytes that
// follow the head, and a chunked body that the reference's strict RFC 9112 decoder accepts is
// decoded to the same bytes (or refused with 413 when it is over the limit).
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "http/api_error.hpp"
#include "http/client_socket.hpp"
#include "http/http_request.hpp"

using fuzz::require;
using llmproxy::ApiError;
using llmproxy::ApiException;
using llmproxy::HttpRequest;

namespace {

// Inputs are cut to this, so that they fit in the socket's buffer whole (and in one head).
constexpr std::size_t kMaxInput = 60000;
// Requests read per connection at most.
constexpr int kMaxRequests = 64;
const int kClientClosed = ApiError::client_closed().status;

// Where the head that starts at s[at] ends: just past its first empty line ("\n\n" or
// "\n\r\n"), or npos.
std::size_t head_end(std::string_view s, std::size_t at) {
    for (std::size_t i = at; i < s.size(); ++i) {
        if (s[i] != '\n')
            continue;
        if (s.substr(i + 1, 1) == "\n")
            return i + 2;
        if (s.substr(i + 1, 2) == "\r\n")
            return i + 3;
    }
    return std::string_view::npos;
}

struct Decoded {
    std::string body;
    std::size_t end = 0;  // one past the body's last byte (its final CRLF)
    bool trailers_too_large = false;
};

// The line that starts at s[at], up to CRLF, if it has one and holds no other CR or LF.
std::optional<std::string_view> strict_line(std::string_view s, std::size_t at) {
    std::size_t end = s.find("\r\n", at);
    if (end == std::string_view::npos)
        return std::nullopt;
    std::string_view line = s.substr(at, end - at);
    if (line.find_first_of("\r\n") != std::string_view::npos)
        return std::nullopt;
    return line;
}

// A chunked body that starts at s[at], decoded by the strict RFC 9112 7.1 rules: CRLF line ends,
// a hexadecimal chunk size, extensions after ';', trailer lines up to an empty line; lines of at
// most 1000 bytes (the host allows 1024 for chunk lines, 8192 for trailer lines). nullopt when the
// body is not well-formed or not complete.
std::optional<Decoded> decode_chunked(std::string_view s, std::size_t at) {
    constexpr std::size_t kMaxLine = 1000;
    Decoded out;
    while (true) {
        auto line = strict_line(s, at);
        if (!line || line->size() > kMaxLine)
            return std::nullopt;
        at += line->size() + 2;
        std::string_view digits = line->substr(0, line->find(';'));
        if (digits.empty() || digits.size() > 16 ||
            digits.find_first_not_of("0123456789abcdefABCDEF") != std::string_view::npos)
            return std::nullopt;
        std::uint64_t size = std::stoull(std::string(digits), nullptr, 16);
        if (size == 0)
            break;
        if (size > s.size() - at || s.substr(at + size, 2) != "\r\n")
            return std::nullopt;
        out.body.append(s.substr(at, size));
        at += size + 2;
    }
    std::size_t fields = 0;
    std::size_t trailer_bytes = 0;
    while (true) {
        auto trailer = strict_line(s, at);
        if (!trailer || trailer->size() > kMaxLine)
            return std::nullopt;
        at += trailer->size() + 2;
        if (trailer->empty())
            break;
        ++fields;
        trailer_bytes += trailer->size() + 2;
    }
    // The host bounds a trailer section as it bounds a head.
    out.trailers_too_large = fields > llmproxy::kMaxHeaderFields ||
                             trailer_bytes > llmproxy::ClientSocket::kMaxHeadBytes;
    out.end = at;
    return out;
}

// The status parse_request_head gives head (0: accepted), and the request it read.
int parse_head(std::string_view head, HttpRequest& request) {
    try {
        llmproxy::parse_request_head(head, request);
        return 0;
    } catch (const ApiException& e) {
        return e.error().status;
    }
}

// Follows the connection beside the host: `at` is where the reference expects the next request;
// npos once the reference has lost track (a body the host reads more leniently than it).
class Reference {
  public:
    explicit Reference(std::string_view sent) : sent_(sent) {}

    // The host's read_head returned `read` (false: the client closed), or threw `status`.
    void head(bool read, int status, const HttpRequest& host_request) {
        if (at_ == std::string_view::npos)
            return;
        std::size_t end = head_end(sent_, at_);
        if (end == std::string_view::npos) {
            if (at_ == sent_.size())
                require(!read && status == 0, "at the end of the bytes read_head returns false");
            else
                require(status == kClientClosed, "a head cut short is client_closed");
            return;
        }
        HttpRequest expected;
        require(status == parse_head(sent_.substr(at_, end - at_), expected),
                "read_head reads the head the reference finds");
        require(status != 0 || (host_request.target == expected.target &&
                                host_request.headers == expected.headers),
                "read_head reads the head the reference finds");
        at_ = end;
    }

    // The host's read_body returned `body` or threw `status`.
    void body(const HttpRequest& request, std::size_t limit, int status, const std::string& body) {
        if (at_ == std::string_view::npos)
            return;
        if (!request.chunked) {
            const std::uint64_t length = request.content_length;
            if (length > limit)
                require(status == 413, "a declared length over the limit is 413");
            else if (length > sent_.size() - at_)
                require(status == kClientClosed, "a body cut short is client_closed");
            else
                require(status == 0 && body == sent_.substr(at_, length),
                        "a Content-Length body is the bytes after the head");
            at_ = status == 0 ? at_ + length : std::string_view::npos;
            return;
        }
        auto decoded = decode_chunked(sent_, at_);
        if (!decoded) {
            at_ = std::string_view::npos;  // the host may be more lenient; nothing to compare
            return;
        }
        if (decoded->body.size() > limit)
            require(status == 413, "a chunked body over the limit is 413");
        else if (decoded->trailers_too_large)
            require(status == 400, "a trailer section larger than a head is refused with 400");
        else
            require(status == 0 && body == decoded->body,
                    "a well-formed chunked body is decoded as the reference decodes it");
        at_ = status == 0 ? decoded->end : std::string_view::npos;
    }

  private:
    std::string_view sent_;
    std::size_t at_ = 0;
};

// Sends what fits of input into fd, then shuts the sending side; returns what was sent.
std::string_view send_all(int fd, std::string_view input) {
    std::size_t sent = 0;
    while (sent < input.size()) {
        ssize_t n = ::send(fd, input.data() + sent, input.size() - sent, MSG_NOSIGNAL);
        if (n <= 0)
            break;
        sent += static_cast<std::size_t>(n);
    }
    ::shutdown(fd, SHUT_WR);
    return input.substr(0, sent);
}

// One connection: every request in `input`, read as the connection loop reads them.
void serve(std::string_view input, std::size_t limit) {
    int fds[2];
    require(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0,
            "socketpair works");
    Reference reference(send_all(fds[1], input));
    {
        // The whole input is in the socket before reading starts: no deadline is ever reached.
        llmproxy::BodyBudget budget(1 << 20);
        llmproxy::ClientLimits limits;
        limits.head_timeout_ms = limits.body_timeout_ms = limits.send_timeout_ms = 5000;
        limits.budget = &budget;
        llmproxy::ClientSocket client(fds[0], limits);
        HttpRequest request;
        for (int n = 0; n < kMaxRequests; ++n) {
            int status = 0;
            bool read = false;
            try {
                read = client.read_head(request, llmproxy::ClientSocket::Clock::now() +
                                                     std::chrono::milliseconds(5000));
            } catch (const ApiException& e) {
                status = e.error().status;
            }
            reference.head(read, status, request);
            if (!read || status != 0)
                break;
            if (!request.has_body())
                continue;
            std::string body;
            try {
                body = client.read_body(request, limit);
            } catch (const ApiException& e) {
                status = e.error().status;
            }
            require(body.size() <= limit, "no body is longer than the limit");
            reference.body(request, limit, status, body);
            if (status != 0)
                break;
        }
    }
    ::close(fds[0]);
    ::close(fds[1]);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), std::min(size, kMaxInput));
    serve(input, input.size() / 2);
    serve(input, 1 << 16);
    return 0;
}
