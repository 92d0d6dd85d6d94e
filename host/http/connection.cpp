#include "http/connection.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/client_socket.hpp"
#include "http/gateway_handler.hpp"
#include "http/hang_up_watch.hpp"
#include "http/http_request.hpp"
#include "http/http_response.hpp"
#include "http/responses.hpp"

namespace llmproxy {

namespace {

// The longest a client may pause while sending a request, and before its first one.
constexpr int kRequestReadTimeoutMs = 60000;

// A request whose head cannot be read gets an OpenAI-style error rather than a bare close.
void refuse(ClientSocket& client, const ApiError& error) {
    if (error.status == ApiError::client_closed().status)
        return;  // nobody to tell
    spdlog::info("access status={} error=\"{}\"", error.status, error.message);
    HttpResponse response(client, nullptr, false);
    send_error(response, error);
    client.linger_before_close();
}

void serve_requests(int fd, const ConnectionSettings& settings, GatewayHandler& handler,
                    ConnectionRegistry& registry) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // never hold back an event

    ClientSocket client(fd, kRequestReadTimeoutMs, settings.client_send_timeout_ms);
    HangUpWatch watch(client);
    HttpRequest request;
    int wait_ms = kRequestReadTimeoutMs;
    while (!registry.stopping() && client.wait_for_request(wait_ms)) {
        wait_ms = settings.keep_alive_timeout_ms;
        try {
            if (!client.read_head(request))
                break;  // the client closed the connection between requests
        } catch (const ApiException& e) {
            refuse(client, e.error());
            break;
        }
        HttpResponse response(client, &request,
                              settings.keep_alive_timeout_ms > 0 && !registry.stopping());
        handler.handle(client, request, response, watch);
        response.finish();
        if (client.broken())
            break;
        if (!response.keep_alive()) {
            // The client may still be sending a body we refused.
            if (client.body_pending())
                client.linger_before_close();
            break;
        }
    }
}

}  // namespace

void ConnectionRegistry::stop(bool abort) {
    stopping_ = true;
    if (!abort)
        return;
    std::lock_guard lock(mutex_);
    for (int fd : fds_)
        ::shutdown(fd, SHUT_RDWR);
}

void ConnectionRegistry::add(int fd) {
    std::lock_guard lock(mutex_);
    fds_.insert(fd);
}

void ConnectionRegistry::remove(int fd) {
    std::lock_guard lock(mutex_);
    fds_.erase(fd);
}

void serve_connection(int fd, const ConnectionSettings& settings, GatewayHandler& handler,
                      ConnectionRegistry& registry) {
    registry.add(fd);
    try {
        serve_requests(fd, settings, handler, registry);
    } catch (const std::exception& e) {
        spdlog::error("a client connection failed: {}", e.what());
    }
    registry.remove(fd);
    ::close(fd);
}

}  // namespace llmproxy
