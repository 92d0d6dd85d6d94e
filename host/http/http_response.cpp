#include "http/http_response.hpp"

#include <Poco/Net/HTTPResponse.h>

#include <charconv>
#include <ctime>

namespace llmproxy {

namespace {

// The Date header's value, formatted once a second per thread rather than per answer.
std::string_view http_date() {
    thread_local std::time_t formatted_at = 0;
    thread_local char text[40];
    std::time_t now = std::time(nullptr);
    if (now != formatted_at) {
        std::tm utc{};
        gmtime_r(&now, &utc);
        std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &utc);
        formatted_at = now;
    }
    return text;
}

}  // namespace

HttpResponse::HttpResponse(ClientSocket& client, const HttpRequest* request, bool keep_alive)
    : client_(client),
      head_only_(request && request->method == "HEAD"),
      http_1_0_(request && request->minor_version == 0),
      keep_alive_(keep_alive && request && request->keep_alive) {
    headers_.reserve(16);  // room for what a proxied answer usually carries: one allocation
}

std::string HttpResponse::head(int status, std::string_view content_type,
                               std::string_view framing) {
    status_ = status;
    sent_ = true;
    // Answered before its body was read: the unread body must never be taken for the next
    // request (a request smuggled inside a GET's body), so the connection ends with this answer.
    if (client_.body_pending())
        keep_alive_ = false;
    const std::string& reason = Poco::Net::HTTPResponse::getReasonForStatus(
        static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
    std::string out;
    out.reserve(256 + added_.size());
    out.append(http_1_0_ ? "HTTP/1.0 " : "HTTP/1.1 ")
        .append(std::to_string(status))
        .append(" ")
        .append(reason)
        .append("\r\nDate: ")
        .append(http_date())
        .append("\r\nServer: llm-proxy\r\n");
    for (const auto& [name, value] : headers_)
        out.append(name).append(": ").append(value).append("\r\n");
    out.append(added_);
    if (!content_type.empty())
        out.append("Content-Type: ").append(content_type).append("\r\n");
    out.append(framing);
    out.append(keep_alive_ ? "Connection: keep-alive\r\n" : "Connection: close\r\n");
    out.append("\r\n");
    return out;
}

void HttpResponse::send(int status, std::string_view content_type, std::string_view body) {
    if (status == 204 || status == 304) {  // RFC 9110: no body and no Content-Length
        client_.write({head(status, {}, {})});
        return;
    }
    std::string length = "Content-Length: " + std::to_string(body.size()) + "\r\n";
    std::string h = head(status, content_type, length);
    client_.write({h, head_only_ ? std::string_view() : body});
}

bool HttpResponse::start_stream(int status, std::string_view content_type) {
    // HTTP/1.0 has no chunks: the body runs until the connection closes.
    chunked_ = !http_1_0_;
    if (!chunked_)
        keep_alive_ = false;
    streaming_ = true;
    return client_.write({head(status, content_type,
                               chunked_ ? "Transfer-Encoding: chunked\r\n" : std::string_view())});
}

bool HttpResponse::send_piece(std::string_view data) {
    if (head_only_ || data.empty())
        return !client_.broken();
    if (!chunked_)
        return client_.write({data});
    char size_line[24];
    char* end = std::to_chars(size_line, size_line + 20, data.size(), 16).ptr;
    *end++ = '\r';
    *end++ = '\n';
    return client_.write(
        {std::string_view(size_line, static_cast<std::size_t>(end - size_line)), data, "\r\n"});
}

void HttpResponse::finish() {
    if (streaming_ && chunked_ && !head_only_)
        client_.write({"0\r\n\r\n"});
    streaming_ = false;
}

}  // namespace llmproxy
