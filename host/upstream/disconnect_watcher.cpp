#include "upstream/disconnect_watcher.hpp"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <stdexcept>

namespace llmproxy {

DisconnectWatcher::DisconnectWatcher() {
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (epoll_fd_ < 0 || wake_fd_ < 0)
        throw std::runtime_error("cannot create the epoll set");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = 0;  // id 0 is the wake-up descriptor
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
    thread_ = std::thread([this] { run(); });
}

DisconnectWatcher::~DisconnectWatcher() {
    stopping_ = true;
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
    thread_.join();
    ::close(wake_fd_);
    ::close(epoll_fd_);
}

std::unique_ptr<DisconnectWatcher::Watch> DisconnectWatcher::watch(
    int client_fd, std::shared_ptr<Cancellation> cancellation) {
    uint64_t id;
    {
        std::lock_guard lock(mutex_);
        id = next_id_++;
        watched_.emplace(id, std::move(cancellation));
    }
    // Only hang-ups are watched (EPOLLRDHUP; EPOLLHUP and EPOLLERR always report), never
    // readability: a pipelined next request must not look like a departure.
    epoll_event ev{};
    ev.events = EPOLLRDHUP | EPOLLONESHOT;  // fire once; unwatch removes it
    ev.data.u64 = id;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, client_fd, &ev) != 0)
        spdlog::debug("cannot watch client socket {}: {}", client_fd, errno);
    return std::make_unique<Watch>(this, id, client_fd);
}

DisconnectWatcher::Watch::~Watch() {
    owner_->unwatch(id_, fd_);
}

void DisconnectWatcher::unwatch(uint64_t id, int fd) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    std::lock_guard lock(mutex_);
    watched_.erase(id);
}

void DisconnectWatcher::run() {
    epoll_event events[64];
    while (!stopping_) {
        int n = epoll_wait(epoll_fd_, events, 64, -1);
        for (int i = 0; i < n; ++i) {
            uint64_t id = events[i].data.u64;
            if (id == 0)
                continue;
            std::shared_ptr<Cancellation> cancellation;
            {
                std::lock_guard lock(mutex_);
                auto it = watched_.find(id);
                if (it == watched_.end())
                    continue;  // unwatched meanwhile
                cancellation = std::move(it->second);
                watched_.erase(it);
            }
            cancellation->cancel();
        }
    }
}

}  // namespace llmproxy
