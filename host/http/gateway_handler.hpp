// The HTTP entry point: CORS, /healthz, routing, method and body-size checks, then the request
// flow; one access-log line per request.
#pragma once

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <atomic>

#include "app/runtime.hpp"
#include "http/cors.hpp"
#include "upstream/disconnect_watcher.hpp"

namespace llmproxy {

class GatewayHandler {
  public:
    explicit GatewayHandler(Runtime& runtime);

    // [thread-safe] Answers one request; watch is the connection's disconnect watch.
    void handle(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response,
                DisconnectWatcher::Watch& watch);

    int requests_in_progress() const { return in_progress_; }

  private:
    Runtime& runtime_;
    Cors cors_;
    std::atomic<int> in_progress_{0};
};

}  // namespace llmproxy
