// The HTTP entry point: CORS, /healthz, routing, method and body-size checks, then the request
// flow; one access-log line per request.
#pragma once

#include <atomic>

#include "runtime/runtime.hpp"
#include "http/client_socket.hpp"
#include "http/hang_up_watch.hpp"
#include "http/http_request.hpp"
#include "http/http_response.hpp"
#include "server/cors.hpp"
#include "loop/cancellation.hpp"

namespace llmproxy {

class GatewayHandler {
  public:
    explicit GatewayHandler(Runtime& runtime);

    // [thread-safe] Answers one request whose head was read from client (the body, if any, is
    // still to be read from it); watch is the connection's disconnect watch.
    void handle(ClientSocket& client, const HttpRequest& request, HttpResponse& response,
                HangUpWatch& watch);

    int requests_in_progress() const { return in_progress_; }
    // [thread-safe] Whether GET /readyz says ready: from start_serving() until start_draining().
    void start_serving() { ready_ = true; }
    void start_draining() { ready_ = false; }
    // [thread-safe] Ends every request in progress: their upstream calls are cut, and their
    // clients get a 503 shutting_down (an error event for streams that started).
    void cut_requests_for_shutdown() { active_.cancel_all(Cancellation::Reason::shutting_down); }

  private:
    Runtime& runtime_;
    Cors cors_;
    std::atomic<int> in_progress_{0};
    std::atomic<bool> ready_{false};
    ActiveRequests active_;
};

}  // namespace llmproxy
