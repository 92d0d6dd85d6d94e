// Writing several buffers to a blocking socket in as few system calls as it allows (one sendmsg
// when the socket buffer takes them all), for answers to clients and requests to upstreams.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string_view>

namespace llmproxy {

inline constexpr std::size_t kMaxWriteParts = 8;

// Writes every byte of parts, in order, to fd (empty parts are skipped; at most kMaxWriteParts
// non-empty ones). Returns 0, or the errno that stopped it: EAGAIN when the socket's send
// timeout passed, EPIPE or ECONNRESET when the peer is gone, EINVAL for too many parts.
// Never raises SIGPIPE.
int write_all(int fd, std::initializer_list<std::string_view> parts);

}  // namespace llmproxy
