// One client connection's socket: request heads and bodies in (through a read buffer that keeps
// whatever the client sent ahead, such as a pipelined request), answers out in as few writes as
// possible. The socket is non-blocking: every wait suspends the connection's fiber (loop/wait.hpp).
// Serves one fiber at a time; the connection loop owns it.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>

#include "http/http_request.hpp"
#include "http/read_buffer.hpp"
#include "loop/wait.hpp"

namespace llmproxy {

class ClientSocket {
  public:
    // fd, non-blocking, stays owned by the caller. read_timeout_ms bounds every wait for request
    // bytes once a request has begun; send_timeout_ms every wait for the client to take bytes.
    ClientSocket(int fd, int read_timeout_ms, int send_timeout_ms)
        : wait_(fd), read_timeout_ms_(read_timeout_ms), send_timeout_ms_(send_timeout_ms) {}

    // Waits up to timeout_ms for the first bytes of the next request. False when the client
    // closed the connection, or sent nothing in time.
    bool wait_for_request(int timeout_ms);

    // Reads the next request head (at most kMaxHeadBytes) into request. False when the client
    // closed the connection before sending a byte of it. Throws ApiException: what
    // parse_request_head() throws, 431 for a longer head, 408 when the client stops sending
    // mid-head, 499 (client_closed) when it leaves mid-head.
    bool read_head(HttpRequest& request);

    // Reads the body of request, the head last read: sends "100 Continue" first when the client
    // waits for it. Throws ApiException: 413 as soon as the body is known to exceed limit bytes
    // (declared or counted), 400 for broken chunk framing, 408 and 499 as read_head().
    std::string read_body(const HttpRequest& request, std::size_t limit);
    // The body of the request last read is still (partly) unread: the next bytes are not a
    // request head.
    bool body_pending() const { return body_pending_; }

    // Writes every part, in order, with as few system calls as the socket allows. False when the
    // client is gone or stopped reading for its send timeout; the socket is then broken().
    bool write(std::initializer_list<std::string_view> parts);
    bool broken() const { return broken_; }

    // See SocketWait::on_hang_up.
    void on_hang_up(HangUpListener* listener) { wait_.on_hang_up(listener); }

    // Before closing while the client may still be sending (a refused body): stops our side, then
    // reads and drops what arrives for a short while, so that the kernel does not answer the
    // unread bytes with a reset that destroys our last answer before the client reads it.
    void linger_before_close();

    static constexpr std::size_t kMaxHeadBytes = 64 * 1024;

  private:
    // Reads what the socket has into to[0, cap), waiting up to read_timeout_ms; returns the byte
    // count, 0 when the client closed. Throws ApiException 408 (timeout) or 499 (reset).
    std::size_t receive(char* to, std::size_t cap);
    // Appends what the socket has to the buffer; as receive().
    std::size_t fill();
    std::string_view buffered() const { return buffer_.unread(); }
    void consume(std::size_t n) { buffer_.consume(n); }
    // Appends exactly n body bytes to out, the buffered ones first, the rest straight from the
    // socket.
    void read_exact(std::size_t n, std::string& out);
    void read_chunked(std::string& out, std::size_t limit);
    std::string read_line(std::size_t max);

    SocketWait wait_;  // holds the fd
    int read_timeout_ms_;
    int send_timeout_ms_;
    // A request head and a small body fit in the first read; larger bodies go straight from
    // the socket into the body. Freed while a connection waits between requests or streams an
    // answer.
    static constexpr std::size_t kInitialBuffer = 4096;
    ReadBuffer buffer_{kInitialBuffer};
    bool broken_ = false;
    bool body_pending_ = false;
};

}  // namespace llmproxy
