// Cancellation of one request's upstream I/O from another thread. The request thread attaches the
// upstream socket while it uses it; cancel() shuts that socket down, which wakes a blocked read or
// write at once (the documented way to abort a Poco socket call from another thread).
#pragma once

#include <mutex>

namespace llmproxy {

class Cancellation {
  public:
    // [thread-safe] Marks the request cancelled and shuts down the attached socket, if any.
    void cancel();
    bool cancelled() const;

    // [request thread] While attached, cancel() shuts fd down. attach() on an already cancelled
    // request shuts fd down at once. detach() before the socket is closed or reused.
    void attach(int fd);
    void detach();

  private:
    mutable std::mutex mutex_;
    int fd_ = -1;
    bool cancelled_ = false;
};

}  // namespace llmproxy
