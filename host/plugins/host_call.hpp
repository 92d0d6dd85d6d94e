// lp_call, the opaque handle a plugin hook receives, defined on the host side. Each kind of hook
// gets a subclass that accepts the host functions meaningful there; a call that does not belong
// in a hook is logged and ignored, so a plugin bug never corrupts a request.
#pragma once

#include <llm_proxy/abi.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/api_error.hpp"

namespace llmproxy {

// Where a hook runs, for messages: "provider 'openai' encode_request". Its parts are views of names
// that outlive the call (the configuration's, literals); the text is built only when a message
// needs it, since a hook may run for every event of a stream.
class HookSite {
  public:
    // A hook named alone. Implicit, for literals: the text must outlive the call.
    HookSite(const char* hook) : hook_(hook) {}  // NOLINT(google-explicit-constructor)
    HookSite(std::string_view kind, std::string_view name, std::string_view hook)
        : kind_(kind), name_(name), hook_(hook) {}
    std::string text() const;

  private:
    std::string_view kind_;  // "provider", "processor", "client API"
    std::string_view name_;
    std::string_view hook_;
};

}  // namespace llmproxy

struct lp_call {
    explicit lp_call(llmproxy::HookSite site) : site_(site) {}
    virtual ~lp_call() = default;
    lp_call(const lp_call&) = delete;
    lp_call& operator=(const lp_call&) = delete;

    void set_error(int status, std::string_view type, std::string_view code,
                   std::string_view message);
    const std::optional<llmproxy::ApiError>& error() const { return error_; }
    std::string where() const { return site_.text(); }

    // The error a hook described, or a generic one naming the hook when it described none.
    llmproxy::ApiError error_or_default() const;

    virtual void set_upstream_method(std::string_view) { misuse("set_upstream_method"); }
    virtual void set_upstream_path(std::string_view) { misuse("set_upstream_path"); }
    virtual void set_upstream_header(std::string_view, std::string_view) {
        misuse("set_upstream_header");
    }
    virtual void set_body(std::string_view) { misuse("set_body"); }
    virtual void respond(int, std::string_view, std::string_view) { misuse("respond"); }
    virtual void emit_event(std::string_view) { misuse("emit_event"); }
    virtual void emit_named_event(std::string_view, std::string_view) {
        misuse("emit_named_event");
    }
    // Field access and side calls: false when not done (absent field, failed edit, no answer).
    virtual bool get_field(std::string_view, lp_str&) { return misused("get_field"); }
    virtual bool get_string_field(std::string_view, lp_str&) { return misused("get_string_field"); }
    virtual bool edit_field(lp_edit, std::string_view, std::string_view) {
        return misused("edit_field");
    }
    virtual bool call_llm(std::string_view, std::string_view, lp_llm_answer&) {
        return misused("call_llm");
    }

  protected:
    void misuse(const char* function) const;
    bool misused(const char* function) const {
        misuse(function);
        return false;
    }

  private:
    llmproxy::HookSite site_;
    std::optional<llmproxy::ApiError> error_;
};

namespace llmproxy {

// The host API table handed to every plugin.
const lp_host_api* host_api();

inline std::string_view view(lp_str s) {
    return s.len ? std::string_view(s.ptr, s.len) : std::string_view();
}
inline lp_str to_lp(std::string_view s) {
    return {s.data(), s.size()};
}

}  // namespace llmproxy
