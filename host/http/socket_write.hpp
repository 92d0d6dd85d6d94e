// Writing several buffers to a non-blocking socket in as few system calls as it allows (one
// sendmsg when the socket buffer takes them all), for answers to clients and requests to
// upstreams. While the socket buffer is full, the caller's fiber (or thread) waits.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string_view>

namespace llmproxy {

class SocketWait;

inline constexpr std::size_t kMaxWriteParts = 8;

// Writes every byte of parts, in order, to the socket (empty parts are skipped; at most
// kMaxWriteParts non-empty ones). Returns 0, or the errno that stopped it: EAGAIN when the peer
// took nothing for timeout_ms, EPIPE or ECONNRESET when the peer is gone, EINVAL for too many
// parts. Never raises SIGPIPE. written, when given, receives how many bytes the socket took.
int write_all(SocketWait& socket, std::initializer_list<std::string_view> parts, int timeout_ms,
              std::size_t* written = nullptr);

}  // namespace llmproxy
