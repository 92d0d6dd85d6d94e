// One keep-alive connection to an upstream. Poco's client session does the connecting (TCP, and
// for HTTPS the handshake with certificate and host name verification); llm-proxy writes the
// request itself, head and body in one write where the transport allows, and reads the answer
// itself (UpstreamResponse). Poco's request and response objects and stream layers cost more
// than the rest of relaying a small answer, and its head left in a segment of its own.
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

    // The Poco session: its settings (timeouts) and socket.
    virtual Poco::Net::HTTPClientSession& http() = 0;

    // Connects when not connected (throws Poco::Exception: refused, timed out, certificate).
    // True when this call connected.
    virtual bool connect_if_needed() = 0;
    // Writes head then body, in one system call for plain TCP when the socket takes them.
    // Throws Poco::TimeoutException or Poco::IOException.
    virtual void send(std::string_view head, std::string_view body) = 0;

    // A new, unconnected session; tls null for plain HTTP.
    static std::unique_ptr<UpstreamSession> create(const std::string& host, uint16_t port,
                                                   Poco::Net::Context::Ptr tls);
};

}  // namespace llmproxy
