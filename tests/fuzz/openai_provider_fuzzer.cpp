// The bundled openai provider, loaded as the host loads plugins (PluginRegistry, and a Runtime
// from a parsed config), driven through ProviderCall as the request flow drives it, with fuzzed
// request bodies, whole answers and event streams. Only ApiException escapes, and:
// - a body scan_request() accepts is encoded for POST /chat/completions with the configured
//   credentials and headers, the body untouched;
// - a whole answer passes unchanged;
// - a stream (through SseParser, cut into pieces) passes every event's data unchanged, in order,
//   and end_stream fails with 502 exactly when no event was [DONE].
//
// Input: what the last byte chooses (taken from the end by FuzzedDataProvider): a request body;
// an answer body, then two bytes of status; or a stream, cut as cut_input.hpp says.
#include <fuzzer/FuzzedDataProvider.h>
#include <spdlog/spdlog.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "cut_input.hpp"
#include "fuzz_check.hpp"
#include "http/api_error.hpp"
#include "pipeline/provider_call.hpp"
#include "pipeline/request_facts.hpp"
#include "plugins/plugin_registry.hpp"
#include "runtime/runtime.hpp"
#include "streaming/sse_parser.hpp"

using fuzz::require;
using llmproxy::ApiException;

namespace {

constexpr char kConfig[] = R"(
[llm.fuzz]
provider = "openai"
base_url = "http://127.0.0.1:9/v1"
token_env = "LLM_PROXY_FUZZ_KEY"
options = { organization = "org-fuzz", project = "proj-fuzz" }
)";

const llmproxy::LlmRuntime& openai() {
    static llmproxy::PluginRegistry registry;
    static const std::unique_ptr<llmproxy::Runtime> runtime = [] {
        spdlog::set_level(spdlog::level::off);
        ::setenv("LLM_PROXY_FUZZ_KEY", "sk-fuzz", 1);
        require(registry.load_file(OPENAI_PLUGIN), "the openai plugin loads");
        return std::make_unique<llmproxy::Runtime>(llmproxy::parse_config(kConfig, "fuzz.toml"),
                                                   registry);
    }();
    return *runtime->llm("fuzz");
}

void encode(const std::string& body) {
    llmproxy::RequestFacts facts;
    try {
        facts = llmproxy::scan_request(body, llmproxy::Endpoint::chat);
    } catch (const ApiException&) {
        return;  // the request flow answers 400 before any provider sees the body
    }
    llmproxy::ProviderCall provider(openai());
    llmproxy::UpstreamRequest upstream;
    std::string encoded = body;
    llmproxy::RequestCall call(provider.where("encode_request"), encoded, &upstream, nullptr);
    lp_request_view view{};
    view.struct_size = sizeof view;
    view.body = llmproxy::to_lp(encoded);
    view.path = llmproxy::to_lp("/v1/chat/completions");
    view.model = llmproxy::to_lp(facts.model);
    view.route_prefix = llmproxy::to_lp("/v1");
    view.llm_name = llmproxy::to_lp("fuzz");
    view.endpoint = LP_ENDPOINT_CHAT;
    view.stream = facts.stream ? 1 : 0;
    require(provider.encode(call, view) == LP_CONTINUE, "openai sends every request upstream");
    require(upstream.method == "POST" && upstream.path == "/chat/completions",
            "openai posts to /chat/completions");
    auto header = [&](const char* name) {
        const std::string* value = llmproxy::find_header(upstream.headers, name);
        return value ? *value : std::string();
    };
    require(header("Authorization") == "Bearer sk-fuzz" &&
                header("OpenAI-Organization") == "org-fuzz" &&
                header("OpenAI-Project") == "proj-fuzz" &&
                header("Content-Type") == "application/json",
            "openai sends the configured credentials and headers");
    require(encoded == body, "openai leaves the body as it is");
}

void decode_answer(int status, const std::string& body) {
    llmproxy::ProviderCall provider(openai());
    llmproxy::Answer answer{status, "application/json", body, {}};
    provider.decode(answer, nullptr);
    require(answer.status == status && answer.body == body, "openai passes answers unchanged");
}

void decode_stream(const fuzz::CutInput& stream) {
    llmproxy::ProviderCall provider(openai());
    llmproxy::SseParser parser;
    std::vector<llmproxy::StreamEvent> upstream;
    std::vector<llmproxy::StreamEvent> relayed;
    bool done = false;
    auto collect = [&](const llmproxy::SseEvent& event) {
        upstream.push_back({event.event, event.data});
        done = done || event.data == "[DONE]";
        provider.decode(event, relayed);
    };
    for (std::string_view piece : stream.pieces())
        parser.feed(piece, collect);
    parser.finish(collect);
    int status = 0;
    try {
        provider.end(relayed);
    } catch (const ApiException& e) {
        status = e.error().status;
    }
    require(relayed == upstream, "openai passes every event unchanged, name and data, in order");
    require(status == (done ? 0 : 502), "a stream without [DONE] ends with 502, only that one");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider input(data, size);
    switch (input.ConsumeIntegralInRange(0, 2)) {
        case 0:
            encode(input.ConsumeRemainingBytesAsString());
            break;
        case 1: {
            int status = input.ConsumeIntegralInRange(100, 599);
            decode_answer(status, input.ConsumeRemainingBytesAsString());
            break;
        }
        default:
            decode_stream(fuzz::CutInput(input));
    }
    return 0;
}
