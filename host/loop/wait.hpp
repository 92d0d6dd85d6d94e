// Waiting for a socket, and blocking work, from code that runs both on event-loop fibers and on
// plain threads (the plugin checker, tests): on a fiber only the fiber waits, elsewhere the thread
// does.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

namespace llmproxy {

struct EpollSet;
class EventLoop;
class HangUpListener;

// Waits until the non-blocking socket fd is ready for events (EPOLLIN or EPOLLOUT; a hang-up or
// error counts as ready) or timeout_ms passes (negative: no limit). True when ready, false on
// timeout. Call it after the I/O reported EAGAIN. On a fiber it arms fd in the loop's epoll set
// for this one wait: for sockets waited on once or shared by loops (the listening socket), never
// for one a SocketWait holds.
bool wait_ready(int fd, std::uint32_t events, int timeout_ms);

// The waits of one socket that a connection waits on again and again (a client connection, an
// upstream connection). On a fiber, the socket joins the loop's epoll set at its first wait and
// stays there, edge-triggered, so that later waits cost no system call; elsewhere a wait is a
// poll(). A socket used by a fiber of another loop moves to that loop's set. release() before
// the socket is closed (the destructor releases too).
class SocketWait {
  public:
    explicit SocketWait(int fd = -1) : fd_(fd) {}
    ~SocketWait() { release(); }
    SocketWait(const SocketWait&) = delete;
    SocketWait& operator=(const SocketWait&) = delete;

    int fd() const { return fd_; }
    // The epoll set the socket is in (the loop it last waited on), or nullptr.
    const EpollSet* home() const { return in_.get(); }
    // Another socket from now on; the previous one is released.
    void reset(int fd);
    // As wait_ready(), for this socket.
    bool wait(std::uint32_t events, int timeout_ms);
    // The events that came while nobody waited (EventLoop::kept_events), when the socket is in
    // the current loop's set; nullopt elsewhere (another loop's set, or off a fiber).
    std::optional<std::uint32_t> kept_events() const;
    // The last read came back short: nothing is left to read (EventLoop::forget_readable).
    void drained();
    // Takes the socket out of the epoll set it is in, if any.
    void release();
    // On a fiber: until cleared with nullptr, the socket's hang-up is told to listener, also
    // while the fiber waits on other sockets (see EventLoop::on_hang_up). Elsewhere: nothing.
    void on_hang_up(HangUpListener* listener);

  private:
    // The current loop, with the socket in its epoll set; nullptr off a fiber.
    EventLoop* watched_here();

    int fd_;
    std::shared_ptr<EpollSet> in_;  // the set holding fd_, kept open while fd_ is in it
};

// Runs work, which may block (DNS, connect, TLS handshake): on a fiber, on a task thread while the
// fiber waits; elsewhere, right here. An exception from work is rethrown to the caller.
void run_blocking(const std::function<void()>& work);

}  // namespace llmproxy
