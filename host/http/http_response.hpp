// The answer to one client request: status and headers collected first, then sent either whole
// (head and body in one write) or as a stream of chunks. Written by llm-proxy itself, so that a
// whole answer costs one system call.
#pragma once

#include <string>
#include <string_view>

#include "http/client_socket.hpp"
#include "http/headers.hpp"
#include "http/http_request.hpp"

namespace llmproxy {

class HttpResponse {
  public:
    // request is the request being answered, or nullptr when its head could not be read. The
    // answer keeps the connection open when the request allows it and keep_alive is true.
    HttpResponse(ClientSocket& client, const HttpRequest* request, bool keep_alive);

    // Sets a header, replacing any of the same name. Content-Length, Transfer-Encoding,
    // Connection, Date and Server are the response's own and must not be set.
    void set(std::string_view name, std::string_view value) { set_header(headers_, name, value); }
    // Adds header lines ("Name: value\r\n" each, well formed: the caller's own) that nothing sets
    // before or after them: written into the head as they are (no search for headers of the
    // same names, and set() cannot replace them).
    void add_lines(std::string_view lines) { added_.append(lines); }
    // The connection stays open after this answer: the request allowed it, and its body (if any)
    // was read by the time the head went out.
    bool keep_alive() const { return keep_alive_; }
    // The head has gone out (or failed to: the client is gone).
    bool sent() const { return sent_; }
    int status() const { return status_; }

    // Sends a whole answer. An answer to HEAD carries the length but not the body.
    void send(int status, std::string_view content_type, std::string_view body);

    // Sends the head of an answer whose body follows in pieces (chunked for HTTP/1.1; for
    // HTTP/1.0, raw until the connection closes). False when the client is gone.
    bool start_stream(int status, std::string_view content_type);
    // Sends one piece of the body now. False when the client is gone.
    bool send_piece(std::string_view data);
    // Ends a started stream (the last chunk); does nothing otherwise. Called by the connection
    // loop after the handler, whatever happened.
    void finish();

  private:
    std::string head(int status, std::string_view content_type, std::string_view framing);

    ClientSocket& client_;
    bool head_only_;  // a HEAD request: no body
    bool http_1_0_;
    bool keep_alive_;
    HeaderList headers_;
    std::string added_;  // the head lines of add_lines()
    int status_ = 200;
    bool sent_ = false;
    bool streaming_ = false;
    bool chunked_ = false;
};

}  // namespace llmproxy
