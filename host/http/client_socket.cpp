#include "http/client_socket.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>

#include "http/api_error.hpp"
#include "http/socket_write.hpp"
#include "loop/wait.hpp"

namespace llmproxy {

namespace {

ApiException too_large(std::size_t limit) {
    return ApiException({413, "invalid_request_error", "request_too_large",
                         "the request body is larger than [server] max_body_bytes = " +
                             std::to_string(limit) + " bytes"});
}

// A body's memory is filled in steps no larger than what has arrived so far (and at least this),
// so that a Content-Length alone makes nothing resident.
constexpr std::size_t kMinBodyStep = 64 * 1024;
// Up to this much of an announced length is reserved at once (address space only: untouched
// pages take no memory), so that most bodies are never copied to a larger buffer as they grow.
constexpr std::size_t kReservedUpFront = 1 << 20;
// And this much more, so that a small edit of the body (a stream asked for its usage) does not
// copy it to a larger buffer.
constexpr std::size_t kEditRoom = 64;

}  // namespace

bool ClientSocket::wait_for_request(int timeout_ms) {
    if (!buffered().empty())
        return true;  // a pipelined request is already here
    buffer_.release_if_empty();
    return wait_.wait(EPOLLIN, timeout_ms);
}

std::size_t ClientSocket::receive(char* to, std::size_t cap) {
    while (true) {
        ssize_t n = ::recv(wait_.fd(), to, cap, 0);
        if (n >= 0) {
            if (body_rate_ > 0)
                deadline_ +=
                    std::chrono::microseconds(static_cast<std::uint64_t>(n) * 1000000 / body_rate_);
            return static_cast<std::size_t>(n);
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            throw ApiException(ApiError::client_closed());
        auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline_ - Clock::now());
        if (left.count() <= 0 || !wait_.wait(EPOLLIN, static_cast<int>(left.count())))
            throw ApiException(
                {408, "invalid_request_error", "request_timeout",
                 std::string("the client sent its request ") + reading_ + " too slowly"});
    }
}

std::size_t ClientSocket::fill() {
    std::span<char> room = buffer_.room(kInitialBuffer / 2);
    std::size_t n = receive(room.data(), room.size());
    buffer_.commit(n);
    return n;
}

bool ClientSocket::read_head(HttpRequest& request, Clock::time_point deadline) {
    deadline_ = deadline;
    body_rate_ = 0;
    reading_ = "head (request_head_timeout_ms)";
    std::size_t searched = 0;
    while (true) {
        std::string_view data = buffered();
        // The head ends at the first empty line: "\n\n" or "\n\r\n".
        std::size_t end = find_head_end(data, searched);
        if (end != std::string_view::npos && end <= kMaxHeadBytes) {
            parse_request_head(data.substr(0, end), request);
            consume(end);
            body_pending_ = request.has_body();
            return true;
        }
        searched = data.size() >= 2 ? data.size() - 2 : 0;
        if (data.size() > kMaxHeadBytes)
            throw ApiException(
                {431, "invalid_request_error", "request_header_fields_too_large",
                 "the request head is larger than " + std::to_string(kMaxHeadBytes) + " bytes"});
        if (fill() == 0) {
            if (data.empty())
                return false;
            throw ApiException(ApiError::client_closed());
        }
    }
}

void ClientSocket::hold_body_memory(std::size_t bytes) {
    if (!limits_.budget || bytes <= body_memory_held_)
        return;
    std::size_t more = bytes - body_memory_held_;
    if (!limits_.budget->take(more))
        throw ApiException({503, "server_error", "overloaded",
                            "llm-proxy is receiving too many request bodies at once ([server] "
                            "max_buffered_body_bytes = " +
                                std::to_string(limits_.budget->limit()) + "); retry shortly"});
    body_memory_held_ = bytes;
}

void ClientSocket::give_back_body_memory() {
    if (limits_.budget && body_memory_held_ > 0)
        limits_.budget->give_back(body_memory_held_);
    body_memory_held_ = 0;
}

void ClientSocket::read_exact(std::size_t n, std::string& out) {
    std::size_t take = std::min(n, buffered().size());
    hold_body_memory(out.size() + take);
    out.append(buffered().substr(0, take));
    consume(take);
    n -= take;
    while (n > 0) {
        std::size_t step = std::min(n, std::max(kMinBodyStep, out.size()));
        std::size_t at = out.size();
        hold_body_memory(at + step);
        out.resize(at + step);
        while (at < out.size()) {
            std::size_t got = receive(out.data() + at, out.size() - at);
            if (got == 0)
                throw ApiException(ApiError::client_closed());
            at += got;
        }
        n -= step;
    }
}

std::string ClientSocket::read_line(std::size_t max) {
    while (true) {
        auto end = buffered().find('\n');
        if (end != std::string_view::npos) {
            std::string line(buffered().substr(0, end));
            consume(end + 1);
            if (!line.empty() && line.back() == '\r')
                line.pop_back();
            return line;
        }
        if (buffered().size() > max)
            throw ApiException(ApiError::bad_request(
                "invalid_http", "malformed HTTP request: a chunk line is too long"));
        if (fill() == 0)
            throw ApiException(ApiError::client_closed());
    }
}

void ClientSocket::read_chunked(std::string& out, std::size_t limit) {
    auto broken = [](const char* why) {
        return ApiException(
            ApiError::bad_request("invalid_http", std::string("malformed chunked body: ") + why));
    };
    while (true) {
        std::string line = read_line(1024);
        // Chunk extensions (after ";") are ignored.
        std::string_view size_text =
            trim_whitespace(std::string_view(line).substr(0, line.find(';')));
        std::uint64_t size = 0;
        auto [end, error] =
            std::from_chars(size_text.data(), size_text.data() + size_text.size(), size, 16);
        if (size_text.empty() || error != std::errc() || end != size_text.data() + size_text.size())
            throw broken("a chunk size is not hexadecimal");
        if (size == 0)
            break;
        if (size > limit - out.size())
            throw too_large(limit);
        read_exact(static_cast<std::size_t>(size), out);
        if (!read_line(2).empty())
            throw broken("a chunk is longer than its size");
    }
    // Trailer fields: read and dropped, within the bounds of a head.
    std::size_t trailer_bytes = 0;
    for (std::size_t fields = 0;; ++fields) {
        std::string line = read_line(kMaxHeadBytes);
        if (line.empty())
            break;
        trailer_bytes += line.size() + 2;
        if (trailer_bytes > kMaxHeadBytes || fields == kMaxHeaderFields)
            throw broken("the trailer section is larger than a request head may be");
    }
}

std::string ClientSocket::read_body(const HttpRequest& request, std::size_t limit) {
    if (!request.chunked && request.content_length > limit)
        throw too_large(limit);
    if (request.expect_continue && buffered().empty() && !write({"HTTP/1.1 100 Continue\r\n\r\n"}))
        throw ApiException(ApiError::client_closed());
    deadline_ = Clock::now() + std::chrono::milliseconds(limits_.body_timeout_ms);
    body_rate_ = limits_.body_min_rate;
    reading_ = "body (request_body_timeout_ms, request_body_min_rate)";
    struct GiveBack {
        ClientSocket& socket;
        ~GiveBack() {
            socket.give_back_body_memory();
            socket.body_rate_ = 0;
        }
    } give_back{*this};
    std::string body;
    if (request.chunked) {
        read_chunked(body, limit);
    } else {
        body.reserve(std::min(static_cast<std::size_t>(request.content_length), kReservedUpFront) +
                     kEditRoom);
        read_exact(static_cast<std::size_t>(request.content_length), body);
    }
    body_pending_ = false;
    buffer_.release_if_empty();
    return body;
}

bool ClientSocket::write(std::initializer_list<std::string_view> parts) {
    if (broken_)
        return false;
    // Gone, or not reading for its send timeout.
    broken_ = write_all(wait_, parts, limits_.send_timeout_ms) != 0;
    return !broken_;
}

void ClientSocket::linger_before_close() {
    if (broken_)
        return;
    ::shutdown(wait_.fd(), SHUT_WR);
    constexpr auto kLinger = std::chrono::seconds(2);
    constexpr std::size_t kMaxDropped = 8u << 20;
    auto deadline = std::chrono::steady_clock::now() + kLinger;
    std::size_t dropped = 0;
    char scratch[16384];
    while (dropped < kMaxDropped) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        ssize_t n = ::recv(wait_.fd(), scratch, sizeof scratch, 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (left.count() <= 0 || !wait_.wait(EPOLLIN, static_cast<int>(left.count())))
                return;
            continue;
        }
        if (n <= 0)
            return;
        dropped += static_cast<std::size_t>(n);
    }
}

}  // namespace llmproxy
