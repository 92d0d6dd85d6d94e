// What a chain of five bundled processors adds to one request: system_prompt, params, guard,
// redact and logger run their request hooks (plus request_new/free and on_finish where they have
// them) on a 2 KB chat request, through the real plugin ABI and the host's field functions,
// exactly as the request flow calls them. Not a test: it prints figures.
//
//   build/bench/processor_chain_bench [iterations]
#include <spdlog/spdlog.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "json/json_fields.hpp"
#include "pipeline/hook_calls.hpp"
#include "runtime/runtime.hpp"

namespace {

using Clock = std::chrono::steady_clock;

const char* kConfig = R"(
[llm.echo]
provider = "echo"

[processor.prompt]
type = "system_prompt"
config_value = "You are a helpful assistant. Answer briefly."

[processor.params]
type = "params"
additional_config = { aliases = { fast = "gpt-4o-mini" }, allowed_models = ["gpt-4o-mini", "gpt-4o"], defaults = { temperature = 0.2 }, limits = { max_tokens = 1024 } }

[processor.guard]
type = "guard"
additional_config = { patterns = ["api_key"], custom = ["(?i)ignore (all )?previous instructions"] }

[processor.redact]
type = "redact"
additional_config = { patterns = ["email", "card"] }

[processor.log]
type = "logger"
config_value = "debug"

[[route]]
path_prefix = "/v1/chat/completions"
target_llm = "echo"
processors = ["prompt", "params", "guard", "redact", "log"]

[[route]]
path_prefix = "/bare"
target_llm = "echo"
)";

// A 2 KB chat request: a conversation of a few turns, one email address to redact.
std::string chat_request() {
    const std::string filler =
        "The quick brown fox jumps over the lazy dog while the committee reviews the quarterly "
        "figures and drafts a plan for the next release. ";
    nlohmann::json messages = nlohmann::json::array();
    messages.push_back({{"role", "user"}, {"content", filler + filler + filler}});
    messages.push_back({{"role", "assistant"}, {"content", filler + filler + filler}});
    messages.push_back(
        {{"role", "user"}, {"content", filler + filler + "Reply to jo@example.com."}});
    messages.push_back({{"role", "assistant"}, {"content", filler + filler + filler + filler}});
    messages.push_back(
        {{"role", "user"}, {"content", filler + filler + "What should we do next?"}});
    nlohmann::json body = {{"model", "fast"}, {"messages", messages}, {"max_tokens", 4096}};
    return body.dump();
}

// Per-processor time of the last run_chain call, in nanoseconds.
std::vector<double> g_hook_ns;

// One request through the route's request-side processor work; returns the final body size.
std::size_t run_chain(const llmproxy::RouteRuntime& route, const std::string& request) {
    g_hook_ns.assign(route.processors.size(), 0);
    std::string body = request;
    llmproxy::json_fields::Index index;  // shared by the hooks, as in the request flow
    std::vector<void*> states(route.processors.size(), nullptr);
    std::string model = *llmproxy::json_fields::get_string(body, "/model");
    for (std::size_t i = 0; i < route.processors.size(); ++i) {
        const auto* p = route.processors[i];
        if (p->type->vtable.request_new) {
            lp_call call("request_new");
            p->type->vtable.request_new(p->instance, &call, &states[i]);
        }
    }
    for (std::size_t i = 0; i < route.processors.size(); ++i) {
        const auto* p = route.processors[i];
        auto t0 = Clock::now();
        llmproxy::RequestCall call("on_request", body, nullptr, nullptr, &index);
        lp_request_view view{};
        view.struct_size = sizeof view;
        view.body = {body.data(), body.size()};
        view.model = {model.data(), model.size()};
        p->type->vtable.on_request(p->instance, states[i], &call, &view);
        if (call.fields_edited()) {  // the facts the host reads again, as refresh_facts does
            model = *llmproxy::json_fields::get_string(body, "/model", &index);
            llmproxy::json_fields::get(body, "/stream", &index);
        }
        g_hook_ns[i] = std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
    }
    lp_request_outcome outcome{sizeof outcome, 200,         200, 0, 0, 1.0, 0.5, {}, 10, 20, 30, 1,
                               {"bench", 5},   {"bench", 5}};
    for (std::size_t i = 0; i < route.processors.size(); ++i) {
        const auto* p = route.processors[i];
        if (p->type->vtable.on_finish)
            p->type->vtable.on_finish(p->instance, states[i], &outcome);
        if (p->type->vtable.request_free)
            p->type->vtable.request_free(p->instance, states[i]);
    }
    return body.size();
}

struct Stats {
    double p50, p90, p99, mean;
};

template <typename Fn>
Stats measure(int iterations, Fn&& fn) {
    std::vector<double> ns(static_cast<std::size_t>(iterations));
    std::size_t sink = 0;
    for (int i = 0; i < iterations / 10; ++i)
        sink += fn();  // warm up
    for (auto& sample : ns) {
        auto t0 = Clock::now();
        sink += fn();
        sample = std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
    }
    if (sink == 0)
        std::puts("");
    double total = 0;
    for (double v : ns)
        total += v;
    std::sort(ns.begin(), ns.end());
    auto at = [&](double q) { return ns[static_cast<std::size_t>(q * (ns.size() - 1))]; };
    return {at(0.50) / 1000, at(0.90) / 1000, at(0.99) / 1000, total / ns.size() / 1000};
}

}  // namespace

int main(int argc, char** argv) {
    int iterations = argc > 1 ? std::atoi(argv[1]) : 200000;
    spdlog::set_level(
        spdlog::level::info);  // as in production: the debug-level logger writes nothing
    llmproxy::PluginRegistry plugins;
    auto dir =
        std::filesystem::read_symlink("/proc/self/exe").parent_path().parent_path() / "plugins";
    plugins.load_directory(dir.string());
    llmproxy::Runtime runtime(llmproxy::parse_config(kConfig, "bench.toml"), plugins);
    const auto* chain = runtime.route_for("/v1/chat/completions");
    const auto* bare = runtime.route_for("/bare");
    const std::string request = chat_request();

    std::vector<std::vector<double>> per_hook(chain->processors.size());
    Stats with = measure(iterations, [&] {
        std::size_t size = run_chain(*chain, request);
        for (std::size_t i = 0; i < g_hook_ns.size(); ++i)
            per_hook[i].push_back(g_hook_ns[i]);
        return size;
    });
    Stats without = measure(iterations, [&] { return run_chain(*bare, request); });
    std::printf(
        "processor chain: system_prompt, params, guard, redact, logger (debug, not written)\n");
    std::printf("request body: %zu bytes; %d iterations\n\n", request.size(), iterations);
    std::printf("%-28s %8s %8s %8s %8s\n", "microseconds per request", "p50", "p90", "p99", "mean");
    std::printf("%-28s %8.2f %8.2f %8.2f %8.2f\n", "five processors", with.p50, with.p90, with.p99,
                with.mean);
    std::printf("%-28s %8.2f %8.2f %8.2f %8.2f\n", "no processors (body copy)", without.p50,
                without.p90, without.p99, without.mean);
    std::printf("%-28s %8.2f\n\n", "added by the chain (p50)", with.p50 - without.p50);
    for (std::size_t i = 0; i < per_hook.size(); ++i) {
        auto& ns = per_hook[i];
        std::sort(ns.begin(), ns.end());
        std::printf("  on_request of %-13s p50 %6.2f us\n",
                    chain->processors[i]->config->type.c_str(), ns[ns.size() / 2] / 1000);
    }
    return 0;
}
