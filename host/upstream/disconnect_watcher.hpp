// Watches client connections and cancels the request in progress the moment its client goes
// away, whether the request is streaming or not, and also before the first upstream byte: a
// provider must not go on generating (and billing) for nobody. One thread, one epoll set; a
// connection is registered once, and each request only swaps the cancellation it carries.
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

    // One client connection under watch, from construction until destruction (which must come
    // before the socket is closed).
    class Watch {
      public:
        Watch(DisconnectWatcher& owner, int fd);
        ~Watch();
        Watch(const Watch&) = delete;
        Watch& operator=(const Watch&) = delete;

        // [thread-safe] The request in progress on this connection; a hang-up cancels it.
        // nullptr: no request is waiting on an upstream.
        void set(std::shared_ptr<Cancellation> cancellation);

      private:
        friend class DisconnectWatcher;
        DisconnectWatcher& owner_;
        int fd_;
        uint64_t id_;
        std::mutex mutex_;
        std::shared_ptr<Cancellation> current_;
        bool hung_up_ = false;
    };

  private:
    void run();

    int epoll_fd_ = -1;
    int wake_fd_ = -1;
    std::atomic<bool> stopping_{false};
    std::mutex mutex_;
    uint64_t next_id_ = 1;
    std::unordered_map<uint64_t, Watch*> watched_;
    std::thread thread_;
};

}  // namespace llmproxy
