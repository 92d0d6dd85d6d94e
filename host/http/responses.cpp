#include "http/responses.hpp"

namespace llmproxy {

void send_body(Poco::Net::HTTPServerResponse& response, int status, std::string_view content_type,
               std::string_view body) {
    response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
    response.setContentType(std::string(content_type));
    response.setContentLength(static_cast<std::streamsize>(body.size()));
    response.sendBuffer(body.data(), body.size());
}

void send_error(Poco::Net::HTTPServerResponse& response, const ApiError& error) {
    send_body(response, error.status, "application/json", error.to_json());
}

ClientEventStream::ClientEventStream(Poco::Net::HTTPServerResponse& response)
    : out_([&]() -> std::ostream& {
          response.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_OK);
          response.setContentType("text/event-stream");
          response.set("Cache-Control", "no-cache");
          response.set("X-Accel-Buffering", "no");  // tell proxies in front of us not to buffer
          response.setChunkedTransferEncoding(true);
          return response.send();
      }()) {}

bool ClientEventStream::write(std::string_view data) {
    // Each line of a multi-line payload needs its own "data: " prefix to survive the framing.
    std::size_t start = 0;
    while (true) {
        std::size_t end = data.find('\n', start);
        std::string_view line =
            data.substr(start, end == std::string_view::npos ? end : end - start);
        out_.write("data: ", 6);
        out_.write(line.data(), static_cast<std::streamsize>(line.size()));
        out_.put('\n');
        if (end == std::string_view::npos)
            break;
        start = end + 1;
    }
    out_.put('\n');
    return out_.good();
}

bool ClientEventStream::flush() {
    out_.flush();
    return out_.good();
}

void ClientEventStream::write_error(const ApiError& error) {
    write(error.to_json());
    flush();
}

}  // namespace llmproxy
