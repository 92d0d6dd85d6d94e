// Watches the client connections of requests in flight and cancels a request the moment its
// client goes away, whether the request is streaming or not, and also before the first upstream
// byte: a provider must not go on generating (and billing) for nobody. One thread, one epoll set.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "upstream/cancellation.hpp"

namespace llmproxy {

class DisconnectWatcher {
  public:
    DisconnectWatcher();
    ~DisconnectWatcher();
    DisconnectWatcher(const DisconnectWatcher&) = delete;
    DisconnectWatcher& operator=(const DisconnectWatcher&) = delete;

    // [thread-safe] Watches client_fd until the returned guard is destroyed; when the peer hangs
    // up, cancellation->cancel() is called. Destroy the guard before closing client_fd.
    class Watch {
      public:
        Watch(DisconnectWatcher* owner, uint64_t id, int fd) : owner_(owner), id_(id), fd_(fd) {}
        ~Watch();
        Watch(const Watch&) = delete;
        Watch& operator=(const Watch&) = delete;

      private:
        DisconnectWatcher* owner_;
        uint64_t id_;
        int fd_;
    };
    std::unique_ptr<Watch> watch(int client_fd, std::shared_ptr<Cancellation> cancellation);

  private:
    void run();
    void unwatch(uint64_t id, int fd);

    int epoll_fd_ = -1;
    int wake_fd_ = -1;
    std::atomic<bool> stopping_{false};
    std::mutex mutex_;
    uint64_t next_id_ = 1;
    std::unordered_map<uint64_t, std::shared_ptr<Cancellation>> watched_;
    std::thread thread_;
};

}  // namespace llmproxy
