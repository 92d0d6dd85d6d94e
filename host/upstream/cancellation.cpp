#include "upstream/cancellation.hpp"

#include <sys/socket.h>

namespace llmproxy {

void Cancellation::cancel() {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
    if (fd_ >= 0)
        ::shutdown(fd_, SHUT_RDWR);
}

bool Cancellation::cancelled() const {
    std::lock_guard lock(mutex_);
    return cancelled_;
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

}  // namespace llmproxy
