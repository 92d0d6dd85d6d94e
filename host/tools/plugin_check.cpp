#include "tools/plugin_check.hpp"

#include <atomic>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <ostream>
#include <thread>
#include <vector>

#include "pipeline/hook_calls.hpp"
#include "pipeline/provider_call.hpp"
#include "plugins/plugin_registry.hpp"
#include "streaming/sse_parser.hpp"

namespace llmproxy {

namespace {

using json = nlohmann::json;

// The concurrency check: this many threads, each sending this many requests.
constexpr int kThreads = 4;
constexpr int kRequestsPerThread = 250;
const std::string kConcurrentRequests = std::to_string(kThreads * kRequestsPerThread);

const std::string kChatRequest =
    R"({"model":"check-model","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello, plugin \"checker\"!"}]})";

const std::string kChatAnswer =
    R"({"id":"c1","object":"chat.completion","created":1,"model":"check-model","choices":[{"index":0,"message":{"role":"assistant","content":"Hi there."},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}})";

// An OpenAI stream with CRLF and LF line ends, a comment and a multi-line event.
const std::string kUpstreamStream =
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
    "data: [DONE]\n\n";

class Report {
  public:
    explicit Report(std::ostream& out) : out_(out) {}
    void pass(const std::string& what) {
        ++passed_;
        out_ << "PASS  " << what << "\n";
    }
    void fail(const std::string& what, const std::string& why) {
        ++failed_;
        out_ << "FAIL  " << what << ": " << why << "\n";
    }
    // Runs check, which throws std::exception to fail.
    void check(const std::string& what, const std::function<void()>& body) {
        try {
            body();
            pass(what);
        } catch (const ApiException& e) {
            fail(what, e.error().message);
        } catch (const std::exception& e) {
            fail(what, e.what());
        }
    }
    int finish() {
        out_ << "\nverdict: " << passed_ << " checks passed, " << failed_ << " failed\n";
        return failed_ == 0 ? 0 : 1;
    }

  private:
    std::ostream& out_;
    int passed_ = 0;
    int failed_ = 0;
};

struct Failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

lp_request_view view_of(const std::string& body, bool stream, const std::string& llm_name) {
    static const std::string model = "check-model";
    lp_request_view v{};
    v.struct_size = sizeof v;
    v.body = to_lp(body);
    v.path = to_lp("/v1/chat/completions");
    v.model = to_lp(model);
    v.route_prefix = to_lp("/v1/chat/completions");
    v.llm_name = to_lp(llm_name);
    v.endpoint = LP_ENDPOINT_CHAT;
    v.stream = stream ? 1 : 0;
    return v;
}

// The canonical events a provider makes of kUpstreamStream fed in the given pieces.
std::vector<std::string> decode_stream(const LlmRuntime& llm,
                                       const std::vector<std::string_view>& pieces) {
    ProviderCall provider(llm);
    std::vector<std::string> out;
    SseParser parser;
    auto sink = [&](const SseEvent& e) { provider.decode(e, out); };
    for (auto piece : pieces)
        parser.feed(piece, sink);
    parser.finish(sink);
    provider.end(out);
    return out;
}

// One whole request through a provider: encode, then (unless it answered) decode an answer.
void provider_request(const LlmRuntime& llm, bool stream) {
    ProviderCall provider(llm);
    std::string body = kChatRequest;
    UpstreamRequest upstream;
    RequestCall call(provider.where("encode_request"), body, &upstream, nullptr);
    auto view = view_of(body, stream, llm.config->name);
    if (provider.encode(call, view) == LP_RESPONDED)
        return;
    if (stream) {
        std::vector<std::string> events;
        SseParser parser;
        parser.feed(kUpstreamStream, [&](const SseEvent& e) { provider.decode(e, events); });
        provider.end(events);
    } else {
        Answer answer{200, "application/json", kChatAnswer, {}};
        provider.decode(answer, nullptr);
    }
}

void check_provider(Report& report, const ProviderType& type, const json& config) {
    const std::string who = "provider " + type.name;
    LlmConfig llm_config;
    llm_config.name = "check";
    llm_config.provider = type.name;
    llm_config.base_url = config.value("base_url", "http://127.0.0.1:9/v1");
    std::string api_key = config.value("api_key", "sk-check");
    std::string options = config.value("options", json::object()).dump();
    LlmRuntime llm;
    llm.config = &llm_config;
    llm.provider = &type;
    bool created = false;
    report.check(who + ": instance_new accepts the settings " + config.dump(), [&] {
        lp_provider_config pc{sizeof pc,        to_lp(llm_config.name),
                              LP_ENDPOINT_CHAT, to_lp(llm_config.base_url),
                              to_lp(api_key),   to_lp(options)};
        lp_call call("instance_new");
        if (type.vtable.instance_new(&pc, &call, &llm.instance) != LP_CONTINUE)
            throw Failure("refused: " + call.error_or_default().message +
                          " (give settings with --config)");
        created = true;
    });
    if (!created)
        return;
    report.check(who + ": a chat request, whole and streamed, is encoded and its answer decoded",
                 [&] {
                     provider_request(llm, false);
                     provider_request(llm, true);
                 });
    report.check(
        who +
            ": an upstream stream fed in two pieces split at every byte decodes to the "
            "same events",
        [&] {
            auto whole = decode_stream(llm, {kUpstreamStream});
            std::string_view all(kUpstreamStream);
            for (std::size_t cut = 1; cut < all.size(); ++cut)
                if (decode_stream(llm, {all.substr(0, cut), all.substr(cut)}) != whole)
                    throw Failure("different events when split at byte " + std::to_string(cut));
            std::vector<std::string_view> bytes;
            for (std::size_t i = 0; i < all.size(); ++i)
                bytes.push_back(all.substr(i, 1));
            if (decode_stream(llm, bytes) != whole)
                throw Failure("different events when fed byte by byte");
        });
    report.check(who + ": request state is freed when the upstream fails before any answer", [&] {
        ProviderCall provider(llm);  // request_free runs when it goes out of scope
        std::string body = kChatRequest;
        UpstreamRequest upstream;
        RequestCall call(provider.where("encode_request"), body, &upstream, nullptr);
        auto view = view_of(body, false, llm.config->name);
        try {
            provider.encode(call, view);
        } catch (const ApiException&) {
            // A refusal is fine here: what is checked is the release of the request's state.
        }
    });
    report.check(who + ": request state is freed when the client leaves mid-stream", [&] {
        ProviderCall provider(llm);  // request_free runs when it goes out of scope
        std::vector<std::string> events;
        SseParser parser;
        parser.feed(std::string_view(kUpstreamStream).substr(0, kUpstreamStream.size() / 2),
                    [&](const SseEvent& e) { provider.decode(e, events); });
    });
    report.check(who + ": an upstream error answer goes through decode_response", [&] {
        ProviderCall provider(llm);
        Answer answer{429, "application/json", R"({"error":{"message":"slow down"}})", {}};
        provider.decode(answer, nullptr);
        if (answer.status < 100 || answer.status > 599)
            throw Failure("answered status " + std::to_string(answer.status));
    });
    report.check(who + ": concurrent requests on several threads", [&] {
        std::atomic<int> failures{0};
        std::string first_error;
        std::mutex mutex;
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t)
            threads.emplace_back([&, t] {
                for (int i = 0; i < kRequestsPerThread; ++i) {
                    try {
                        provider_request(llm, (i + t) % 2 == 0);
                    } catch (const std::exception& e) {
                        std::lock_guard lock(mutex);
                        if (failures++ == 0)
                            first_error = e.what();
                    }
                }
            });
        for (auto& th : threads)
            th.join();
        if (failures)
            throw Failure(std::to_string(failures.load()) + " of " + kConcurrentRequests +
                          " requests failed, first: " + first_error);
    });
    report.check(who + ": instance_free", [&] { type.vtable.instance_free(llm.instance); });
}

void check_processor(Report& report, const ProcessorType& type, const json& config) {
    const std::string who = "processor " + type.name;
    const auto& vt = type.vtable;
    std::string config_value = config.value("config_value", "");
    std::string extra = config.value("additional_config", json::object()).dump();
    void* instance = nullptr;
    bool created = false;
    report.check(who + ": instance_new accepts the settings " + config.dump(), [&] {
        lp_processor_config pc{sizeof pc, to_lp(type.name), to_lp(config_value), to_lp(extra)};
        lp_call call("instance_new");
        if (vt.instance_new(&pc, &call, &instance) != LP_CONTINUE)
            throw Failure("refused: " + call.error_or_default().message +
                          " (give settings with --config)");
        created = true;
    });
    if (!created)
        return;
    // One request through every hook, as the request flow runs them; returns nothing, throws on
    // a hook that failed without saying why or left invalid JSON.
    auto one_request = [&](bool stream) {
        void* state = nullptr;
        if (vt.request_new) {
            lp_call call("request_new");
            if (vt.request_new(instance, &call, &state) != LP_CONTINUE)
                throw Failure("request_new failed: " + call.error_or_default().message);
        }
        struct Free {
            const lp_processor& vt;
            void* instance;
            void*& state;
            ~Free() {
                if (vt.request_free)
                    vt.request_free(instance, state);
            }
        } free_state{vt, instance, state};
        std::string body = kChatRequest;
        if (vt.on_request) {
            RequestCall call("on_request", body, nullptr, nullptr);
            auto view = view_of(body, stream, "check");
            lp_status status = vt.on_request(instance, state, &call, &view);
            if (status == LP_FAILED && !call.error())
                throw Failure("on_request returned LP_FAILED without set_error");
            if (!json::accept(body))
                throw Failure("on_request left a body that is not JSON");
        }
        if (vt.on_response) {
            Answer answer{200, "application/json", kChatAnswer, {}};
            ResponseCall call("on_response", answer, nullptr);
            std::string copy = answer.body;
            if (vt.on_response(instance, state, &call, 200, to_lp(copy)) == LP_FAILED &&
                !call.error())
                throw Failure("on_response returned LP_FAILED without set_error");
        }
        if (vt.on_stream_event) {
            SseParser parser;
            parser.feed(kUpstreamStream, [&](const SseEvent& e) {
                StreamCall call("on_stream_event");
                lp_sse_event event{sizeof event, {}, to_lp(e.data), {}};
                if (vt.on_stream_event(instance, state, &call, &event) == LP_FAILED &&
                    !call.error())
                    throw Failure("on_stream_event returned LP_FAILED without set_error");
            });
        }
        if (vt.on_finish) {
            lp_request_outcome outcome{
                sizeof outcome, 200, 200, stream ? 1 : 0, 0, 12.5, 3.0, {}, 9, 3, 12};
            vt.on_finish(instance, state, &outcome);
        }
    };
    report.check(who + ": a request through every hook, whole and streamed", [&] {
        one_request(false);
        one_request(true);
    });
    report.check(who + ": concurrent requests on several threads", [&] {
        std::atomic<int> failures{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t)
            threads.emplace_back([&, t] {
                for (int i = 0; i < kRequestsPerThread; ++i) {
                    try {
                        one_request((i + t) % 2 == 0);
                    } catch (const std::exception&) {
                        ++failures;
                    }
                }
            });
        for (auto& th : threads)
            th.join();
        if (failures)
            throw Failure(std::to_string(failures.load()) + " of " + kConcurrentRequests +
                          " requests failed");
    });
    report.check(who + ": instance_free", [&] { vt.instance_free(instance); });
}

}  // namespace

int run_plugin_check(const PluginCheckOptions& options, std::ostream& out) {
    Report report(out);
    json config = json::parse(options.config_json, nullptr, false);
    if (!config.is_object()) {
        out << "--config must be a JSON object\n";
        return 2;
    }
    PluginRegistry registry;
    bool loaded = registry.load_file(options.file);
    if (!loaded) {
        report.fail("load", registry.refused().empty() ? "refused" : registry.refused()[0].reason);
        return report.finish();
    }
    const auto& plugin = *registry.plugins().front();
    out << "plugin   " << plugin.id << " " << plugin.version << " (ABI " << plugin.abi_major << "."
        << plugin.abi_minor << "), " << plugin.file << "\n";
    if (!plugin.description.empty())
        out << "         " << plugin.description << "\n";
    for (const auto& p : plugin.providers)
        out << "exports  provider " << p << "\n";
    for (const auto& p : plugin.processors)
        out << "exports  processor " << p << "\n";
    out << "\n";
    report.pass("load: entry symbol, ABI " + std::to_string(plugin.abi_major) + "." +
                std::to_string(plugin.abi_minor) + " accepted, required functions present, init");
    auto wanted = [&](const std::string& name) {
        return options.type.empty() || options.type == name;
    };
    bool found = false;
    for (const auto& name : plugin.providers)
        if (wanted(name)) {
            found = true;
            check_provider(report, *registry.provider(name), config);
        }
    for (const auto& name : plugin.processors)
        if (wanted(name)) {
            found = true;
            check_processor(report, *registry.processor(name), config);
        }
    if (!found)
        report.fail("--type " + options.type, "the plugin exports no such provider or processor");
    return report.finish();
}

}  // namespace llmproxy
