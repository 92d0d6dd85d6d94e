// The lp_call flavours of the request pipeline: what each kind of hook may do, and where its
// results are kept until the host applies them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "plugins/host_call.hpp"
#include "upstream/upstream_client.hpp"

namespace llmproxy {

// A complete answer: from the upstream, from a hook's respond(), or an error.
struct Answer {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    HeaderList headers;  // extra headers passed on from the upstream
};

// on_request and encode_request: may change the body, answer directly, or (encode only) shape
// the upstream request.
class RequestCall : public lp_call {
  public:
    RequestCall(std::string where, UpstreamRequest* upstream)
        : lp_call(std::move(where)), upstream_(upstream) {}

    void set_body(std::string_view body) override { new_body.emplace(body); }
    void respond(int status, std::string_view content_type, std::string_view body) override;
    void emit_event(std::string_view data) override { events.emplace_back(data); }
    void set_upstream_method(std::string_view method) override;
    void set_upstream_path(std::string_view path) override;
    void set_upstream_header(std::string_view name, std::string_view value) override;

    std::optional<std::string> new_body;
    std::optional<Answer> answer;
    std::vector<std::string> events;

  private:
    UpstreamRequest* upstream_;  // null for processors
};

// decode_response and on_response: may replace the answer.
class ResponseCall : public lp_call {
  public:
    ResponseCall(std::string where, Answer& answer) : lp_call(std::move(where)), answer_(answer) {}
    void set_body(std::string_view body) override { answer_.body.assign(body); }
    void respond(int status, std::string_view content_type, std::string_view body) override;

  private:
    Answer& answer_;
};

// decode_stream_event, end_stream and on_stream_event: may emit events.
class StreamCall : public lp_call {
  public:
    using lp_call::lp_call;
    void emit_event(std::string_view data) override { events.emplace_back(data); }
    std::vector<std::string> events;
};

}  // namespace llmproxy
