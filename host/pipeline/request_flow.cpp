#include "pipeline/request_flow.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <optional>

#include "http/header_rules.hpp"
#include "http/request_facts.hpp"
#include "http/responses.hpp"
#include "pipeline/hook_calls.hpp"
#include "streaming/sse_parser.hpp"

namespace llmproxy {

namespace {

// Runs one plugin hook; a C++ exception escaping a plugin is a plugin bug, reported as a failure.
template <typename Hook>
lp_status invoke(lp_call& call, Hook&& hook) {
    try {
        return hook();
    } catch (...) {
        call.set_error(500, "server_error", "plugin_exception",
                       call.where() + " threw an exception across the plugin ABI");
        return LP_FAILED;
    }
}

// A non-streaming upstream answer larger than this is refused rather than held in memory.
constexpr std::size_t kMaxUpstreamAnswerBytes = 256u << 20;

bool is_event_stream(const Poco::Net::HTTPResponse& head) {
    return head.getContentType().rfind("text/event-stream", 0) == 0;
}

class RequestFlow {
  public:
    RequestFlow(Runtime& runtime, const RouteRuntime& route, std::string body,
                const Poco::Net::HTTPServerRequest& request, int client_fd,
                Poco::Net::HTTPServerResponse& response)
        : route_(route),
          llm_(*route.llm),
          provider_(llm_.provider->vtable),
          body_(std::move(body)),
          request_(request),
          response_(response),
          watcher_(runtime.watcher()),
          client_fd_(client_fd),
          cancel_(std::make_shared<Cancellation>()),
          processor_states_(route.processors.size(), nullptr) {}

    ~RequestFlow() { free_states(); }
    RequestFlow(const RequestFlow&) = delete;
    RequestFlow& operator=(const RequestFlow&) = delete;

    FlowOutcome run() {
        auto started = std::chrono::steady_clock::now();
        try {
            serve();
        } catch (const ApiException& e) {
            fail(e.error());
        } catch (const std::exception& e) {
            fail(ApiError::internal(std::string("unexpected failure: ") + e.what()));
        }
        outcome_.client_gone = outcome_.client_gone || cancel_->cancelled();
        finish(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
                   .count());
        return outcome_;
    }

  private:
    void serve() {
        facts_ = scan_request(body_, llm_.config->endpoint);
        check_allowed();
        if (llm_.token_missing)
            throw ApiException({500, "server_error", "missing_api_key",
                                "llm '" + llm_.config->name + "' needs the environment variable " +
                                    llm_.config->token_env + " (its token_env), which is not set"});
        create_states();

        for (std::size_t i = 0; i < route_.processors.size(); ++i) {
            const auto* proc = route_.processors[i];
            if (!proc->type->vtable.on_request)
                continue;
            RequestCall call("processor '" + proc->config->name + "' on_request", nullptr);
            auto view = request_view();
            lp_status status = invoke(call, [&] {
                return proc->type->vtable.on_request(proc->instance, processor_states_[i], &call,
                                                     &view);
            });
            if (status == LP_FAILED)
                throw ApiException(call.error_or_default());
            if (status == LP_RESPONDED)
                return answer_locally(call, i);
            if (call.new_body) {
                body_ = std::move(*call.new_body);
                facts_ = scan_request(body_, llm_.config->endpoint);
                check_allowed();
            }
        }

        UpstreamRequest upstream;
        for (const auto& [name, value] : request_)
            if (forward_request_header(name, !llm_.config->token_env.empty()))
                upstream.headers.emplace_back(name, value);
        RequestCall call("provider '" + llm_.config->provider + "' encode_request", &upstream);
        auto view = request_view();
        lp_status status = invoke(call, [&] {
            return provider_.encode_request(llm_.instance, provider_state_, &call, &view);
        });
        if (status == LP_FAILED)
            throw ApiException(call.error_or_default());
        if (status == LP_RESPONDED)
            return answer_locally(call, route_.processors.size());
        if (call.new_body)
            body_ = std::move(*call.new_body);
        if (!llm_.upstream)
            throw ApiException(ApiError::internal(
                "llm '" + llm_.config->name + "' has no base_url, and its provider '" +
                llm_.config->provider + "' did not answer locally"));
        upstream.body = body_;
        // From here on the upstream works for this client: stop it the moment the client leaves.
        watch_ = watcher_.watch(client_fd_, cancel_);
        auto answer = llm_.upstream->send(upstream, *cancel_);
        outcome_.upstream_status = answer->status();
        if (facts_.stream && answer->status() < 400 && is_event_stream(answer->head()))
            relay_stream(*answer);
        else
            relay_whole(*answer);
    }

    void check_allowed() {
        const auto& route = *route_.config;
        if (facts_.stream && !route.allow_streaming)
            throw ApiException(
                ApiError::bad_request("streaming_not_allowed",
                                      "the route '" + route.path_prefix +
                                          "' does not allow streaming (allow_streaming = false); "
                                          "send \"stream\": false"));
        if (!facts_.stream && !route.allow_non_streaming)
            throw ApiException(ApiError::bad_request(
                "non_streaming_not_allowed", "the route '" + route.path_prefix +
                                                 "' only allows streaming (allow_non_streaming = "
                                                 "false); send \"stream\": true"));
        if (facts_.stream && !llm_.config->supports_streaming)
            throw ApiException(ApiError::bad_request(
                "streaming_not_supported",
                "llm '" + llm_.config->name + "' of route '" + route.path_prefix +
                    "' does not support streaming "
                    "(supports_streaming = false); send \"stream\": false"));
    }

    lp_request_view request_view() const {
        lp_request_view v{};
        v.struct_size = sizeof v;
        v.body = to_lp(body_);
        v.path = to_lp(request_.getURI());
        v.model = to_lp(facts_.model);
        v.route_prefix = to_lp(route_.config->path_prefix);
        v.llm_name = to_lp(llm_.config->name);
        v.endpoint = static_cast<lp_endpoint>(llm_.config->endpoint);
        v.stream = facts_.stream ? 1 : 0;
        return v;
    }

    void create_states() {
        for (std::size_t i = 0; i < route_.processors.size(); ++i) {
            const auto* proc = route_.processors[i];
            if (!proc->type->vtable.request_new) {
                ++processors_created_;
                continue;
            }
            lp_call call("processor '" + proc->config->name + "' request_new");
            if (invoke(call, [&] {
                    return proc->type->vtable.request_new(proc->instance, &call,
                                                          &processor_states_[i]);
                }) != LP_CONTINUE)
                throw ApiException(call.error_or_default());
            ++processors_created_;
        }
        if (provider_.request_new) {
            lp_call call("provider '" + llm_.config->provider + "' request_new");
            if (invoke(call, [&] {
                    return provider_.request_new(llm_.instance, &call, &provider_state_);
                }) != LP_CONTINUE)
                throw ApiException(call.error_or_default());
        }
        provider_created_ = true;
    }

    void free_states() {
        if (provider_created_ && provider_.request_free)
            provider_.request_free(llm_.instance, provider_state_);
        provider_created_ = false;
        for (std::size_t i = processors_created_; i-- > 0;) {
            const auto* proc = route_.processors[i];
            if (proc->type->vtable.request_free)
                proc->type->vtable.request_free(proc->instance, processor_states_[i]);
        }
        processors_created_ = 0;
    }

    // A hook answered: the answer goes back through the processors before it (`depth` of them).
    void answer_locally(RequestCall& call, std::size_t depth) {
        if (call.answer || !facts_.stream) {
            Answer answer = call.answer ? std::move(*call.answer) : Answer{};
            if (!call.answer)
                answer.body = "";
            return deliver(std::move(answer), depth);
        }
        ClientEventStream& stream = start_stream();
        write_events(stream, std::move(call.events), depth);
        stream.flush();
    }

    void relay_whole(UpstreamResponse& upstream) {
        Answer answer;
        answer.status = upstream.status();
        answer.content_type = upstream.head().getContentType();
        if (answer.content_type.empty())
            answer.content_type = "application/json";
        for (const auto& [name, value] : upstream.head())
            if (forward_response_header(name))
                answer.headers.emplace_back(name, value);
        answer.body = upstream.read_all(kMaxUpstreamAnswerBytes);
        if (provider_.decode_response) {
            ResponseCall call("provider '" + llm_.config->provider + "' decode_response", answer);
            lp_status status = invoke(call, [&] {
                return provider_.decode_response(llm_.instance, provider_state_, &call,
                                                 upstream.status(), to_lp(answer.body));
            });
            if (status == LP_FAILED)
                throw ApiException(call.error_or_default());
        }
        deliver(std::move(answer), route_.processors.size());
    }

    void deliver(Answer answer, std::size_t depth) {
        for (std::size_t i = depth; i-- > 0;) {
            const auto* proc = route_.processors[i];
            if (!proc->type->vtable.on_response)
                continue;
            ResponseCall call("processor '" + proc->config->name + "' on_response", answer);
            std::string body = answer.body;  // the hook reads a stable copy while it may replace
            lp_status status = invoke(call, [&] {
                return proc->type->vtable.on_response(proc->instance, processor_states_[i], &call,
                                                      answer.status, to_lp(body));
            });
            if (status == LP_FAILED)
                throw ApiException(call.error_or_default());
        }
        for (const auto& [name, value] : answer.headers)
            response_.set(name, value);
        send_body(response_, answer.status, answer.content_type, answer.body);
        outcome_.status = answer.status;
        if (answer.status >= 400)
            outcome_.error = "answered " + std::to_string(answer.status);
    }

    ClientEventStream& start_stream() {
        outcome_.streamed = true;
        outcome_.status = 200;
        return stream_.emplace(response_);
    }

    void relay_stream(UpstreamResponse& upstream) {
        for (const auto& [name, value] : upstream.head())
            if (forward_response_header(name))
                response_.set(name, value);
        ClientEventStream& stream = start_stream();
        SseParser parser;
        std::vector<std::string> batch;
        auto collect = [&](const SseEvent& event) { decode_event(event, batch); };
        char buffer[16384];
        // Failures from here on propagate to fail(), which ends the stream with an error event.
        while (std::size_t n = upstream.read_some(buffer, sizeof buffer)) {
            parser.feed(std::string_view(buffer, n), collect);
            if (!write_events(stream, std::move(batch), route_.processors.size()) ||
                !stream.flush())
                return client_left();
            batch.clear();
        }
        parser.finish(collect);
        if (provider_.end_stream) {
            StreamCall call("provider '" + llm_.config->provider + "' end_stream");
            if (invoke(call, [&] {
                    return provider_.end_stream(llm_.instance, provider_state_, &call);
                }) == LP_FAILED) {
                write_events(stream, std::move(batch), route_.processors.size());
                throw ApiException(call.error_or_default());
            }
            for (auto& e : call.events)
                batch.push_back(std::move(e));
        }
        if (!write_events(stream, std::move(batch), route_.processors.size()) || !stream.flush())
            return client_left();
    }

    // The provider's view of one upstream event, appended to out.
    void decode_event(const SseEvent& event, std::vector<std::string>& out) {
        if (!provider_.decode_stream_event) {
            out.push_back(event.data);
            return;
        }
        StreamCall call("provider '" + llm_.config->provider + "' decode_stream_event");
        lp_sse_event e{sizeof(lp_sse_event), to_lp(event.event), to_lp(event.data),
                       to_lp(event.id)};
        lp_status status = invoke(call, [&] {
            return provider_.decode_stream_event(llm_.instance, provider_state_, &call, &e);
        });
        if (status == LP_FAILED)
            throw ApiException(call.error_or_default());
        if (!call.events.empty()) {
            for (auto& ev : call.events)
                out.push_back(std::move(ev));
        } else if (status != LP_DROP) {
            out.push_back(event.data);
        }
    }

    // Runs events through the stream hooks of the first `depth` processors (in reverse) and
    // queues what comes out. Returns false when the client is gone.
    bool write_events(ClientEventStream& stream, std::vector<std::string> events,
                      std::size_t depth) {
        for (std::size_t i = depth; i-- > 0;) {
            const auto* proc = route_.processors[i];
            if (!proc->type->vtable.on_stream_event)
                continue;
            std::vector<std::string> out;
            for (auto& data : events) {
                StreamCall call("processor '" + proc->config->name + "' on_stream_event");
                lp_sse_event e{sizeof(lp_sse_event), {}, to_lp(data), {}};
                lp_status status = invoke(call, [&] {
                    return proc->type->vtable.on_stream_event(proc->instance, processor_states_[i],
                                                              &call, &e);
                });
                if (status == LP_FAILED) {
                    for (auto& done : out)
                        stream.write(done);
                    throw ApiException(call.error_or_default());
                }
                if (!call.events.empty()) {
                    for (auto& ev : call.events)
                        out.push_back(std::move(ev));
                } else if (status != LP_DROP) {
                    out.push_back(std::move(data));
                }
            }
            events = std::move(out);
        }
        for (const auto& data : events)
            if (!stream.write(data))
                return false;
        return true;
    }

    void client_left() {
        outcome_.client_gone = true;
        cancel_->cancel();  // closes the upstream connection now
        outcome_.error = "the client disconnected";
    }

    void fail(const ApiError& error) {
        outcome_.error = error.message;
        if (cancel_->cancelled()) {  // nobody is listening any more
            outcome_.client_gone = true;
            if (!stream_)
                outcome_.status = 499;
            return;
        }
        if (stream_) {
            spdlog::warn("stream on route {} failed after it started: {}",
                         route_.config->path_prefix, error.message);
            try {
                stream_->write_error(error);
            } catch (const std::exception& e) {
                spdlog::debug("cannot send the error event: {}", e.what());
            }
            return;
        }
        outcome_.status = error.status;
        try {
            send_error(response_, error);
        } catch (const std::exception& e) {
            spdlog::debug("cannot send the error response: {}", e.what());
        }
    }

    void finish(double duration_ms) {
        lp_request_outcome o{sizeof(lp_request_outcome),   outcome_.status,
                             outcome_.upstream_status,     outcome_.streamed ? 1 : 0,
                             outcome_.client_gone ? 1 : 0, duration_ms,
                             to_lp(outcome_.error)};
        for (std::size_t i = 0; i < processors_created_; ++i) {
            const auto* proc = route_.processors[i];
            if (!proc->type->vtable.on_finish)
                continue;
            try {
                proc->type->vtable.on_finish(proc->instance, processor_states_[i], &o);
            } catch (...) {
                spdlog::error("processor '{}' on_finish threw an exception across the plugin ABI",
                              proc->config->name);
            }
        }
    }

    const RouteRuntime& route_;
    const LlmRuntime& llm_;
    const lp_provider& provider_;
    std::string body_;
    const Poco::Net::HTTPServerRequest& request_;
    Poco::Net::HTTPServerResponse& response_;
    DisconnectWatcher& watcher_;
    int client_fd_;
    std::shared_ptr<Cancellation> cancel_;
    std::unique_ptr<DisconnectWatcher::Watch> watch_;
    RequestFacts facts_;
    std::vector<void*> processor_states_;
    std::size_t processors_created_ = 0;
    void* provider_state_ = nullptr;
    bool provider_created_ = false;
    std::optional<ClientEventStream> stream_;  // set once the answer is a stream
    FlowOutcome outcome_;
};

}  // namespace

FlowOutcome run_request_flow(Runtime& runtime, const RouteRuntime& route, std::string body,
                             const Poco::Net::HTTPServerRequest& request, int client_fd,
                             Poco::Net::HTTPServerResponse& response) {
    RequestFlow flow(runtime, route, std::move(body), request, client_fd, response);
    return flow.run();
}

}  // namespace llmproxy
