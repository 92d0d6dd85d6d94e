#include "upstream/upstream_client.hpp"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <Poco/URI.h>
#include <spdlog/spdlog.h>

#include "http/api_error.hpp"
#include "upstream/tls_context.hpp"

namespace llmproxy {

namespace {

PoolSettings pool_settings(const LlmConfig& llm) {
    Poco::URI uri(llm.base_url);
    PoolSettings s;
    s.host = uri.getHost();
    s.port = uri.getPort();
    if (uri.getScheme() == "https")
        s.tls = client_tls_context(llm.ca_file);
    s.connect_timeout_ms = llm.connect_timeout_ms;
    s.read_timeout_ms = llm.read_timeout_ms;
    s.max_idle = static_cast<std::size_t>(llm.max_idle_connections);
    return s;
}

std::string strip_trailing_slash(std::string path) {
    while (!path.empty() && path.back() == '/')
        path.pop_back();
    return path;
}

// Is this the failure of a reused connection that the peer closed while it sat idle?
bool stale_connection(const Poco::Exception& e) {
    return dynamic_cast<const Poco::Net::NoMessageException*>(&e) ||
           dynamic_cast<const Poco::Net::ConnectionResetException*>(&e) ||
           dynamic_cast<const Poco::Net::ConnectionAbortedException*>(&e) ||
           dynamic_cast<const Poco::IOException*>(&e);
}

}  // namespace

UpstreamClient::UpstreamClient(const LlmConfig& llm)
    : llm_name_(llm.name),
      base_url_(llm.base_url),
      base_path_(strip_trailing_slash(Poco::URI(llm.base_url).getPathEtc())),
      host_header_(Poco::URI(llm.base_url).getAuthority()),
      connect_timeout_ms_(llm.connect_timeout_ms),
      read_timeout_ms_(llm.read_timeout_ms),
      pool_(pool_settings(llm)) {}

std::unique_ptr<UpstreamResponse> UpstreamClient::send(const UpstreamRequest& request,
                                                       Cancellation& cancel) {
    Poco::Net::HTTPRequest head(request.method, base_path_ + request.path,
                                Poco::Net::HTTPMessage::HTTP_1_1);
    head.setHost(host_header_);
    for (const auto& [name, value] : request.headers)
        head.set(name, value);
    head.setContentLength(static_cast<std::streamsize>(request.body.size()));
    head.setKeepAlive(true);

    for (int attempt = 0;; ++attempt) {
        if (cancel.cancelled())
            throw ApiException(ApiError::client_closed());
        ConnectionPool::Lease lease = pool_.acquire();
        bool sent = false;
        try {
            Poco::Net::HTTPClientSession& http = lease.session->http();
            if (lease.reused)
                cancel.attach(http.socket().impl()->sockfd());
            lease.session->hold_writes();
            // Connects a new session; the head is written (and held back) on flush.
            std::ostream& head_out = http.sendRequest(head);
            head_out.flush();
            if (!head_out.good())
                throw Poco::IOException("the upstream connection closed while sending");
            if (!lease.reused) {
                cancel.attach(http.socket().impl()->sockfd());
                // Never let Nagle hold a segment back for an ACK.
                http.socket().setNoDelay(true);
            }
            // Poco's request stream would cut the body into 4 KiB writes, hundreds of system
            // calls for a long-context request; head and body leave together instead.
            lease.session->send_held_with(request.body);
            sent = true;
            auto response = std::make_unique<UpstreamResponse>(*this, std::move(lease), cancel);
            return response;
        } catch (const Poco::Exception& e) {
            cancel.detach();
            if (cancel.cancelled())
                throw ApiException(ApiError::client_closed());
            if (lease.reused && attempt == 0 && stale_connection(e)) {
                spdlog::debug(
                    "upstream {}: reused connection was closed ({}); retrying on a new one",
                    llm_name_, e.displayText());
                continue;
            }
            if (dynamic_cast<const Poco::TimeoutException*>(&e))
                throw ApiException(ApiError::gateway_timeout(
                    "upstream '" + llm_name_ + "' (" + base_url_ + ") did not " +
                    (sent ? "answer within read_timeout_ms = " + std::to_string(read_timeout_ms_)
                          : "accept the connection within connect_timeout_ms = " +
                                std::to_string(connect_timeout_ms_))));
            throw ApiException(ApiError::bad_gateway(
                "upstream_unreachable", "cannot reach upstream '" + llm_name_ + "' at " +
                                            base_url_ + ": " + e.displayText()));
        }
    }
}

UpstreamResponse::UpstreamResponse(UpstreamClient& client, ConnectionPool::Lease lease,
                                   Cancellation& cancel)
    : client_(client), lease_(std::move(lease)), cancel_(cancel) {
    // Exceptions here propagate to UpstreamClient::send, which maps them.
    body_ = &lease_.session->http().receiveResponse(head_);
    body_->exceptions(std::ios::badbit);
}

UpstreamResponse::~UpstreamResponse() {
    cancel_.detach();
    if (at_end_ && !cancel_.cancelled() && head_.getKeepAlive())
        client_.pool().release(std::move(lease_.session));
}

void UpstreamResponse::fail(const std::exception& e) {
    cancel_.detach();
    if (cancel_.cancelled())
        throw ApiException(ApiError::client_closed());
    if (dynamic_cast<const Poco::TimeoutException*>(&e))
        throw ApiException(ApiError::gateway_timeout(
            "upstream '" + client_.llm_name() +
            "' sent nothing for read_timeout_ms = " + std::to_string(client_.read_timeout_ms())));
    std::string what = e.what();
    if (auto* pe = dynamic_cast<const Poco::Exception*>(&e))
        what = pe->displayText();
    throw ApiException(ApiError::bad_gateway(
        "upstream_broken",
        "the connection to upstream '" + client_.llm_name() + "' failed: " + what));
}

std::size_t UpstreamResponse::read_some(char* buffer, std::size_t cap) {
    if (at_end_ || cap == 0)
        return 0;
    try {
        int first = body_->get();
        if (first == std::char_traits<char>::eof()) {
            if (cancel_.cancelled())
                throw Poco::IOException("cancelled");
            at_end_ = true;
            return 0;
        }
        buffer[0] = static_cast<char>(first);
        return 1 + static_cast<std::size_t>(
                       body_->readsome(buffer + 1, static_cast<std::streamsize>(cap - 1)));
    } catch (const ApiException&) {
        throw;
    } catch (const std::exception& e) {
        fail(e);
    }
}

std::string UpstreamResponse::read_all(std::size_t limit) {
    std::string body;
    char buffer[16384];
    while (std::size_t n = read_some(buffer, sizeof buffer)) {
        if (body.size() + n > limit) {
            throw ApiException(ApiError::bad_gateway("upstream_response_too_large",
                                                     "upstream '" + client_.llm_name() +
                                                         "' sent a body larger than " +
                                                         std::to_string(limit) + " bytes"));
        }
        body.append(buffer, n);
    }
    return body;
}

}  // namespace llmproxy
