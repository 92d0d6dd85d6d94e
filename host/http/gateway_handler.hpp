// The HTTP entry point: CORS, /healthz, routing, method and body-size checks, then the request
// flow; one access-log line per request.
#pragma once

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>

#include "app/runtime.hpp"
#include "http/cors.hpp"
#include "http/server.hpp"

namespace llmproxy {

class GatewayHandlerFactory : public DrainableHandlerFactory {
  public:
    explicit GatewayHandlerFactory(Runtime& runtime);
    Poco::Net::HTTPRequestHandler* createRequestHandler(
        const Poco::Net::HTTPServerRequest& request) override;

    void handle(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response);

  private:
    Runtime& runtime_;
    Cors cors_;
};

}  // namespace llmproxy
