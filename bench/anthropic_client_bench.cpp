// What the anthropic client API's translation costs: one canonical chunk (a text delta, a tool
// arguments fragment) through the client stream encoder, one 2 KB Messages request decoded, and
// one chat.completion answer encoded. Not a test: it prints figures.
//
//   build/bench/anthropic_client_bench [iterations]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "anthropic/client_request_decoder.hpp"
#include "anthropic/client_response_encoder.hpp"
#include "anthropic/client_stream_encoder.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// Chunks as OpenAI writes them with stream_options.include_usage ("usage":null on each).
const std::string kRoleChunk =
    R"({"id":"chatcmpl-BnX8u3sTjYxQ","object":"chat.completion.chunk","created":1770933892,"model":"gpt-4.1-2025-04-14","service_tier":"default","system_fingerprint":"fp_b3f1157249","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null})";
const std::string kTextChunk =
    R"({"id":"chatcmpl-BnX8u3sTjYxQ","object":"chat.completion.chunk","created":1770933892,"model":"gpt-4.1-2025-04-14","service_tier":"default","system_fingerprint":"fp_b3f1157249","choices":[{"index":0,"delta":{"content":" the quick brown"},"logprobs":null,"finish_reason":null}],"usage":null})";
const std::string kToolStartChunk =
    R"({"id":"chatcmpl-BnX8u3sTjYxQ","object":"chat.completion.chunk","created":1770933892,"model":"gpt-4.1-2025-04-14","service_tier":"default","system_fingerprint":"fp_b3f1157249","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_Qw1","type":"function","function":{"name":"get_weather","arguments":""}}]},"logprobs":null,"finish_reason":null}],"usage":null})";
const std::string kToolChunk =
    R"({"id":"chatcmpl-BnX8u3sTjYxQ","object":"chat.completion.chunk","created":1770933892,"model":"gpt-4.1-2025-04-14","service_tier":"default","system_fingerprint":"fp_b3f1157249","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"location\": \"Bos"}}]},"logprobs":null,"finish_reason":null}],"usage":null})";

const std::string kAnswer =
    R"({"id":"chatcmpl-1","object":"chat.completion","created":1770000000,"model":"gpt-4.1-2025-04-14","choices":[{"index":0,"message":{"role":"assistant","content":"The committee should review the quarterly figures first, then draft the release plan.","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":512,"completion_tokens":21,"total_tokens":533,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0}},"service_tier":"default","system_fingerprint":"fp_b3f1157249"})";

// A 2 KB Messages request of five turns, the size anthropic_codec_bench encodes.
std::string messages_request() {
    const std::string filler =
        "The quick brown fox jumps over the lazy dog while the committee reviews the quarterly "
        "figures and drafts a plan for the next release. ";
    nlohmann::json messages = nlohmann::json::array();
    for (int i = 0; i < 5; ++i)
        messages.push_back(
            {{"role", i % 2 ? "assistant" : "user"}, {"content", filler + filler + filler}});
    return nlohmann::json({{"model", "gpt-4.1"},
                           {"system", "Be brief."},
                           {"messages", messages},
                           {"max_tokens", 1024},
                           {"stream", true}})
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

    anthropic::ReplyFacts facts;
    facts.message_id = "msg_0123456789abcdefABCDEFGH";
    facts.model = "claude-sonnet-4-5";
    anthropic::ClientStreamEncoder text_stream(facts);
    text_stream.encode(kRoleChunk);
    text_stream.encode(kTextChunk);  // opens the text block
    const double text =
        ns_per_call(iterations, [&] { return text_stream.encode(kTextChunk)[0].data.size(); });
    anthropic::ClientStreamEncoder tool_stream(facts);
    tool_stream.encode(kRoleChunk);
    tool_stream.encode(kToolStartChunk);
    const double tool =
        ns_per_call(iterations, [&] { return tool_stream.encode(kToolChunk)[0].data.size(); });

    const std::string request = messages_request();
    const double decode = ns_per_call(
        iterations / 10, [&] { return anthropic::decode_client_request(request).body.size(); });
    const double answer = ns_per_call(
        iterations / 10, [&] { return anthropic::encode_client_response(kAnswer, facts).size(); });

    std::printf("anthropic client API codec, median of 15 rounds of %d calls\n\n", iterations);
    std::printf("%-56s %9s\n", "", "ns/call");
    std::printf("%-56s %9.0f\n", "text delta chunk -> content_block_delta", text);
    std::printf("%-56s %9.0f\n", "tool arguments chunk -> content_block_delta", tool);
    std::printf("%-56s %9.0f\n", "Messages request -> chat request (2 KB)", decode);
    std::printf("%-56s %9.0f\n", "chat.completion (0.6 KB) -> Messages answer", answer);
    return 0;
}
