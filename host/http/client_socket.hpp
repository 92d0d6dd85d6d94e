// One client connection's socket: request heads and bodies in (through a read buffer that keeps
// whatever the client sent ahead, such as a pipelined request), answers out in as few writes as
// possible. The socket is non-blocking: every wait suspends the connection's fiber (loop/wait.hpp).
// Serves one fiber at a time; the connection loop owns it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "http/body_budget.hpp"
#include "http/http_request.hpp"
#include "http/read_buffer.hpp"
#include "loop/wait.hpp"

namespace llmproxy {

// How long and how much a client may take to send a request.
struct ClientLimits {
    // A whole request head must arrive within this (for a connection's first request, counted
    // from the connection's start; for later ones, from the head's first byte).
    int head_timeout_ms = 20000;
    // A whole body must arrive within body_timeout_ms, plus one second for every body_min_rate
    // bytes received (0: no extension), as Apache's mod_reqtimeout counts: a slow but steady
    // upload finishes, a trickle meant to hold the connection does not.
    int body_timeout_ms = 20000;
    std::size_t body_min_rate = 500;
    // A client that takes none of our bytes for this long is dropped.
    int send_timeout_ms = 60000;
    // Shared by every connection; nullptr: no total bound.
    BodyBudget* budget = nullptr;
};

class ClientSocket {
  public:
    using Clock = std::chrono::steady_clock;

    // fd, non-blocking, stays owned by the caller.
    ClientSocket(int fd, const ClientLimits& limits) : wait_(fd), limits_(limits) {}
    ~ClientSocket() { give_back_body_memory(); }
    ClientSocket(const ClientSocket&) = delete;
    ClientSocket& operator=(const ClientSocket&) = delete;

    // Waits up to timeout_ms for the first bytes of the next request. False when the client
    // closed the connection, or sent nothing in time.
    bool wait_for_request(int timeout_ms);

    // Reads the next request head (at most kMaxHeadBytes) into request; the whole head must have
    // arrived by deadline. False when the client closed the connection before sending a byte of
    // it. Throws ApiException: what parse_request_head() throws, 431 for a longer head, 408 when
    // the deadline passes mid-head, 499 (client_closed) when the client leaves mid-head.
    bool read_head(HttpRequest& request, Clock::time_point deadline);

    // Reads the body of request, the head last read: sends "100 Continue" first when the client
    // waits for it. Memory grows with the bytes that arrive, whatever the declared length. Throws
    // ApiException: 413 as soon as the body is known to exceed limit bytes (declared or counted),
    // 400 for broken chunk framing (trailers included: at most kMaxHeadBytes), 503 when the
    // bodies all connections are receiving would pass the budget, 408 when the body arrives too
    // slowly (ClientLimits), 499 when the client leaves.
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
    // Reads what the socket has into to[0, cap), waiting until deadline_; returns the byte count,
    // 0 when the client closed. Throws ApiException 408 (deadline) or 499 (reset).
    std::size_t receive(char* to, std::size_t cap);
    // Appends what the socket has to the buffer; as receive().
    std::size_t fill();
    std::string_view buffered() const { return buffer_.unread(); }
    void consume(std::size_t n) { buffer_.consume(n); }
    // Appends exactly n body bytes to out, the buffered ones first, the rest straight from the
    // socket, growing out as they arrive.
    void read_exact(std::size_t n, std::string& out);
    void read_chunked(std::string& out, std::size_t limit);
    std::string read_line(std::size_t max);
    // Accounts for a body now holding `bytes` (BodyBudget).
    void hold_body_memory(std::size_t bytes);
    void give_back_body_memory();

    SocketWait wait_;  // holds the fd
    const ClientLimits limits_;
    Clock::time_point deadline_;  // of the head or body being read
    const char* reading_ = "";    // what is being read, for the 408's message
    // While a body is read: each body_rate_ bytes received add a second to its deadline.
    std::size_t body_rate_ = 0;
    std::size_t body_memory_held_ = 0;
    // A request head and a small body fit in the first read; larger bodies go straight from
    // the socket into the body. Freed while a connection waits between requests or streams an
    // answer.
    static constexpr std::size_t kInitialBuffer = 4096;
    ReadBuffer buffer_{kInitialBuffer};
    bool broken_ = false;
    bool body_pending_ = false;
};

}  // namespace llmproxy
