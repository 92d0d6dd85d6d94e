#include "loop/cancellation.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <system_error>

#include "loop/wait.hpp"

namespace llmproxy {

void Cancellation::cancel(Reason reason) {
    std::lock_guard lock(mutex_);
    if (!cancelled_)
        reason_ = reason;
    cancelled_ = true;
    if (fd_ >= 0)
        ::shutdown(fd_, SHUT_RDWR);
}

bool Cancellation::cancelled() const {
    std::lock_guard lock(mutex_);
    return cancelled_;
}

Cancellation::Reason Cancellation::reason() const {
    std::lock_guard lock(mutex_);
    return reason_;
}

void Cancellation::attach(int fd) {
    std::lock_guard lock(mutex_);
    fd_ = fd;
    if (cancelled_ && fd_ >= 0)
        ::shutdown(fd_, SHUT_RDWR);
}

void Cancellation::detach() {
    std::lock_guard lock(mutex_);
    fd_ = -1;
}

bool Cancellation::pause(int ms) {
    if (ms <= 0)
        return !cancelled();
    // One end of a socket pair stands in for the upstream socket: cancel() shuts it down, which
    // ends the wait for it to become readable.
    int ends[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, ends) != 0)
        throw std::system_error(errno, std::generic_category(), "socketpair for a pause");
    attach(ends[0]);
    const bool woken = wait_ready(ends[0], EPOLLIN, ms);
    detach();
    ::close(ends[0]);
    ::close(ends[1]);
    return !woken;
}

std::shared_ptr<Cancellation> ActiveRequests::start() {
    auto* cancellation = new Cancellation;
    {
        std::lock_guard lock(mutex_);
        active_.insert(cancellation);
    }
    return std::shared_ptr<Cancellation>(cancellation, [this](Cancellation* done) {
        {
            std::lock_guard lock(mutex_);
            active_.erase(done);
        }
        delete done;
    });
}

void ActiveRequests::cancel_all(Cancellation::Reason reason) {
    std::lock_guard lock(mutex_);
    for (Cancellation* cancellation : active_)
        cancellation->cancel(reason);
}

}  // namespace llmproxy
