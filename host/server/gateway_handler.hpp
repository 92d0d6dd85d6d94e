// The HTTP entry point: CORS, /healthz, routing, method and body-size checks, then the request
// flow; one access-log line per request.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <vector>

#include <atomic>

#include "http/client_socket.hpp"
#include "http/hang_up_watch.hpp"
#include "http/http_request.hpp"
#include "http/http_response.hpp"
#include "loop/cancellation.hpp"
#include "runtime/runtime.hpp"
#include "server/access_log.hpp"
#include "server/cors.hpp"
#include "server/status_page.hpp"

namespace llmproxy {

class GatewayHandler {
  public:
    // Serves runtime. status_dirs: where the status page's files may be (the first holding
    // index.html is used).
    explicit GatewayHandler(std::shared_ptr<Runtime> runtime,
                            const std::vector<std::filesystem::path>& status_dirs = {});

    // [thread-safe] Serves runtime from now on (a reload): each request keeps the runtime it
    // started on to its end, and the one before is freed when its last request ends.
    void serve(std::shared_ptr<Runtime> runtime);

    // [thread-safe] Answers one request whose head was read from client (the body, if any, is
    // still to be read from it); watch is the connection's disconnect watch. On a route with
    // auth, the client's credentials are removed from request.headers.
    void handle(ClientSocket& client, HttpRequest& request, HttpResponse& response,
                HangUpWatch& watch);

    int requests_in_progress() const { return in_progress_; }
    // [thread-safe] Whether GET /readyz says ready: from start_serving() until start_draining().
    void start_serving() { ready_ = true; }
    void start_draining() { ready_ = false; }
    // [thread-safe] Ends every request in progress: their upstream calls are cut, and their
    // clients get a 503 shutting_down (an error event for streams that started).
    void cut_requests_for_shutdown() { active_.cancel_all(Cancellation::Reason::shutting_down); }
    // GET /metrics shows this count of open client connections (the server's; it outlives this).
    void show_connections(const std::atomic<int>& open) { open_connections_ = &open; }

  private:
    // What a request is served with, taken once when it starts.
    struct Serving {
        explicit Serving(std::shared_ptr<Runtime> runtime);
        std::shared_ptr<Runtime> runtime;
        Cors cors;
        AccessLog access_log;
    };

    // Counts the answered request (by its client key too, when it came with one), and ends its
    // span when its trace records.
    void record(Runtime& runtime, const RouteRuntime* route, const ClientKey* key,
                const std::string& method, const std::string& path, const std::string& request_id,
                const RequestTrace& trace, const FlowOutcome& outcome, double ms);
    // GET /status, its files, and /status/errors.
    void serve_status_page(const std::string& method, const std::string& path,
                           HttpResponse& response);
    // GET /metrics: the runtime's counts, and the requests and connections open now.
    std::string metrics_text() const;

    // A mutex rather than std::atomic<std::shared_ptr>: libstdc++ 12's lock-bit implementation
    // reads the pointer in a way ThreadSanitizer reports as a race. The lock is held for a
    // reference count's increment.
    std::shared_ptr<Serving> current() const;
    mutable std::mutex serving_mutex_;
    std::shared_ptr<Serving> serving_;
    StatusPage status_page_;
    RecentErrors recent_errors_;
    std::atomic<int> in_progress_{0};
    std::atomic<bool> ready_{false};
    ActiveRequests active_;
    const std::atomic<int>* open_connections_ = nullptr;
};

}  // namespace llmproxy
