#include "http/responses.hpp"

#include "streaming/line_breaks.hpp"

namespace llmproxy {

void send_error(HttpResponse& response, const ApiError& error) {
    if (error.status == ApiError::client_closed().status)
        return;  // the client is gone (a status for logs, never for the wire)
    response.send(error.status, "application/json", error.to_json());
}

ClientEventStream::ClientEventStream(HttpResponse& response)
    : response_(response), open_([&] {
          response.set("Cache-Control", "no-cache");
          response.set("X-Accel-Buffering", "no");  // tell proxies in front of us not to buffer
          return response.start_stream(200, "text/event-stream");
      }()) {}

bool ClientEventStream::write(std::string_view name, std::string_view data) {
    if (!name.empty())
        queued_.append("event: ").append(name).push_back('\n');
    // Each line of a multi-line payload needs its own "data: " prefix to survive the framing. A
    // line ends at LF, CRLF or a lone CR, as SSE clients read it: a CR left in a line would let
    // the rest of it pass for a field of its own ("id:", "event:").
    std::size_t start = 0;
    while (true) {
        std::size_t end = find_line_break(data, start);
        queued_.append("data: ").append(data.substr(start, end - start)).push_back('\n');
        if (end == std::string_view::npos)
            break;
        start = end + (data.substr(end, 2) == "\r\n" ? 2 : 1);
    }
    queued_.push_back('\n');
    return open_;
}

bool ClientEventStream::flush() {
    open_ = open_ && response_.send_piece(queued_);
    queued_.clear();
    return open_;
}

void ClientEventStream::write_error(const ApiError& error) {
    write({}, error.to_json());
    flush();
}

}  // namespace llmproxy
