#include "pipeline/hook_calls.hpp"

#include <strings.h>

namespace llmproxy {

namespace {

Answer make_answer(int status, std::string_view content_type, std::string_view body) {
    if (status < 100 || status > 599)
        status = 500;
    return {status,
            content_type.empty() ? "application/json" : std::string(content_type),
            std::string(body),
            {}};
}

}  // namespace

void RequestCall::respond(int status, std::string_view content_type, std::string_view body) {
    answer = make_answer(status, content_type, body);
}

void RequestCall::set_upstream_method(std::string_view method) {
    if (!upstream_)
        return misuse("set_upstream_method");
    upstream_->method.assign(method);
}

void RequestCall::set_upstream_path(std::string_view path) {
    if (!upstream_)
        return misuse("set_upstream_path");
    upstream_->path.assign(path);
}

void RequestCall::set_upstream_header(std::string_view name, std::string_view value) {
    if (!upstream_)
        return misuse("set_upstream_header");
    auto& headers = upstream_->headers;
    std::erase_if(headers, [&](const auto& h) {
        return h.first.size() == name.size() &&
               strncasecmp(h.first.data(), name.data(), name.size()) == 0;
    });
    if (!value.empty())
        headers.emplace_back(name, value);
}

void ResponseCall::respond(int status, std::string_view content_type, std::string_view body) {
    answer_ = make_answer(status, content_type, body);
}

}  // namespace llmproxy
