// Cancellation of one request's upstream I/O from another thread or fiber: its client left, or
// llm-proxy is shutting down. The request attaches the upstream socket while it uses it; cancel()
// shuts that socket down, which wakes a waiting read or write at once.
#pragma once

#include <memory>
#include <mutex>
#include <unordered_set>

namespace llmproxy {

class Cancellation {
  public:
    enum class Reason {
        client_left,    // nobody is listening any more
        shutting_down,  // llm-proxy stops; the client is still there to be told
    };

    // [thread-safe] Marks the request cancelled and shuts down the attached socket, if any. The
    // first reason given stays.
    void cancel(Reason reason = Reason::client_left);
    bool cancelled() const;
    Reason reason() const;

    // [request thread] While attached, cancel() shuts fd down. attach() on an already cancelled
    // request shuts fd down at once. detach() before the socket is closed or reused.
    void attach(int fd);
    void detach();

    // [request thread] Waits ms milliseconds, or less when the request is cancelled (at once if it
    // is already). True when the whole time passed. Only the fiber waits, on an event loop.
    bool pause(int ms);

  private:
    mutable std::mutex mutex_;
    int fd_ = -1;
    bool cancelled_ = false;
    Reason reason_ = Reason::client_left;
};

// The cancellations of the requests in progress, so that a shut-down reaches every one of them.
class ActiveRequests {
  public:
    // [thread-safe] A new cancellation, registered until the returned handle is destroyed.
    std::shared_ptr<Cancellation> start();
    // [thread-safe] Cancels every request in progress.
    void cancel_all(Cancellation::Reason reason);

  private:
    std::mutex mutex_;
    std::unordered_set<Cancellation*> active_;
};

}  // namespace llmproxy
