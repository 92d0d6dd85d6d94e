#include "upstream/upstream_client.hpp"

#include <Poco/Exception.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <Poco/URI.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <utility>

#include "http/api_error.hpp"
#include "http/request_line.hpp"
#include "logging/log_text.hpp"
#include "loop/event_loop.hpp"
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

// Is this the failure of a reused connection that the peer closed while it sat idle? Poco's
// network errors (no answer, reset, aborted) are all IOExceptions; timeouts are not.
bool stale_connection(const Poco::Exception& e) {
    return dynamic_cast<const Poco::IOException*>(&e) != nullptr;
}

}  // namespace

std::string UpstreamClient::request_head(const UpstreamRequest& request) const {
    // Plugins' values were checked when they were set; this is the last line of defence.
    if (std::string why = invalid_method(request.method); !why.empty())
        throw ApiException(ApiError::internal("the upstream method \"" + printable(request.method) +
                                              "\" is invalid: " + why));
    if (std::string why = invalid_path(request.path); !why.empty())
        throw ApiException(ApiError::internal("the upstream path \"" + printable(request.path) +
                                              "\" is invalid: " + why));
    std::string head;
    head.reserve(256);
    head.append(request.method).append(" ").append(base_path_).append(request.path);
    if (base_path_.empty() && request.path.empty())
        head.push_back('/');  // an origin-form target is never empty
    head.append(" HTTP/1.1\r\nHost: ").append(host_header_).append("\r\n");
    for (const auto& [name, value] : request.headers) {
        // The framing is the host's; plugins set the rest.
        if (equals_ignoring_case(name, "host") || equals_ignoring_case(name, "content-length") ||
            equals_ignoring_case(name, "connection") ||
            equals_ignoring_case(name, "transfer-encoding"))
            continue;
        if (!is_token(name) || has_control_character(value))
            throw ApiException(ApiError::internal(
                "the upstream header \"" + printable(name, 64) +
                "\" cannot go on the wire: its name must be a token and its value free of "
                "control characters (value \"" +
                printable(value, 64) + "\")"));
        head.append(name).append(": ").append(value).append("\r\n");
    }
    head.append("Content-Length: ")
        .append(std::to_string(request.body.size()))
        .append("\r\nConnection: keep-alive\r\n\r\n");
    return head;
}

UpstreamClient::UpstreamClient(const LlmConfig& llm)
    : llm_name_(llm.name),
      base_url_(llm.base_url),
      base_path_(strip_trailing_slash(Poco::URI(llm.base_url).getPathEtc())),
      host_header_(Poco::URI(llm.base_url).getAuthority()),
      connect_timeout_ms_(llm.connect_timeout_ms),
      read_timeout_ms_(llm.read_timeout_ms),
      pool_(pool_settings(llm)) {}

std::unique_ptr<UpstreamResponse> UpstreamClient::send(const UpstreamRequest& request,
                                                       Cancellation& cancel,
                                                       const WaitLimit* limit) {
    const WaitLimit own = WaitLimit::of(read_timeout_ms_, "read_timeout_ms", "no answer head");
    const WaitLimit& wait = limit ? *limit : own;
    const std::string head = request_head(request);
    for (bool retried = false;;) {
        if (cancel.cancelled())
            throw ApiException(ApiError::client_closed());
        EventLoop* loop = EventLoop::current();
        ConnectionPool::Lease lease = pool_.acquire(loop ? loop->epoll_set() : nullptr);
        if (lease.reused && !lease.session->reusable()) {
            spdlog::debug(
                "upstream {}: an idle connection was closed by the upstream (or sent "
                "something unasked); taking another",
                llm_name_);
            continue;  // each skip closes one idle connection: bounded by the pool's size
        }
        bool sent = false;
        bool deadline_bound = false;
        try {
            Poco::Net::StreamSocket& socket = lease.session->http().socket();
            if (lease.reused)
                cancel.attach(socket.impl()->sockfd());
            if (lease.session->connect_if_needed()) {
                cancel.attach(socket.impl()->sockfd());
                socket.setNoDelay(true);  // never let Nagle hold a segment back for an ACK
            }
            // A phase (the time to the answer's head) starts once the request has gone: the
            // connection, its handshake and the upload are not the upstream's answer time.
            auto now = WaitLimit::Clock::now();
            deadline_bound = wait.deadline_binds(now);
            lease.session->set_wait_ms(wait.from(now).wait_ms(now));
            lease.session->send(head, request.body);
            sent = true;
            now = wait.needs_clock() ? WaitLimit::Clock::now() : now;
            return std::make_unique<UpstreamResponse>(*this, std::move(lease), cancel,
                                                      request.method == "HEAD", wait.from(now));
        } catch (const Poco::Exception& e) {
            cancel.detach();
            if (cancel.cancelled())
                throw ApiException(ApiError::client_closed());
            // Once sent, the lease belongs to the response that failed to read the head.
            const bool reached_upstream = sent || lease.session->sent_anything();
            // A request is sent again only when the upstream cannot have seen a byte of it (as
            // nginx does for requests that are not idempotent): one that arrived may have been
            // acted on and billed, even if no answer came.
            if (lease.reused && !retried && !reached_upstream && stale_connection(e)) {
                spdlog::debug(
                    "upstream {}: a reused connection failed before the request left "
                    "({}); sending it on a new one",
                    llm_name_, e.displayText());
                retried = true;
                continue;
            }
            if (dynamic_cast<const Poco::TimeoutException*>(&e) && reached_upstream)
                throw ApiException(
                    ApiError::gateway_timeout(wait.expired(llm_name_, deadline_bound)));
            if (dynamic_cast<const Poco::TimeoutException*>(&e))  // nothing sent: a connect failure
                throw ApiException({504, "upstream_error", "upstream_connect_timeout",
                                    "upstream '" + llm_name_ + "' (" + base_url_ +
                                        ") did not accept the connection within "
                                        "connect_timeout_ms = " +
                                        std::to_string(connect_timeout_ms_)});
            if (reached_upstream)
                throw ApiException(ApiError::bad_gateway(
                    "upstream_broken",
                    "the connection to upstream '" + llm_name_ + "' (" + base_url_ +
                        ") failed after the request was sent: " + e.displayText() +
                        "; it was not sent again, since the upstream may have acted on it"));
            throw ApiException(ApiError::bad_gateway(
                "upstream_unreachable", "cannot reach upstream '" + llm_name_ + "' at " +
                                            base_url_ + ": " + e.displayText()));
        }
    }
}

namespace {

constexpr std::size_t kReadBuffer = 16 * 1024;
constexpr std::size_t kMinRead = 4096;
constexpr std::size_t kMaxHeadBytes = 64 * 1024;

// The upstream closed the connection before the end of the body's framing.
struct ClosedEarly {};

}  // namespace

UpstreamResponse::UpstreamResponse(UpstreamClient& client, ConnectionPool::Lease lease,
                                   Cancellation& cancel, bool head_request, const WaitLimit& limit)
    : client_(client),
      lease_(std::move(lease)),
      cancel_(cancel),
      limit_(limit),
      buffer_(kReadBuffer) {
    read_head(head_request);
}

UpstreamResponse::~UpstreamResponse() {
    cancel_.detach();
    // Bytes after the end of the answer mean the connection is out of step: not reused.
    if (body_ == Body::done && buffered().empty() && !cancel_.cancelled() && head_.keep_alive)
        client_.pool().release(std::move(lease_.session));
}

std::size_t UpstreamResponse::receive(char* to, std::size_t cap) {
    std::size_t n = 0;
    try {
        if (limit_.needs_clock()) {
            const auto now = WaitLimit::Clock::now();
            deadline_bound_ = limit_.deadline_binds(now);
            lease_.session->set_wait_ms(limit_.wait_ms(now));
        } else {
            lease_.session->set_wait_ms(limit_.ms);
        }
        n = lease_.session->receive(to, cap);
    } catch (const Poco::Exception&) {
        if (cancel_.cancelled())
            throw Poco::IOException("cancelled");
        throw;
    }
    if (n == 0 && cancel_.cancelled())
        throw Poco::IOException("cancelled");
    return n;
}

std::size_t UpstreamResponse::fill() {
    std::span<char> room = buffer_.room(kMinRead);
    std::size_t n = receive(room.data(), room.size());
    buffer_.commit(n);
    return n;
}

void UpstreamResponse::read_head(bool head_request) {
    while (true) {
        std::size_t end = std::string_view::npos;
        std::size_t searched = 0;
        while (true) {
            std::string_view data = buffered();
            end = find_head_end(data, searched);
            if (end != std::string_view::npos && end <= kMaxHeadBytes)
                break;
            searched = data.size() >= 2 ? data.size() - 2 : 0;
            if (data.size() > kMaxHeadBytes)
                throw Poco::Net::MessageException("the upstream's response head is larger than " +
                                                  std::to_string(kMaxHeadBytes) + " bytes");
            if (fill() == 0) {
                if (buffered().empty())  // a reused connection the upstream had closed
                    throw Poco::Net::NoMessageException("the upstream closed the connection");
                throw Poco::Net::MessageException("the upstream closed mid-head");
            }
        }
        parse_response_head(buffered().substr(0, end), head_);
        buffer_.consume(end);
        if (head_.status >= 200 || head_.status == 101)
            break;  // 1xx answers are interim: the real one follows
    }
    if (head_request || head_.status < 200 || head_.status == 204 || head_.status == 304) {
        body_ = Body::done;
    } else if (head_.chunked) {
        body_ = Body::chunk_size;
    } else if (head_.has_length) {
        left_ = head_.content_length;
        body_ = left_ > 0 ? Body::length : Body::done;
    } else {
        body_ = Body::until_close;  // the end of the body is the end of the connection
        head_.keep_alive = false;
    }
}

std::string UpstreamResponse::read_line() {
    while (true) {
        auto end = buffered().find('\n');
        if (end != std::string_view::npos) {
            std::string line(buffered().substr(0, end));
            buffer_.consume(end + 1);
            if (!line.empty() && line.back() == '\r')
                line.pop_back();
            return line;
        }
        if (buffered().size() > 4096)
            throw Poco::Net::MessageException("a chunk line of the upstream's body is too long");
        if (fill() == 0)
            throw ClosedEarly();
    }
}

void UpstreamResponse::end_early() {
    body_ = Body::done;
    head_.keep_alive = false;
}

std::size_t UpstreamResponse::read_body(char* out, std::size_t cap) {
    if (failure_)
        std::rethrow_exception(std::exchange(failure_, nullptr));
    std::size_t produced = 0;
    try {
        read_framed(out, cap, produced);
    } catch (const ClosedEarly&) {
        truncated_ = true;
        end_early();
    } catch (...) {
        if (produced == 0)
            throw;
        // What was decoded before a framing fault goes out first; the fault ends the next read.
        failure_ = std::current_exception();
    }
    return produced;
}

void UpstreamResponse::read_framed(char* out, std::size_t cap, std::size_t& produced) {
    while (produced < cap) {
        switch (body_) {
            case Body::done:
                return;
            case Body::until_close:
            case Body::length:
            case Body::chunk_data: {
                std::size_t want = cap - produced;
                if (body_ != Body::until_close)
                    want = static_cast<std::size_t>(std::min<std::uint64_t>(want, left_));
                std::size_t got = std::min(want, buffered().size());
                if (got > 0) {
                    buffered().copy(out + produced, got);
                    buffer_.consume(got);
                } else if (produced > 0) {
                    return;  // hand over what is here before blocking again
                } else {
                    got = receive(out, want);
                    if (got == 0) {
                        truncated_ = body_ != Body::until_close;
                        end_early();
                        return;
                    }
                }
                produced += got;
                if (body_ != Body::until_close && (left_ -= got) == 0)
                    body_ = body_ == Body::length ? Body::done : Body::chunk_end;
                break;
            }
            case Body::chunk_size: {
                if (produced > 0 && buffered().find('\n') == std::string_view::npos)
                    return;
                std::string line = read_line();
                std::string_view size =
                    trim_whitespace(std::string_view(line).substr(0, line.find(';')));
                auto [end, error] =
                    std::from_chars(size.data(), size.data() + size.size(), left_, 16);
                if (size.empty() || error != std::errc() || end != size.data() + size.size())
                    throw Poco::Net::MessageException(
                        "a chunk size of the upstream's body is not hexadecimal");
                body_ = left_ == 0 ? Body::trailers : Body::chunk_data;
                break;
            }
            case Body::chunk_end:
                if (produced > 0 && buffered().find('\n') == std::string_view::npos)
                    return;
                if (!read_line().empty())
                    throw Poco::Net::MessageException(
                        "a chunk of the upstream's body is longer "
                        "than its size");
                body_ = Body::chunk_size;
                break;
            case Body::trailers:
                if (produced > 0 && buffered().find('\n') == std::string_view::npos)
                    return;
                if (read_line().empty())
                    body_ = Body::done;
                break;
        }
    }
    return;
}

void UpstreamResponse::fail(const std::exception& e) {
    cancel_.detach();
    if (cancel_.cancelled())
        throw ApiException(ApiError::client_closed());
    if (dynamic_cast<const Poco::TimeoutException*>(&e))
        throw ApiException(
            ApiError::gateway_timeout(limit_.expired(client_.llm_name(), deadline_bound_)));
    std::string what = e.what();
    if (auto* pe = dynamic_cast<const Poco::Exception*>(&e))
        what = pe->displayText();
    throw ApiException(ApiError::bad_gateway(
        "upstream_broken",
        "the connection to upstream '" + client_.llm_name() + "' failed: " + what));
}

std::size_t UpstreamResponse::read_some(char* buffer, std::size_t cap) {
    if (cap == 0)
        return 0;
    try {
        return read_body(buffer, cap);
    } catch (const ApiException&) {
        throw;
    } catch (const std::exception& e) {
        body_ = Body::done;
        head_.keep_alive = false;
        fail(e);
    }
}

std::string UpstreamResponse::read_all(std::size_t limit) {
    // A whole answer cut short must not pass for a complete one.
    std::string body;
    // An announced length is believed up to a point: beyond it the body grows as it arrives.
    constexpr std::uint64_t kMostReserved = 1 << 20;
    if (body_ == Body::length && left_ <= limit)
        body.reserve(static_cast<std::size_t>(std::min(left_, kMostReserved)));
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
    if (truncated_)
        throw ApiException(ApiError::bad_gateway(
            "upstream_broken", "upstream '" + client_.llm_name() +
                                   "' closed the connection before the end of its answer (" +
                                   std::to_string(body.size()) + " bytes arrived)"));
    return body;
}

}  // namespace llmproxy
