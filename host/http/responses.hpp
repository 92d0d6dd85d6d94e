// Answers to the client built on HttpResponse: OpenAI-style errors, and server-sent event
// streams.
#pragma once

#include <string>
#include <string_view>

#include "http/api_error.hpp"
#include "http/http_response.hpp"

namespace llmproxy {

// Sends error as an OpenAI-style JSON answer; nothing for client_closed (499), which only logs see.
void send_error(HttpResponse& response, const ApiError& error);

// A server-sent event stream to the client. The head goes out on construction.
class ClientEventStream {
  public:
    explicit ClientEventStream(HttpResponse& response);

    // Queues "event: <name>\n" (when name is not empty; it must hold no line break) and
    // "data: <data>\n\n". Returns false when the client is gone.
    bool write(std::string_view name, std::string_view data);
    // Sends what is queued now. Returns false when the client is gone.
    bool flush();
    // Sends an error event and flushes: the stream then ends without [DONE].
    void write_error(const ApiError& error);

  private:
    HttpResponse& response_;
    std::string queued_;
    bool open_;
};

}  // namespace llmproxy
