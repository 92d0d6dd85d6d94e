// One keep-alive connection to an upstream. Poco's client session does the TCP connect (with the
// DNS lookup, on a task thread: loop/wait.hpp run_blocking); llm-proxy does the rest itself on
// the non-blocking socket, so that a waiting request suspends only its fiber: TLS with OpenSSL
// (the handshake, certificate and host name verification against the context's trust store),
// writing the request (head and body in one write where the transport allows) and reading the
// answer. Poco's TLS socket cannot wait without blocking its thread.
#pragma once

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace llmproxy {

class UpstreamSession {
  public:
    virtual ~UpstreamSession() = default;

    // The Poco session: its settings and socket.
    virtual Poco::Net::HTTPClientSession& http() = 0;

    // Connects when not connected, TLS handshake included (throws Poco::Exception: refused,
    // timed out, certificate). True when this call connected.
    virtual bool connect_if_needed() = 0;
    // Writes head then body. Throws Poco::TimeoutException (the upstream took nothing for the
    // read timeout) or Poco::IOException; sent_anything() then tells whether any byte of this
    // request left.
    virtual void send(std::string_view head, std::string_view body) = 0;
    virtual bool sent_anything() const = 0;
    // For an idle connection about to carry a request: false when the upstream has closed it or
    // sent something nobody asked for (the next answer read would not be the next request's), as
    // far as can be told without waiting. Plain connections on the caller's own event loop are
    // judged by the events that loop kept (no system call); others are peeked at.
    virtual bool reusable() = 0;
    // Reads what the connection has into to[0, cap), waiting up to the read timeout for at least
    // one byte; 0 when the upstream closed. Throws Poco::TimeoutException or Poco::IOException.
    virtual std::size_t receive(char* to, std::size_t cap) = 0;

    // Every wait for the upstream from now on (sending, reading) takes at most ms, until set
    // again; the read_timeout_ms given to create() until then.
    virtual void set_wait_ms(int ms) = 0;

    // The event loop whose epoll set holds the socket (an opaque key), or nullptr.
    virtual const void* home() const = 0;

    // A new, unconnected session; tls null for plain HTTP. connect_timeout_ms bounds the TLS
    // handshake's waits (the session's own timeout, its TCP connect), read_timeout_ms every wait
    // for the upstream once connected.
    static std::unique_ptr<UpstreamSession> create(const std::string& host, uint16_t port,
                                                   Poco::Net::Context::Ptr tls,
                                                   int connect_timeout_ms, int read_timeout_ms);
};

}  // namespace llmproxy
