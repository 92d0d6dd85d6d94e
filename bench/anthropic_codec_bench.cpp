// What the anthropic provider's translation costs: one stream event (a text_delta, an
// input_json_delta) through the stream decoder alone and through the plugin ABI as the request
// flow calls it, one 2 KB chat request encoded, and one answer decoded. Not a test: it prints
// figures.
//
//   build/bench/anthropic_codec_bench [iterations]
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "anthropic/request_encoder.hpp"
#include "anthropic/response_decoder.hpp"
#include "anthropic/stream_decoder.hpp"
#include "pipeline/provider_call.hpp"
#include "plugins/plugin_registry.hpp"
#include "runtime/runtime.hpp"

namespace {

using Clock = std::chrono::steady_clock;

const std::string kMessageStart =
    R"({"type":"message_start","message":{"id":"msg_01GE2RKp1VYsPzdFs3sS9z5S","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":565,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":7}}})";
const std::string kTextStart =
    R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})";
const std::string kTextDelta =
    R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" the quick brown"}})";
const std::string kToolStart =
    R"({"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01","name":"get_weather","input":{}}})";
const std::string kToolDelta =
    R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"location\": \"Bos"}})";

const std::string kAnswer =
    R"({"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"The committee should review the quarterly figures first, then draft the release plan."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":512,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":21}})";

// A 2 KB chat request of five turns, as processor_chain_bench sends.
std::string chat_request() {
    const std::string filler =
        "The quick brown fox jumps over the lazy dog while the committee reviews the quarterly "
        "figures and drafts a plan for the next release. ";
    nlohmann::json messages = nlohmann::json::array();
    for (int i = 0; i < 5; ++i)
        messages.push_back(
            {{"role", i % 2 ? "assistant" : "user"}, {"content", filler + filler + filler}});
    return nlohmann::json({{"model", "claude-sonnet-4-5"},
                           {"messages", messages},
                           {"max_tokens", 1024},
                           {"stream", true},
                           {"stream_options", {{"include_usage", true}}}})
        .dump();
}

// Nanoseconds per call of fn, the median of 15 rounds of `iterations` calls.
template <typename Fn>
double ns_per_call(int iterations, Fn&& fn) {
    std::vector<double> rounds;
    std::size_t sink = 0;
    for (int r = 0; r < 15; ++r) {
        auto t0 = Clock::now();
        for (int i = 0; i < iterations; ++i)
            sink += fn();
        rounds.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0).count() /
                         iterations);
    }
    if (sink == 0)
        std::puts("");
    std::sort(rounds.begin(), rounds.end());
    return rounds[rounds.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    const int iterations = argc > 1 ? std::atoi(argv[1]) : 100000;
    spdlog::set_level(spdlog::level::info);

    anthropic::StreamDecoder decoder(1770000000, true);
    decoder.decode("message_start", kMessageStart);
    decoder.decode("content_block_start", kTextStart);
    decoder.decode("content_block_start", kToolStart);
    double text = ns_per_call(
        iterations, [&] { return decoder.decode("content_block_delta", kTextDelta)[0].size(); });
    double tool = ns_per_call(
        iterations, [&] { return decoder.decode("content_block_delta", kToolDelta)[0].size(); });

    llmproxy::PluginRegistry plugins;
    auto dir =
        std::filesystem::read_symlink("/proc/self/exe").parent_path().parent_path() / "plugins";
    if (!plugins.load_file((dir / "anthropic.so").string())) {
        std::fprintf(stderr, "cannot load %s/anthropic.so\n", dir.c_str());
        return 1;
    }
    llmproxy::LlmConfig config;
    config.name = "claude";
    config.provider = "anthropic";
    config.base_url = "https://api.anthropic.com/v1";
    llmproxy::LlmRuntime llm;
    llm.config = &config;
    llm.provider = plugins.provider("anthropic");
    llm.plugin = "org.llm-proxy.anthropic [llm.claude]";
    std::string name = "claude", key = "sk-ant", options = "{}";
    lp_provider_config pc{sizeof pc,
                          llmproxy::to_lp(name),
                          LP_ENDPOINT_CHAT,
                          llmproxy::to_lp(config.base_url),
                          llmproxy::to_lp(key),
                          llmproxy::to_lp(options)};
    lp_call created("instance_new");
    llm.provider->vtable.instance_new(&pc, &created, &llm.instance);
    double abi_text;
    {
        llmproxy::ProviderCall provider(llm);
        std::vector<llmproxy::StreamEvent> out;
        provider.decode(llmproxy::SseEvent{"message_start", kMessageStart, ""}, out);
        provider.decode(llmproxy::SseEvent{"content_block_start", kTextStart, ""}, out);
        const llmproxy::SseEvent delta{"content_block_delta", kTextDelta, ""};
        abi_text = ns_per_call(iterations, [&] {
            out.clear();
            provider.decode(delta, out);
            return out[0].data.size();
        });
    }

    const std::string request = chat_request();
    double encode = ns_per_call(iterations / 10,
                                [&] { return anthropic::encode_request(request, {}).body.size(); });
    double answer = ns_per_call(
        iterations / 10, [&] { return anthropic::decode_response(kAnswer, 1770000000).size(); });
    llm.provider->vtable.instance_free(llm.instance);

    std::printf("anthropic codec, median of 15 rounds of %d calls\n\n", iterations);
    std::printf("%-52s %9s\n", "", "ns/call");
    std::printf("%-52s %9.0f\n", "text_delta -> chunk (stream decoder)", text);
    std::printf("%-52s %9.0f\n", "input_json_delta -> chunk (stream decoder)", tool);
    std::printf("%-52s %9.0f\n", "text_delta -> chunk (through the ABI, ProviderCall)", abi_text);
    std::printf("%-52s %9.0f\n", "chat request -> Messages request (2 KB)", encode);
    std::printf("%-52s %9.0f\n", "Messages answer -> chat.completion (0.4 KB)", answer);
    return 0;
}
