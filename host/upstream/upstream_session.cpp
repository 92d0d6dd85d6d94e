#include "upstream/upstream_session.hpp"

#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetException.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <type_traits>

#include "http/socket_write.hpp"

namespace llmproxy {

namespace {

// Writes head and body on the plain TCP socket fd, in one sendmsg when the socket takes both.
void send_all(int fd, std::string_view head, std::string_view body) {
    int error = write_all(fd, {head, body});
    if (error == EAGAIN)  // SO_SNDTIMEO passed
        throw Poco::TimeoutException("sending to the upstream timed out");
    if (error != 0)
        throw Poco::IOException(std::string("sending to the upstream failed: ") +
                                std::strerror(error));
}

// Base is HTTPClientSession or HTTPSClientSession: their connect() is what llm-proxy uses.
template <class Base>
class ConnectedSession final : public Base, public UpstreamSession {
  public:
    using Base::Base;

    Poco::Net::HTTPClientSession& http() override { return *this; }

    bool connect_if_needed() override {
        if (this->connected())
            return false;
        this->reconnect();
        return true;
    }

    void send(std::string_view head, std::string_view body) override {
        if constexpr (std::is_same_v<Base, Poco::Net::HTTPClientSession>) {
            send_all(this->socket().impl()->sockfd(), head, body);
        } else if (body.size() <= kJoinLimit) {
            // TLS: a small body joins the head in one record stream write.
            std::string joined;
            joined.reserve(head.size() + body.size());
            joined.append(head).append(body);
            write_through(joined);
        } else {
            write_through(head);
            write_through(body);
        }
    }

  private:
    static constexpr std::size_t kJoinLimit = 64 * 1024;

    void write_through(std::string_view data) {
        while (!data.empty()) {
            int chunk = static_cast<int>(std::min<std::size_t>(data.size(), 1u << 30));
            int sent = this->socket().sendBytes(data.data(), chunk);
            if (sent <= 0)
                throw Poco::IOException("the upstream connection closed while sending");
            data.remove_prefix(static_cast<std::size_t>(sent));
        }
    }
};

}  // namespace

std::unique_ptr<UpstreamSession> UpstreamSession::create(const std::string& host, uint16_t port,
                                                         Poco::Net::Context::Ptr tls) {
    if (tls)
        return std::make_unique<ConnectedSession<Poco::Net::HTTPSClientSession>>(host, port, tls);
    return std::make_unique<ConnectedSession<Poco::Net::HTTPClientSession>>(host, port);
}

}  // namespace llmproxy
