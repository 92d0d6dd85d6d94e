#include "tools/check_requests.hpp"

#include <nlohmann/json.hpp>

#include "json/json_fields.hpp"
#include "logging/log_text.hpp"
#include "pipeline/hook_calls.hpp"
#include "pipeline/provider_call.hpp"
#include "plugins/plugin_invoke.hpp"
#include "streaming/sse_parser.hpp"

namespace llmproxy {

namespace {

lp_request_view view_of(const Sample& sample, const std::string& body, bool stream,
                        const std::string& llm_name) {
    static const std::string model = "check-model";
    lp_request_view v{};
    v.struct_size = sizeof v;
    v.body = to_lp(body);
    v.path = to_lp(sample.path);
    v.model = to_lp(model);
    v.route_prefix = to_lp(sample.path);
    v.llm_name = to_lp(llm_name);
    v.endpoint = static_cast<lp_endpoint>(sample.endpoint);
    v.stream = stream ? 1 : 0;
    v.api = to_lp(kCanonicalApi);
    return v;
}

// A hook's error, for the trace.
std::string error_text(const lp_call& call) {
    if (!call.error())
        return "";
    const ApiError& e = *call.error();
    return "; error " + std::to_string(e.status) + " " + e.type + ": " + shown(e.message);
}

// What a request hook returned and did to the body, and the answer it made.
void trace_request_call(const Trace& trace, const char* hook, lp_status status,
                        const RequestCall& call, const std::string& body,
                        const std::string& original) {
    trace(std::string(hook) + " -> " + status_name(status) + error_text(call));
    trace("  body: " + (body == original ? std::string("unchanged") : "now " + shown(body)));
    if (call.answer)
        trace("  answer: " + answer_text(*call.answer));
    if (!call.emitted.events.empty())
        trace("  emitted " + events_text(call.emitted.events));
}

void trace_upstream(const Trace& trace, const UpstreamRequest& upstream) {
    trace("  upstream: " + upstream.method + " " +
          (upstream.path.empty() ? std::string("(the base URL's path only)")
                                 : shown(upstream.path) + " after the base URL's path"));
    for (const auto& [name, value] : upstream.headers)
        trace("  upstream header " + printable(name) + ": " + shown(value));
}

}  // namespace

const Sample& chat_sample() {
    static const Sample sample{
        Endpoint::chat, "/v1/chat/completions",
        R"({"model":"check-model","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello, plugin \"checker\"!"}]})",
        R"({"id":"c1","object":"chat.completion","created":1,"model":"check-model","choices":[{"index":0,"message":{"role":"assistant","content":"Hi there."},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}})",
        ": keep-alive\r\n\r\n"
        "data: "
        "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{"
        "\"role\":\"assistant\",\"content\":\"\"}}]}\n\n"
        "data: "
        "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{"
        "\"content\":\"Hi \"}}]}\r\n\r\n"
        "data: "
        "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{"
        "\"content\":\"there.\"},\"finish_reason\":\"stop\"}]}\n\n"
        "data: [DONE]\n\n"};
    return sample;
}

const Sample& embedding_sample() {
    static const Sample sample{
        Endpoint::embedding, "/v1/embeddings",
        R"({"model":"check-model","input":["Hello, plugin \"checker\"!","a second input"]})",
        R"({"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5,-0.25]},{"object":"embedding","index":1,"embedding":[0.125,1.0]}],"model":"check-model","usage":{"prompt_tokens":8,"total_tokens":8}})",
        ""};
    return sample;
}

void provider_request(const LlmRuntime& llm, const Sample& sample, bool stream,
                      const Trace& trace) {
    ProviderCall provider(llm);
    std::string body = sample.request;
    UpstreamRequest upstream;
    RequestCall call(provider.where("encode_request"), body, &upstream, nullptr);
    auto view = view_of(sample, body, stream, llm.config->name);
    lp_status status = provider.encode(call, view);
    if (trace.on()) {
        trace_request_call(trace, "encode_request", status, call, body, sample.request);
        if (status != LP_RESPONDED)
            trace_upstream(trace, upstream);
    }
    if (status == LP_RESPONDED)
        return;
    const auto& vt = llm.provider->vtable;
    if (stream) {
        std::vector<StreamEvent> events;
        SseParser parser;
        parser.feed(sample.stream, [&](const SseEvent& e) {
            std::size_t before = events.size();
            provider.decode(e, events);
            trace(std::string(vt.decode_stream_event ? "decode_stream_event"
                                                     : "(no decode_stream_event: passed)") +
                  " " + shown(e.data) + " -> " + events_text(events, before));
        });
        std::size_t before = events.size();
        provider.end(events);
        if (vt.end_stream)
            trace("end_stream -> " + events_text(events, before));
    } else {
        Answer answer{200, "application/json", sample.answer, {}};
        provider.decode(answer, nullptr);
        trace(std::string(vt.decode_response ? "decode_response" : "(no decode_response: passed)") +
              " -> " + answer_text(answer));
    }
}

std::vector<StreamEvent> decode_stream(const LlmRuntime& llm,
                                       const std::vector<std::string_view>& pieces) {
    ProviderCall provider(llm);
    std::vector<StreamEvent> out;
    SseParser parser;
    auto sink = [&](const SseEvent& e) { provider.decode(e, out); };
    for (auto piece : pieces)
        parser.feed(piece, sink);
    parser.finish(sink);
    provider.end(out);
    // A translating provider stamps its chunks with the time ("created"), which may tick between
    // two runs: it is not part of what must come out the same.
    for (auto& event : out)
        if (json_fields::get(event.data, "/created"))
            json_fields::edit(event.data, json_fields::Edit::replace, "/created", "0");
    return out;
}

void provider_request_cut_before_answer(const LlmRuntime& llm, const Sample& sample) {
    ProviderCall provider(llm);  // request_free runs when it goes out of scope
    std::string body = sample.request;
    UpstreamRequest upstream;
    RequestCall call(provider.where("encode_request"), body, &upstream, nullptr);
    auto view = view_of(sample, body, false, llm.config->name);
    try {
        provider.encode(call, view);
    } catch (const ApiException&) {
        // A refusal is fine here: what is checked is the release of the request's state.
    }
}

void provider_request_cut_mid_stream(const LlmRuntime& llm, const Sample& sample) {
    ProviderCall provider(llm);  // request_free runs when it goes out of scope
    std::vector<StreamEvent> events;
    SseParser parser;
    std::string_view stream = sample.stream;
    parser.feed(stream.substr(0, stream.size() / 2),
                [&](const SseEvent& e) { provider.decode(e, events); });
}

Answer provider_error_answer(const LlmRuntime& llm, const Trace& trace) {
    ProviderCall provider(llm);
    Answer answer{429, "application/json", R"({"error":{"message":"slow down"}})", {}};
    provider.decode(answer, nullptr);
    trace("decode_response of a 429 -> " + answer_text(answer));
    return answer;
}

void processor_request(const ProcessorRuntime& proc, const Sample& sample, bool stream,
                       const Trace& trace) {
    const auto& vt = proc.type->vtable;
    auto check_failure = [&](const char* hook, lp_status status, const lp_call& call) {
        if (status != LP_FAILED)
            return;
        if (!call.error())
            throw CheckFailure(std::string(hook) + " returned LP_FAILED without set_error");
        if (call.error()->code == "plugin_exception")
            throw CheckFailure(call.error()->message);
    };
    void* state = nullptr;
    if (vt.request_new) {
        lp_call call("request_new");
        if (invoke_hook(proc.plugin, call, [&] {
                return vt.request_new(proc.instance, &call, &state);
            }) != LP_CONTINUE)
            throw CheckFailure("request_new failed: " + call.error_or_default().message);
    }
    struct Free {
        const ProcessorRuntime& proc;
        void*& state;
        ~Free() {
            if (proc.type->vtable.request_free)
                invoke_plugin(proc.plugin, "request_free",
                              [&] { proc.type->vtable.request_free(proc.instance, state); });
        }
    } free_state{proc, state};
    std::string body = sample.request;
    if (vt.on_request) {
        RequestCall call("on_request", body, nullptr, nullptr);
        auto view = view_of(sample, body, stream, "check");
        lp_status status = invoke_hook(
            proc.plugin, call, [&] { return vt.on_request(proc.instance, state, &call, &view); });
        if (trace.on())
            trace_request_call(trace, "on_request", status, call, body, sample.request);
        check_failure("on_request", status, call);
        if (!nlohmann::json::accept(body))
            throw CheckFailure("on_request left a body that is not JSON");
    }
    if (vt.on_response && !stream) {
        Answer answer{200, "application/json", sample.answer, {}};
        ResponseCall call("on_response", answer, nullptr);
        const std::string original = answer.body;
        lp_status status = invoke_hook(proc.plugin, call, [&] {
            return vt.on_response(proc.instance, state, &call, 200, to_lp(original));
        });
        trace("on_response -> " + std::string(status_name(status)) + error_text(call) +
              "; answer " + answer_text(answer));
        check_failure("on_response", status, call);
    }
    if (vt.on_stream_event && stream) {
        SseParser parser;
        parser.feed(sample.stream, [&](const SseEvent& e) {
            std::string data = e.data;
            StreamCall call("on_stream_event", data);
            lp_sse_event event{sizeof event, {}, to_lp(e.data), {}};
            lp_status status = invoke_hook(proc.plugin, call, [&] {
                return vt.on_stream_event(proc.instance, state, &call, &event);
            });
            trace("on_stream_event " + shown(e.data) + " -> " + status_name(status) +
                  error_text(call) + "; emitted " + events_text(call.emitted.events));
            check_failure("on_stream_event", status, call);
        });
    }
    if (vt.on_finish) {
        lp_request_outcome outcome{sizeof outcome,
                                   200,
                                   200,
                                   stream ? 1 : 0,
                                   0,
                                   12.5,
                                   3.0,
                                   {},
                                   9,
                                   3,
                                   12,
                                   1,
                                   lp_str{"check", 5},
                                   lp_str{"check-model", 11}};
        invoke_plugin(proc.plugin, "on_finish",
                      [&] { vt.on_finish(proc.instance, state, &outcome); });
        trace("on_finish -> done");
    }
}

}  // namespace llmproxy
