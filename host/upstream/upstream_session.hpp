// A keep-alive client session to an upstream that sends a request's head and body in one write.
// Poco's HTTPClientSession writes the head on its own as soon as sendRequest() returns; a separate
// small segment costs the upstream a second wake-up, and holding it back with TCP_CORK costs two
// more system calls per request. This session keeps the head until the body is ready instead.
#pragma once

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>

#include <memory>
#include <string>
#include <string_view>

namespace llmproxy {

class UpstreamSession {
  public:
    virtual ~UpstreamSession() = default;

    // The Poco session, for sendRequest(), receiveResponse() and the socket.
    virtual Poco::Net::HTTPClientSession& http() = 0;

    // Until send_held_with() is called, what the session writes (the request head) is kept.
    virtual void hold_writes() = 0;
    // Sends what was kept, then body, in as few writes as the transport allows (one for plain
    // TCP); stops holding. Throws Poco::TimeoutException or Poco::IOException.
    virtual void send_held_with(std::string_view body) = 0;

    // A new, unconnected session; tls null for plain HTTP.
    static std::unique_ptr<UpstreamSession> create(const std::string& host, uint16_t port,
                                                   Poco::Net::Context::Ptr tls);
};

}  // namespace llmproxy
