// The lp_call flavours of the request pipeline: what each kind of hook may do, and where its
// results are kept until the host applies them.
#pragma once

#include <forward_list>
#include <optional>
#include <string>
#include <vector>

#include "json/json_fields.hpp"
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

// One stream event on its way to the client: its `event:` name (empty for the data-only events
// of canonical streams) and its data.
struct StreamEvent {
    std::string name;
    std::string data;
    bool operator==(const StreamEvent&) const = default;
};

// What a hook emitted, in order. An event whose name cannot go on an `event:` line is not kept,
// and fails the request once the hook has returned (check()).
class EmittedEvents {
  public:
    void add(std::string_view name, std::string_view data);
    // Throws ApiException naming the hook when it emitted such a name.
    void check(const lp_call& call) const;
    std::vector<StreamEvent> events;

  private:
    std::optional<std::string> refused_name_;
};

// Makes side calls (lp_host_api.call_llm) on behalf of a hook.
class SideCaller {
  public:
    virtual ~SideCaller() = default;
    // The answer, or nullopt after call.set_error(...) described why there is none.
    virtual std::optional<Answer> call_llm(std::string_view llm_name, std::string body,
                                           lp_call& call) = 0;
};

// A hook that works on a JSON body (request or answer): field reads and edits, side calls.
class BodyCall : public lp_call {
  public:
    // index: where values of body were found, shared by the hooks of one request so that they
    // scan the body once between them; null gives this call an index of its own.
    BodyCall(HookSite where, std::string& body, SideCaller* side_caller,
             json_fields::Index* index = nullptr)
        : lp_call(where),
          body_(body),
          side_caller_(side_caller),
          index_(index ? *index : own_index_) {
        // Views of the body handed to the plugin must survive retire_body's move, and a text in
        // the string's own small buffer (inside the object) would not.
        const auto* object = reinterpret_cast<const char*>(&body_);
        if (body_.data() >= object && body_.data() < object + sizeof body_)
            body_.reserve(sizeof body_);
    }

    void set_body(std::string_view body) override;
    bool get_field(std::string_view pointer, lp_str& out) override;
    bool get_string_field(std::string_view pointer, lp_str& out) override;
    bool edit_field(lp_edit op, std::string_view pointer, std::string_view value) override;
    bool call_llm(std::string_view llm_name, std::string_view body, lp_llm_answer& out) override;

    bool body_replaced() const { return body_replaced_; }  // set_body was called
    bool fields_edited() const { return fields_edited_; }  // edit_field changed something

  protected:
    std::string& body_;

  private:
    // Texts handed out to the plugin, kept until the hook returns.
    std::string_view keep(std::string text);
    void retire_body(std::string next);

    SideCaller* side_caller_;
    json_fields::Index own_index_;
    json_fields::Index& index_;            // of body_ as it is now
    std::forward_list<std::string> kept_;  // no allocation while empty; addresses never move
    bool body_replaced_ = false;
    bool fields_edited_ = false;
};

// on_request and encode_request: may change the body, answer directly, or (encode only) shape
// the upstream request.
class RequestCall : public BodyCall {
  public:
    RequestCall(HookSite where, std::string& body, UpstreamRequest* upstream,
                SideCaller* side_caller, json_fields::Index* index = nullptr)
        : BodyCall(where, body, side_caller, index), upstream_(upstream) {}

    void respond(int status, std::string_view content_type, std::string_view body) override;
    void emit_event(std::string_view data) override { emitted.add({}, data); }
    void emit_named_event(std::string_view name, std::string_view data) override {
        emitted.add(name, data);
    }
    void set_upstream_method(std::string_view method) override;
    void set_upstream_path(std::string_view path) override;
    void set_upstream_header(std::string_view name, std::string_view value) override;

    // The first method, path or header the hook set that cannot go on the wire (the request must
    // fail with it, whatever the hook returned), or nullopt.
    const std::optional<ApiError>& refused_value() const { return refused_value_; }

    std::optional<Answer> answer;
    EmittedEvents emitted;

  private:
    void refuse_value(const char* what, std::string_view value, const std::string& why,
                      const char* line = "a request line");

    UpstreamRequest* upstream_;  // null for processors
    std::optional<ApiError> refused_value_;
};

// decode_response and on_response: may edit or replace the answer.
class ResponseCall : public BodyCall {
  public:
    ResponseCall(HookSite where, Answer& answer, SideCaller* side_caller)
        : BodyCall(where, answer.body, side_caller), answer_(answer) {}
    void respond(int status, std::string_view content_type, std::string_view body) override;

  private:
    Answer& answer_;
};

// decode_stream_event, end_stream and on_stream_event: may read and edit the current event's data
// (`data`; empty in end_stream, which has no current event) and emit events, which replace it.
class StreamCall : public BodyCall {
  public:
    // spare: a vector the emitted events go into while the call lasts, handed back empty (with
    // its capacity) at its end, so that a hook run for every event of a stream does not allocate
    // one each time.
    StreamCall(HookSite where, std::string& data, std::vector<StreamEvent>* spare = nullptr)
        : BodyCall(where, data, nullptr), spare_(spare) {
        if (spare_)
            emitted.events.swap(*spare_);
    }
    ~StreamCall() override {
        if (spare_) {
            emitted.events.clear();
            emitted.events.swap(*spare_);
        }
    }
    void set_body(std::string_view) override { misuse("set_body"); }
    void emit_event(std::string_view data) override { emitted.add({}, data); }
    void emit_named_event(std::string_view name, std::string_view data) override {
        emitted.add(name, data);
    }

    // Appends what the hook gave for the current event to out: the events it emitted, or else,
    // unless it dropped the event (LP_DROP), the event named `name` with `data` as its field
    // edits left it (moved out). Throws ApiException when the hook failed, or emitted a name that
    // cannot go on an event: line.
    void deliver(lp_status status, std::string_view name, std::string& data,
                 std::vector<StreamEvent>& out);

    EmittedEvents emitted;

  private:
    std::vector<StreamEvent>* spare_;
};

// A client API's encode_error: answers (respond) before a stream has started, emits the events
// that end a stream once it has.
class ErrorCall : public lp_call {
  public:
    using lp_call::lp_call;
    void respond(int status, std::string_view content_type, std::string_view body) override;
    void emit_event(std::string_view data) override { emitted.add({}, data); }
    void emit_named_event(std::string_view name, std::string_view data) override {
        emitted.add(name, data);
    }
    std::optional<Answer> answer;
    EmittedEvents emitted;
};

// Whether a canonical event is the end-of-stream marker, "[DONE]". The host writes it itself
// after a stream that ended cleanly, so one coming out of a plugin (as providers built for ABI
// 1.0 pass the upstream's on) is absorbed.
inline bool is_done_marker(const StreamEvent& event) {
    return event.name.empty() && event.data == "[DONE]";
}

}  // namespace llmproxy
