// The request whose work runs now, which every log line written meanwhile names
// ("request_id=ID" before the message). It is per thread, and fibers share threads: the event loop
// gives each fiber its own, swapping it in and out as fibers run (EventLoop::resume).
#pragma once

#include <string>

namespace llmproxy {

// The id of the request running on this thread (a fiber's, on an event loop), or nullptr.
const std::string* current_request_id();
// Sets it: id must outlive its use, or be reset to nullptr before it goes.
void set_current_request_id(const std::string* id);

// Names id in the log lines of this scope, then restores the one before.
class RequestLogScope {
  public:
    explicit RequestLogScope(const std::string* id) : before_(current_request_id()) {
        set_current_request_id(id);
    }
    ~RequestLogScope() { set_current_request_id(before_); }
    RequestLogScope(const RequestLogScope&) = delete;
    RequestLogScope& operator=(const RequestLogScope&) = delete;

  private:
    const std::string* before_;
};

}  // namespace llmproxy
