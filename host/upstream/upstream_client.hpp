// Sends one request to an upstream over a pooled connection and reads its answer incrementally.
// Every failure becomes an ApiException with the status the client should see: 502 when the
// upstream cannot be reached or breaks the protocol, 504 when it is too slow.
#pragma once

#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "http/headers.hpp"
#include "http/read_buffer.hpp"
#include "loop/cancellation.hpp"
#include "upstream/connection_pool.hpp"
#include "upstream/response_head.hpp"
#include "upstream/wait_limit.hpp"

namespace llmproxy {

struct UpstreamRequest {
    std::string method = "POST";
    std::string path;  // appended to the base URL's path
    HeaderList headers;
    std::string_view body;
};

class UpstreamClient;

// An upstream answer whose head has arrived, its body read and de-chunked by llm-proxy itself.
// Destroying it before the body was read to the end closes the connection; reading to the end
// returns the connection to the pool.
class UpstreamResponse {
  public:
    // Reads the head (interim 1xx answers skipped), each wait within limit. Throws
    // Poco::Exception on I/O or protocol failures; UpstreamClient::send maps them.
    UpstreamResponse(UpstreamClient& client, ConnectionPool::Lease lease, Cancellation& cancel,
                     bool head_request, const WaitLimit& limit);
    ~UpstreamResponse();
    UpstreamResponse(const UpstreamResponse&) = delete;
    UpstreamResponse& operator=(const UpstreamResponse&) = delete;

    int status() const { return head_.status; }
    const HeaderList& headers() const { return head_.headers; }
    std::string_view content_type() const { return head_.get("content-type"); }

    // The limit of every wait from now on (the head's until set), named in the 504 of a wait
    // that runs out.
    void set_limit(const WaitLimit& limit) { limit_ = limit; }

    // Blocks until at least one byte arrives, then returns what is at hand (up to cap); 0 at the
    // end of the body, and also when the upstream closed the connection before the body's end
    // (a cut stream then ends as the provider sees it: without its final event). Throws
    // ApiException on timeout, reset or cancellation.
    std::size_t read_some(char* buffer, std::size_t cap);
    // Reads the rest of the body. Throws ApiException (502) when it exceeds limit bytes, and when
    // the upstream closed the connection before its end.
    std::string read_all(std::size_t limit);

  private:
    enum class Body { length, chunk_size, chunk_data, chunk_end, trailers, until_close, done };

    [[noreturn]] void fail(const std::exception& e);
    void read_head(bool head_request);
    std::size_t receive(char* to, std::size_t cap);  // 0: the upstream closed
    std::size_t fill();                              // appends to the buffer; 0: closed
    std::string_view buffered() const { return buffer_.unread(); }
    std::string read_line();  // the next line (without its line end), reading as needed
    std::size_t read_body(char* out, std::size_t cap);
    // Decodes body bytes into out[produced, cap), adding to produced.
    void read_framed(char* out, std::size_t cap, std::size_t& produced);
    void end_early();  // the body ends here; the connection is not reused

    UpstreamClient& client_;
    ConnectionPool::Lease lease_;
    Cancellation& cancel_;
    WaitLimit limit_;
    bool deadline_bound_ = false;  // the last wait was bounded by limit_'s deadline
    ResponseHead head_;
    ReadBuffer buffer_;
    Body body_ = Body::done;
    std::uint64_t left_ = 0;      // bytes of the body (length) or of the chunk (chunk_data) to come
    bool truncated_ = false;      // the upstream closed the connection before the body's end
    std::exception_ptr failure_;  // a framing fault found after bytes that went out first
};

class UpstreamClient {
  public:
    // llm.base_url must be set.
    explicit UpstreamClient(const LlmConfig& llm);

    // Sends request and waits for the response head, every wait after the connection's within
    // limit (the llm's read_timeout_ms when not given). Idle connections the upstream has closed
    // are skipped; a request goes out again (once, on a new connection) only when no byte of it
    // reached a reused connection. Throws ApiException: 502 upstream_unreachable (nothing was
    // sent), 502 upstream_broken (sent, then the connection failed), 504 (timeouts, named).
    std::unique_ptr<UpstreamResponse> send(const UpstreamRequest& request, Cancellation& cancel,
                                           const WaitLimit* limit = nullptr);

    const std::string& llm_name() const { return llm_name_; }
    int read_timeout_ms() const { return read_timeout_ms_; }
    ConnectionPool& pool() { return pool_; }

  private:
    std::string request_head(const UpstreamRequest& request) const;

    std::string llm_name_;
    std::string base_url_;
    std::string base_path_;  // without a trailing '/'
    std::string host_header_;
    int connect_timeout_ms_;
    int read_timeout_ms_;
    ConnectionPool pool_;
};

}  // namespace llmproxy
