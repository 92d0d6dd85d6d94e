#include "pipeline/hook_calls.hpp"

#include <spdlog/spdlog.h>

#include "http/headers.hpp"
#include "http/request_line.hpp"
#include "json/json_fields.hpp"
#include "logging/log_text.hpp"

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

void EmittedEvents::add(std::string_view name, std::string_view data) {
    if (has_control_character(name)) {
        refused_name_.emplace(name);
        return;
    }
    events.push_back({std::string(name), std::string(data)});
}

void EmittedEvents::check(const lp_call& call) const {
    if (!refused_name_)
        return;
    std::string message = call.where() + " emitted an event named \"" + printable(*refused_name_) +
                          "\", which cannot go on an event: line";
    spdlog::error("{}; the request fails", message);
    throw ApiException(ApiError::internal(std::move(message)));
}

void StreamCall::deliver(lp_status status, std::string_view name, std::string& data,
                         std::vector<StreamEvent>& out) {
    if (status == LP_FAILED)
        throw ApiException(error_or_default());
    emitted.check(*this);
    if (!emitted.events.empty()) {
        for (auto& event : emitted.events)
            out.push_back(std::move(event));
    } else if (status != LP_DROP) {
        out.push_back({std::string(name), std::move(data)});
    }
}

std::string_view BodyCall::keep(std::string text) {
    return kept_.emplace_front(std::move(text));
}

void BodyCall::retire_body(std::string next) {
    // The plugin may still hold pointers into the old text (its view, earlier get_field results).
    kept_.push_front(std::move(body_));
    body_ = std::move(next);
}

void BodyCall::set_body(std::string_view body) {
    retire_body(std::string(body));
    index_.clear();
    body_replaced_ = true;
}

bool BodyCall::get_field(std::string_view pointer, lp_str& out) {
    auto value = json_fields::get(body_, pointer, &index_);
    if (!value)
        return false;
    out = to_lp(*value);  // points into body_, which edits retire rather than overwrite
    return true;
}

bool BodyCall::get_string_field(std::string_view pointer, lp_str& out) {
    auto raw = json_fields::get(body_, pointer, &index_);
    if (!raw || raw->size() < 2 || raw->front() != '"')
        return false;
    if (raw->find('\\') == std::string_view::npos) {  // no escapes: the text between the quotes
        out = to_lp(raw->substr(1, raw->size() - 2));
        return true;
    }
    auto value = json_fields::get_string(*raw, "");
    if (!value)
        return false;
    out = to_lp(keep(std::move(*value)));
    return true;
}

bool BodyCall::edit_field(lp_edit op, std::string_view pointer, std::string_view value) {
    json_fields::Edit edit = op == LP_EDIT_REPLACE  ? json_fields::Edit::replace
                             : op == LP_EDIT_REMOVE ? json_fields::Edit::remove
                                                    : json_fields::Edit::add;
    if (op != LP_EDIT_ADD && op != LP_EDIT_REPLACE && op != LP_EDIT_REMOVE) {
        spdlog::debug("{}: edit_field with unknown op {}", where(), op);
        return false;
    }
    std::string next = body_;
    // The index is kept true for `next` by the edit itself.
    if (std::string error = json_fields::edit(next, edit, pointer, value, &index_);
        !error.empty()) {
        spdlog::debug("{}: edit_field failed: {}", where(), error);
        return false;
    }
    retire_body(std::move(next));
    fields_edited_ = true;
    return true;
}

bool BodyCall::call_llm(std::string_view llm_name, std::string_view body, lp_llm_answer& out) {
    if (!side_caller_) {
        misuse("call_llm");
        set_error(500, "server_error", "side_call_unavailable",
                  where() + " cannot make side calls");
        return false;
    }
    auto answer = side_caller_->call_llm(llm_name, std::string(body), *this);
    if (!answer)
        return false;
    out.http_status = answer->status;
    out.body = to_lp(keep(std::move(answer->body)));
    return true;
}

void RequestCall::respond(int status, std::string_view content_type, std::string_view body) {
    answer = make_answer(status, content_type, body);
}

void RequestCall::refuse_value(const char* what, std::string_view value, const std::string& why,
                               const char* line) {
    std::string message = where() + " set the upstream " + what + " \"" + printable(value) +
                          "\", which cannot go on " + line + ": " + why;
    spdlog::error("{}; the request fails", message);
    if (!refused_value_)
        refused_value_ = ApiError::internal(std::move(message));
}

void RequestCall::set_upstream_method(std::string_view method) {
    if (!upstream_)
        return misuse("set_upstream_method");
    if (std::string why = invalid_method(method); !why.empty())
        return refuse_value("method", method, why);
    upstream_->method.assign(method);
}

void RequestCall::set_upstream_path(std::string_view path) {
    if (!upstream_)
        return misuse("set_upstream_path");
    if (std::string why = invalid_path(path); !why.empty())
        return refuse_value("path", path, why);
    upstream_->path.assign(path);
}

void RequestCall::set_upstream_header(std::string_view name, std::string_view value) {
    if (!upstream_)
        return misuse("set_upstream_header");
    if (!is_token(name))
        return refuse_value("header name", name, "a header name must be a token", "a header line");
    if (has_control_character(value))
        return refuse_value("header value", value, "it holds a control character", "a header line");
    auto& headers = upstream_->headers;
    std::erase_if(headers, [&](const auto& h) { return equals_ignoring_case(h.first, name); });
    if (!value.empty())
        headers.emplace_back(name, value);
}

void ResponseCall::respond(int status, std::string_view content_type, std::string_view body) {
    // The upstream's headers (retry-after, its request id) still describe the answer.
    HeaderList headers = std::move(answer_.headers);
    answer_ = make_answer(status, content_type, body);
    answer_.headers = std::move(headers);
}

void ErrorCall::respond(int status, std::string_view content_type, std::string_view body) {
    answer = make_answer(status, content_type, body);
}

}  // namespace llmproxy
