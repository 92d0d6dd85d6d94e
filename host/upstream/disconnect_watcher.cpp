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

DisconnectWatcher::Watch::Watch(DisconnectWatcher& owner, int fd) : owner_(owner), fd_(fd) {
    {
        std::lock_guard lock(owner_.mutex_);
        id_ = owner_.next_id_++;
        owner_.watched_.emplace(id_, this);
    }
    // Only hang-ups are watched (EPOLLRDHUP; EPOLLHUP and EPOLLERR always report), never
    // readability: the next request on a kept-alive connection must not look like a departure.
    epoll_event ev{};
    ev.events = EPOLLRDHUP | EPOLLONESHOT;  // a connection hangs up once
    ev.data.u64 = id_;
    if (epoll_ctl(owner_.epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0)
        spdlog::debug("cannot watch client socket {}: {}", fd, errno);
}

DisconnectWatcher::Watch::~Watch() {
    epoll_ctl(owner_.epoll_fd_, EPOLL_CTL_DEL, fd_, nullptr);
    std::lock_guard lock(owner_.mutex_);  // the watcher thread holds it while it uses a Watch
    owner_.watched_.erase(id_);
}

void DisconnectWatcher::Watch::set(std::shared_ptr<Cancellation> cancellation) {
    std::lock_guard lock(mutex_);
    current_ = std::move(cancellation);
    if (hung_up_ && current_)
        current_->cancel();  // the client left before this request went upstream
}

void DisconnectWatcher::run() {
    epoll_event events[64];
    while (!stopping_) {
        int n = epoll_wait(epoll_fd_, events, 64, -1);
        for (int i = 0; i < n; ++i) {
            uint64_t id = events[i].data.u64;
            if (id == 0)
                continue;
            std::lock_guard lock(mutex_);
            auto it = watched_.find(id);
            if (it == watched_.end())
                continue;  // the connection ended meanwhile
            Watch& watch = *it->second;
            std::lock_guard watch_lock(watch.mutex_);
            watch.hung_up_ = true;
            if (watch.current_)
                watch.current_->cancel();
        }
    }
}

}  // namespace llmproxy
