#include "http/connection.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "http/client_socket.hpp"
#include "http/gateway_handler.hpp"
#include "http/http_request.hpp"
#include "http/http_response.hpp"
#include "http/responses.hpp"

namespace llmproxy {

namespace {

// The longest a client may pause while sending a request, and before its first one.
constexpr int kRequestReadTimeoutMs = 60000;

class GatewayConnection : public Poco::Net::TCPServerConnection {
  public:
    GatewayConnection(const Poco::Net::StreamSocket& socket, const ConnectionSettings& settings,
                      GatewayHandler& handler, ConnectionRegistry& registry,
                      DisconnectWatcher& watcher)
        : TCPServerConnection(socket),
          settings_(settings),
          handler_(handler),
          registry_(registry),
          watcher_(watcher) {}

    void run() override {
        registry_.add(socket());
        struct Unregister {
            ConnectionRegistry& registry;
            Poco::Net::StreamSocket& socket;
            ~Unregister() { registry.remove(socket); }
        } unregister{registry_, socket()};
        const int fd = socket().impl()->sockfd();
        timeval read_timeout{kRequestReadTimeoutMs / 1000, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &read_timeout, sizeof read_timeout);

        DisconnectWatcher::Watch watch(watcher_, fd);
        ClientSocket client(fd);
        HttpRequest request;
        int wait_ms = kRequestReadTimeoutMs;
        while (!registry_.stopping() && client.wait_for_request(wait_ms)) {
            wait_ms = settings_.keep_alive_timeout_ms;
            try {
                if (!client.read_head(request))
                    break;  // the client closed the connection between requests
            } catch (const ApiException& e) {
                refuse(client, e.error());
                break;
            }
            HttpResponse response(client, &request,
                                  settings_.keep_alive_timeout_ms > 0 && !registry_.stopping());
            handler_.handle(client, request, response, watch);
            response.finish();
            if (client.broken())
                break;
            if (!response.keep_alive()) {
                // The client may still be sending a body we refused.
                if (request.has_body())
                    client.linger_before_close();
                break;
            }
        }
    }

  private:
    // A request whose head cannot be read gets an OpenAI-style error rather than a bare close.
    void refuse(ClientSocket& client, const ApiError& error) {
        if (error.status == ApiError::client_closed().status)
            return;  // nobody to tell
        spdlog::info("access status={} error=\"{}\"", error.status, error.message);
        HttpResponse response(client, nullptr, false);
        send_error(response, error);
        client.linger_before_close();
    }

    const ConnectionSettings& settings_;
    GatewayHandler& handler_;
    ConnectionRegistry& registry_;
    DisconnectWatcher& watcher_;
};

}  // namespace

void ConnectionRegistry::stop(bool abort) {
    stopping_ = true;
    if (!abort)
        return;
    std::lock_guard lock(mutex_);
    for (auto* socket : sockets_)
        ::shutdown(socket->impl()->sockfd(), SHUT_RDWR);
}

void ConnectionRegistry::add(Poco::Net::StreamSocket& socket) {
    std::lock_guard lock(mutex_);
    sockets_.insert(&socket);
}

void ConnectionRegistry::remove(Poco::Net::StreamSocket& socket) {
    std::lock_guard lock(mutex_);
    sockets_.erase(&socket);
}

Poco::Net::TCPServerConnection* GatewayConnectionFactory::createConnection(
    const Poco::Net::StreamSocket& socket) {
    return new GatewayConnection(socket, settings_, handler_, registry_, watcher_);
}

}  // namespace llmproxy
