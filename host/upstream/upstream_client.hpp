// Sends one request to an upstream over a pooled connection and reads its answer incrementally.
// Every failure becomes an ApiException with the status the client should see: 502 when the
// upstream cannot be reached or breaks the protocol, 504 when it is too slow.
#pragma once

#include <Poco/Net/HTTPResponse.h>

#include <istream>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "http/headers.hpp"
#include "upstream/cancellation.hpp"
#include "upstream/connection_pool.hpp"

namespace llmproxy {

struct UpstreamRequest {
    std::string method = "POST";
    std::string path;  // appended to the base URL's path
    HeaderList headers;
    std::string_view body;
};

class UpstreamClient;

// An upstream answer whose head has arrived. Destroying it before the body was read to the end
// closes the connection; reading to the end returns the connection to the pool.
class UpstreamResponse {
  public:
    UpstreamResponse(UpstreamClient& client, ConnectionPool::Lease lease, Cancellation& cancel);
    ~UpstreamResponse();
    UpstreamResponse(const UpstreamResponse&) = delete;
    UpstreamResponse& operator=(const UpstreamResponse&) = delete;

    int status() const { return static_cast<int>(head_.getStatus()); }
    const Poco::Net::HTTPResponse& head() const { return head_; }

    // Blocks until at least one byte arrives, then returns what is at hand (up to cap); 0 at the
    // end of the body. Throws ApiException on timeout, reset or cancellation.
    std::size_t read_some(char* buffer, std::size_t cap);
    // Reads the rest of the body. Throws ApiException (502) when it exceeds limit bytes.
    std::string read_all(std::size_t limit);

  private:
    friend class UpstreamClient;
    [[noreturn]] void fail(const std::exception& e);

    UpstreamClient& client_;
    ConnectionPool::Lease lease_;
    Cancellation& cancel_;
    Poco::Net::HTTPResponse head_;
    std::istream* body_ = nullptr;
    bool at_end_ = false;
};

class UpstreamClient {
  public:
    // llm.base_url must be set.
    explicit UpstreamClient(const LlmConfig& llm);

    // Sends request and waits for the response head. One retry on a fresh connection when a
    // reused one turns out to be closed. Throws ApiException.
    std::unique_ptr<UpstreamResponse> send(const UpstreamRequest& request, Cancellation& cancel);

    const std::string& llm_name() const { return llm_name_; }
    int read_timeout_ms() const { return read_timeout_ms_; }
    ConnectionPool& pool() { return pool_; }

  private:
    std::string llm_name_;
    std::string base_url_;
    std::string base_path_;  // without a trailing '/'
    std::string host_header_;
    int connect_timeout_ms_;
    int read_timeout_ms_;
    ConnectionPool pool_;
};

}  // namespace llmproxy
