#include "upstream/upstream_session.hpp"

#include <Poco/Net/IPAddress.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "http/socket_write.hpp"
#include "loop/wait.hpp"

namespace llmproxy {

namespace {

// A TLS request body up to this size joins the head in one record write.
constexpr std::size_t kJoinLimit = 64 * 1024;

std::string openssl_errors() {
    std::string text;
    while (unsigned long code = ERR_get_error()) {
        char line[256];
        ERR_error_string_n(code, line, sizeof line);
        text.append(text.empty() ? "" : "; ").append(line);
    }
    return text;
}

int clamp_to_int(std::size_t n) {
    return static_cast<int>(std::min<std::size_t>(n, INT_MAX));
}

class Session final : public Poco::Net::HTTPClientSession, public UpstreamSession {
  public:
    Session(const std::string& host, uint16_t port, Poco::Net::Context::Ptr tls,
            int connect_timeout_ms, int read_timeout_ms)
        : HTTPClientSession(host, port),
          tls_(std::move(tls)),
          connect_timeout_ms_(connect_timeout_ms),
          read_timeout_ms_(read_timeout_ms) {}

    ~Session() override { drop_tls(); }  // then wait_ leaves its epoll set, then Poco closes

    Poco::Net::HTTPClientSession& http() override { return *this; }

    bool connect_if_needed() override {
        if (connected())
            return false;
        drop_tls();
        run_blocking([this] { reconnect(); });
        socket().setBlocking(false);
        wait_.reset(fd());
        if (tls_)
            handshake();
        return true;
    }

    void send(std::string_view head, std::string_view body) override {
        sent_ = 0;
        if (!ssl_) {
            nothing_to_read_ = true;
            int error = write_all(wait_, {head, body}, read_timeout_ms_, &sent_);
            if (error == EAGAIN)
                throw Poco::TimeoutException("sending to the upstream timed out");
            if (error != 0)
                throw Poco::IOException(std::string("sending to the upstream failed: ") +
                                        std::strerror(error));
        } else if (body.size() <= kJoinLimit) {
            std::string joined;
            joined.reserve(head.size() + body.size());
            joined.append(head).append(body);
            tls_write(joined);
        } else {
            tls_write(head);
            tls_write(body);
        }
    }

    bool sent_anything() const override { return sent_ > 0; }

    bool reusable() override {
        if (ssl_) {
            // Inside TLS the upstream may send records of its own (session tickets): only data
            // or a close says the connection is out of step.
            char c;
            ERR_clear_error();
            int n = SSL_peek(ssl_, &c, 1);
            return n <= 0 && SSL_get_error(ssl_, n) == SSL_ERROR_WANT_READ;
        }
        if (auto kept = wait_.kept_events())
            return (*kept & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) == 0;
        char c;
        ssize_t n = ::recv(fd(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }

    const void* home() const override { return wait_.home(); }

    void set_wait_ms(int ms) override { read_timeout_ms_ = ms; }

    std::size_t receive(char* to, std::size_t cap) override {
        return ssl_ ? tls_read(to, cap) : plain_read(to, cap);
    }

  private:
    int fd() { return socket().impl()->sockfd(); }

    void wait_for(std::uint32_t events, int timeout_ms, const char* what) {
        if (!wait_.wait(events, timeout_ms))
            throw Poco::TimeoutException(std::string(what) + " timed out");
    }

    std::size_t plain_read(char* to, std::size_t cap) {
        // Right after the request went out, or after a read that emptied the socket, nothing
        // is there yet: wait first rather than spend a system call to hear EAGAIN.
        if (nothing_to_read_)
            wait_for(EPOLLIN, read_timeout_ms_, "reading from the upstream");
        while (true) {
            ssize_t n = ::recv(fd(), to, cap, 0);
            if (n >= 0) {
                nothing_to_read_ = n > 0 && static_cast<std::size_t>(n) < cap;
                if (nothing_to_read_)
                    wait_.drained();  // readiness kept from before this read is stale now
                return static_cast<std::size_t>(n);
            }
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                throw Poco::Net::ConnectionResetException(std::strerror(errno));
            wait_for(EPOLLIN, read_timeout_ms_, "reading from the upstream");
        }
    }

    // Waits as OpenSSL asks after a call that returned rc; false when the call failed for good.
    bool wait_for_tls(int rc, int timeout_ms, const char* what) {
        int error = SSL_get_error(ssl_, rc);
        if (error == SSL_ERROR_WANT_READ)
            wait_for(EPOLLIN, timeout_ms, what);
        else if (error == SSL_ERROR_WANT_WRITE)
            wait_for(EPOLLOUT, timeout_ms, what);
        else
            return false;
        return true;
    }

    void handshake() {
        ssl_ = SSL_new(tls_->sslContext());
        if (!ssl_ || SSL_set_fd(ssl_, fd()) != 1)
            throw Poco::Net::SSLException("cannot start TLS: " + openssl_errors());
        SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
        // A close without close_notify reads as the end; the HTTP framing tells a cut answer.
        SSL_set_options(ssl_, SSL_OP_IGNORE_UNEXPECTED_EOF);
        const std::string& host = getHost();
        Poco::Net::IPAddress ip;
        if (Poco::Net::IPAddress::tryParse(host, ip)) {
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), host.c_str());
        } else {
            SSL_set_tlsext_host_name(ssl_, host.c_str());
            SSL_set1_host(ssl_, host.c_str());
        }
        while (true) {
            ERR_clear_error();
            int rc = SSL_connect(ssl_);
            if (rc == 1)
                return;
            if (!wait_for_tls(rc, connect_timeout_ms_, "the TLS handshake"))
                throw Poco::Net::SSLException(handshake_failure());
        }
    }

    std::string handshake_failure() {
        long verify = SSL_get_verify_result(ssl_);
        if (verify != X509_V_OK)
            return "the upstream's certificate was refused: " +
                   std::string(X509_verify_cert_error_string(verify));
        std::string errors = openssl_errors();
        return "the TLS handshake failed: " +
               (errors.empty() ? std::string("the upstream closed the connection") : errors);
    }

    std::size_t tls_read(char* to, std::size_t cap) {
        while (true) {
            ERR_clear_error();
            int n = SSL_read(ssl_, to, clamp_to_int(cap));
            if (n > 0)
                return static_cast<std::size_t>(n);
            if (SSL_get_error(ssl_, n) == SSL_ERROR_ZERO_RETURN)
                return 0;
            if (!wait_for_tls(n, read_timeout_ms_, "reading from the upstream"))
                throw Poco::IOException("reading from the upstream over TLS failed: " +
                                        openssl_errors());
        }
    }

    void tls_write(std::string_view data) {
        while (!data.empty()) {
            ERR_clear_error();
            int n = SSL_write(ssl_, data.data(), clamp_to_int(data.size()));
            if (n > 0) {
                sent_ += static_cast<std::size_t>(n);
                data.remove_prefix(static_cast<std::size_t>(n));
                continue;
            }
            if (!wait_for_tls(n, read_timeout_ms_, "sending to the upstream"))
                throw Poco::IOException("sending to the upstream over TLS failed: " +
                                        openssl_errors());
        }
    }

    void drop_tls() {
        if (ssl_)
            SSL_free(ssl_);
        ssl_ = nullptr;
    }

    Poco::Net::Context::Ptr tls_;
    int connect_timeout_ms_;
    int read_timeout_ms_;
    SSL* ssl_ = nullptr;
    bool nothing_to_read_ = false;  // plain TCP: the last read took all the socket had
    std::size_t sent_ = 0;          // bytes of the request being sent that the socket took
    SocketWait wait_;  // destroyed, and out of its epoll set, before the base closes the socket
};

}  // namespace

std::unique_ptr<UpstreamSession> UpstreamSession::create(const std::string& host, uint16_t port,
                                                         Poco::Net::Context::Ptr tls,
                                                         int connect_timeout_ms,
                                                         int read_timeout_ms) {
    return std::make_unique<Session>(host, port, std::move(tls), connect_timeout_ms,
                                     read_timeout_ms);
}

}  // namespace llmproxy
