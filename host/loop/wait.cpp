#include "loop/wait.hpp"

#include <poll.h>
#include <sys/epoll.h>

#include <cerrno>
#include <chrono>
#include <exception>

#include "loop/event_loop.hpp"

namespace llmproxy {

namespace {

bool poll_ready(int fd, std::uint32_t events, int timeout_ms) {
    pollfd ready{
        fd,
        static_cast<short>(((events & EPOLLIN) ? POLLIN : 0) | ((events & EPOLLOUT) ? POLLOUT : 0)),
        0};
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (true) {
        int n = ::poll(&ready, 1, timeout_ms);
        if (n >= 0 || errno != EINTR)
            return n != 0;
        if (timeout_ms >= 0)
            timeout_ms = static_cast<int>(
                std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(
                                              deadline - std::chrono::steady_clock::now())
                                              .count()));
    }
}

}  // namespace

bool wait_ready(int fd, std::uint32_t events, int timeout_ms) {
    if (EventLoop* loop = EventLoop::current())
        return loop->wait(fd, events, timeout_ms);
    return poll_ready(fd, events, timeout_ms);
}

void SocketWait::reset(int fd) {
    release();
    fd_ = fd;
}

EventLoop* SocketWait::watched_here() {
    EventLoop* loop = EventLoop::current();
    if (loop && (!in_ || in_.get() != loop->epoll_set())) {
        release();
        in_ = loop->watch(fd_);
    }
    return loop;
}

bool SocketWait::wait(std::uint32_t events, int timeout_ms) {
    EventLoop* loop = watched_here();
    return loop ? loop->wait_watched(fd_, events, timeout_ms) : poll_ready(fd_, events, timeout_ms);
}

std::optional<std::uint32_t> SocketWait::kept_events() const {
    EventLoop* loop = EventLoop::current();
    if (!loop || !in_ || in_.get() != loop->epoll_set())
        return std::nullopt;
    return loop->kept_events(fd_);
}

void SocketWait::drained() {
    EventLoop* loop = EventLoop::current();
    if (loop && in_ && in_.get() == loop->epoll_set())
        loop->forget_readable(fd_);
}

void SocketWait::on_hang_up(HangUpListener* listener) {
    if (EventLoop* loop = watched_here())
        loop->on_hang_up(fd_, listener);
}

void SocketWait::release() {
    if (!in_)
        return;
    ::epoll_ctl(in_->fd, EPOLL_CTL_DEL, fd_, nullptr);
    in_.reset();
}

void run_blocking(const std::function<void()>& work) {
    EventLoop* loop = EventLoop::current();
    if (!loop)
        return work();
    std::exception_ptr failure;
    loop->run_elsewhere([&] {
        try {
            work();
        } catch (...) {
            failure = std::current_exception();
        }
    });
    if (failure)
        std::rethrow_exception(failure);
}

}  // namespace llmproxy
