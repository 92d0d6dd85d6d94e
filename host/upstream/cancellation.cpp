#include "upstream/cancellation.hpp"

#include <sys/socket.h>

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
