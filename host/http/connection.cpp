#include "http/connection.hpp"

#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponseImpl.h>
#include <Poco/Net/HTTPServerSession.h>
#include <Poco/Net/NetException.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <ostream>
#include <string>

#include "http/gateway_handler.hpp"
#include "http/responses.hpp"

namespace llmproxy {

namespace {

// Poco's server session, with a cheaper wait for the next request.
class Session : public Poco::Net::HTTPServerSession {
  public:
    Session(const Poco::Net::StreamSocket& socket, Poco::Net::HTTPServerParams::Ptr params)
        : HTTPServerSession(socket, params), params_(params) {}

    // Waits for the next request: the request timeout for the first one, the keep-alive timeout
    // after that. False when the client is done, gone or too slow.
    bool next_request() {
        if (!socket().impl()->initialized())
            return false;
        Poco::Timespan timeout = params_->getTimeout();
        if (!first_) {
            if (!getKeepAlive())
                return false;
            timeout = params_->getKeepAliveTimeout();
        }
        first_ = false;
        if (buffered() > 0)
            return true;  // a pipelined request is already here
        pollfd p{socket().impl()->sockfd(), POLLIN, 0};
        return ::poll(&p, 1, static_cast<int>(timeout.totalMilliseconds())) > 0;
    }

  private:
    Poco::Net::HTTPServerParams::Ptr params_;
    bool first_ = true;
};

class GatewayConnection : public Poco::Net::TCPServerConnection {
  public:
    GatewayConnection(const Poco::Net::StreamSocket& socket,
                      Poco::Net::HTTPServerParams::Ptr params, GatewayHandler& handler,
                      ConnectionRegistry& registry, DisconnectWatcher& watcher)
        : TCPServerConnection(socket),
          params_(params),
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
        DisconnectWatcher::Watch watch(watcher_, socket().impl()->sockfd());
        Session session(socket(), params_);
        while (!registry_.stopping() && session.next_request()) {
            try {
                Poco::Net::HTTPServerResponseImpl response(session);
                Poco::Net::HTTPServerRequestImpl request(response, session, params_.get());
                response.setDate(Poco::Timestamp());
                response.setVersion(request.getVersion());
                response.setKeepAlive(params_->getKeepAlive() && request.getKeepAlive() &&
                                      !registry_.stopping());
                response.set("Server", "llm-proxy");
                if (request.getExpectContinue() &&
                    response.getStatus() == Poco::Net::HTTPResponse::HTTP_OK)
                    response.sendContinue();
                handler_.handle(request, response, watch);
                session.setKeepAlive(params_->getKeepAlive() && response.getKeepAlive());
            } catch (const Poco::Net::NoMessageException&) {
                break;  // the client closed the connection between requests
            } catch (const Poco::Net::MessageException& e) {
                bad_request(session, e.displayText());
                break;
            } catch (const Poco::Exception& e) {
                spdlog::debug("connection ended: {}", e.displayText());
                break;
            }
        }
    }

  private:
    // A request that is not HTTP gets an OpenAI-style 400 rather than a bare close.
    void bad_request(Session& session, const std::string& why) {
        try {
            Poco::Net::HTTPServerResponseImpl response(session);
            response.setKeepAlive(false);
            // No request object exists, so sendBuffer() would drop the body: write it ourselves.
            std::string body =
                ApiError::bad_request("invalid_http", "malformed HTTP request: " + why).to_json();
            response.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_BAD_REQUEST);
            response.setContentType("application/json");
            response.setContentLength(static_cast<std::streamsize>(body.size()));
            response.send() << body << std::flush;
        } catch (const Poco::Exception&) {
            // The client is gone.
        }
    }

    Poco::Net::HTTPServerParams::Ptr params_;
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
    return new GatewayConnection(socket, params_, handler_, registry_, watcher_);
}

}  // namespace llmproxy
