#include "server/connection.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include "http/client_socket.hpp"
#include "http/hang_up_watch.hpp"
#include "http/http_request.hpp"
#include "http/http_response.hpp"
#include "http/responses.hpp"
#include "server/gateway_handler.hpp"

namespace llmproxy {

namespace {

// A request whose head cannot be read gets an OpenAI-style error rather than a bare close.
void refuse(ClientSocket& client, const ApiError& error) {
    if (error.status == ApiError::client_closed().status)
        return;  // nobody to tell, nothing worth a log line
    spdlog::info("access status={} error=\"{}\"", error.status, error.message);
    HttpResponse response(client, nullptr, false);
    send_error(response, error);
    client.linger_before_close();
}

void serve_requests(int fd, const ConnectionSettings& settings, GatewayHandler& handler,
                    ConnectionRegistry& registry) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // never hold back an event

    const auto opened = ClientSocket::Clock::now();
    const auto head_timeout = std::chrono::milliseconds(settings.client.head_timeout_ms);
    ClientSocket client(fd, settings.client);
    HangUpWatch watch(client);
    HttpRequest request;
    // The first request's head is due within the head timeout of the connection's start; later
    // ones may wait for keep_alive_timeout_ms, then have the head timeout from their first byte.
    bool first = true;
    while (!registry.stopping() &&
           client.wait_for_request(first ? settings.client.head_timeout_ms
                                         : settings.keep_alive_timeout_ms)) {
        auto deadline = (first ? opened : ClientSocket::Clock::now()) + head_timeout;
        first = false;
        try {
            if (!client.read_head(request, deadline))
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
