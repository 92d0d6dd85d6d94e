#include "tools/plugin_check.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <optional>
#include <ostream>
#include <vector>

#include "plugins/plugin_invoke.hpp"
#include "plugins/plugin_registry.hpp"
#include "tools/check_report.hpp"
#include "tools/check_requests.hpp"
#include "tools/check_settings.hpp"

namespace llmproxy {

namespace {

// instance_new of a provider for one kind of endpoint; returns the refusal ("" when created).
std::string create_provider(LlmRuntime& llm, const CheckSettings& settings) {
    const LlmConfig& config = *llm.config;
    lp_provider_config pc{sizeof pc,
                          to_lp(config.name),
                          static_cast<lp_endpoint>(config.endpoint),
                          to_lp(config.base_url),
                          to_lp(settings.api_key),
                          to_lp(settings.options_json)};
    lp_call call("instance_new");
    if (invoke_hook(llm.plugin, call, [&] {
            return llm.provider->vtable.instance_new(&pc, &call, &llm.instance);
        }) == LP_CONTINUE)
        return "";
    return call.error_or_default().message;
}

// The checks of a provider instance created for sample's kind of endpoint.
void check_provider_requests(Report& report, const std::string& who, const LlmRuntime& llm,
                             const Sample& sample) {
    const bool chat = sample.endpoint == Endpoint::chat;
    if (chat)
        report.check(
            who + ": a chat request, whole and streamed, is encoded and its answer decoded",
            [&](const Trace& trace) {
                provider_request(llm, sample, false, trace);
                provider_request(llm, sample, true, trace);
            });
    else
        report.check(who + ": an embedding request is encoded and its answer decoded",
                     [&](const Trace& trace) { provider_request(llm, sample, false, trace); });
    if (chat)
        report.check(
            who +
                ": an upstream stream fed in two pieces split at every byte decodes to the same "
                "events",
            [&](const Trace&) {
                QuietLog quiet;
                std::string_view all = sample.stream;
                auto whole = decode_stream(llm, {all});
                for (std::size_t cut = 1; cut < all.size(); ++cut)
                    if (decode_stream(llm, {all.substr(0, cut), all.substr(cut)}) != whole)
                        throw CheckFailure("different events when split at byte " +
                                           std::to_string(cut));
                std::vector<std::string_view> bytes;
                for (std::size_t i = 0; i < all.size(); ++i)
                    bytes.push_back(all.substr(i, 1));
                if (decode_stream(llm, bytes) != whole)
                    throw CheckFailure("different events when fed byte by byte");
            },
            false);
    report.check(who + ": request state is freed when the upstream fails before any answer",
                 [&](const Trace&) { provider_request_cut_before_answer(llm, sample); });
    if (chat)
        report.check(who + ": request state is freed when the client leaves mid-stream",
                     [&](const Trace&) { provider_request_cut_mid_stream(llm, sample); });
    report.check(who + ": an upstream error answer goes through decode_response",
                 [&](const Trace& trace) {
                     Answer answer = provider_error_answer(llm, trace);
                     if (answer.status < 100 || answer.status > 599)
                         throw CheckFailure("answered status " + std::to_string(answer.status));
                 });
    report.check(
        who + ": concurrent requests on several threads",
        [&](const Trace&) {
            run_concurrently(
                [&](int i) { provider_request(llm, sample, chat && i % 2 == 0, Trace::silent()); });
        },
        false);
}

void check_provider(Report& report, const ProviderType& type, const CheckSettings& settings,
                    const Sample& sample) {
    const bool chat = sample.endpoint == Endpoint::chat;
    const std::string who = "provider " + type.name + (chat ? "" : " (embedding)");
    LlmConfig config;
    config.name = "check";
    config.provider = type.name;
    config.base_url = settings.base_url;
    config.endpoint = sample.endpoint;
    LlmRuntime llm;
    llm.config = &config;
    llm.provider = &type;
    llm.plugin = type.plugin->id + " [llm.check]";
    const std::string created = who + ": instance_new accepts the settings (type = \"" +
                                (chat ? "chat" : "embedding") + "\")";
    if (std::string refusal = create_provider(llm, settings); !refusal.empty()) {
        // A provider may serve one kind of endpoint only: unless --config asked for embedding,
        // refusing it is no failure.
        if (!chat && !settings.given.count("type"))
            report.skip(who + ": embedding requests",
                        "instance_new refuses type = \"embedding\": " + refusal);
        else
            report.fail(created, "refused: " + refusal + " (give settings with --config)");
        return;
    }
    report.pass(created);
    check_provider_requests(report, who, llm, sample);
    report.check(who + ": instance_free", [&](const Trace&) {
        invoke_plugin(llm.plugin, "instance_free",
                      [&] { type.vtable.instance_free(llm.instance); });
    });
}

void check_processor(Report& report, const ProcessorType& type, const CheckSettings& settings) {
    const std::string who = "processor " + type.name;
    ProcessorConfig config;
    config.name = "check";
    config.type = type.name;
    ProcessorRuntime proc;
    proc.config = &config;
    proc.type = &type;
    proc.plugin = type.plugin->id + " [processor.check]";
    lp_processor_config pc{sizeof pc, to_lp(config.name), to_lp(settings.config_value),
                           to_lp(settings.additional_config_json)};
    lp_call call("instance_new");
    if (invoke_hook(proc.plugin, call, [&] {
            return type.vtable.instance_new(&pc, &call, &proc.instance);
        }) != LP_CONTINUE) {
        report.fail(
            who + ": instance_new accepts the settings",
            "refused: " + call.error_or_default().message + " (give settings with --config)");
        return;
    }
    report.pass(who + ": instance_new accepts the settings");
    report.check(who + ": a request through every hook: chat whole and streamed, and embedding",
                 [&](const Trace& trace) {
                     processor_request(proc, chat_sample(), false, trace);
                     processor_request(proc, chat_sample(), true, trace);
                     processor_request(proc, embedding_sample(), false, trace);
                 });
    report.check(
        who + ": concurrent requests on several threads",
        [&](const Trace&) {
            run_concurrently([&](int i) {
                processor_request(proc, i % 3 == 2 ? embedding_sample() : chat_sample(), i % 3 == 0,
                                  Trace::silent());
            });
        },
        false);
    report.check(who + ": instance_free", [&](const Trace&) {
        invoke_plugin(proc.plugin, "instance_free",
                      [&] { type.vtable.instance_free(proc.instance); });
    });
}

void print_plugin(std::ostream& out, const LoadedPlugin& plugin) {
    out << "plugin   " << plugin.id << " " << plugin.version << " (ABI " << plugin.abi_major << "."
        << plugin.abi_minor << "), " << plugin.file << "\n";
    if (!plugin.description.empty())
        out << "         " << plugin.description << "\n";
    for (const auto& p : plugin.providers)
        out << "exports  provider " << p << "\n";
    for (const auto& p : plugin.processors)
        out << "exports  processor " << p << "\n";
}

// The chat sample a provider is checked with: its upstream part replaced by the files given.
Sample provider_chat_sample(const PluginCheckOptions& options) {
    Sample sample = chat_sample();
    auto read = [](const std::string& file, const char* option) {
        std::ifstream in(file, std::ios::binary);
        std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
        if (!in.good() && !in.eof())
            throw CheckSettingsError(std::string(option) + " " + file + ": cannot read it");
        if (text.empty())
            throw CheckSettingsError(std::string(option) + " " + file + ": empty or missing");
        return text;
    };
    if (!options.upstream_answer_file.empty())
        sample.answer = read(options.upstream_answer_file, "--upstream-answer");
    if (!options.upstream_stream_file.empty())
        sample.stream = read(options.upstream_stream_file, "--upstream-stream");
    return sample;
}

int run(const PluginCheckOptions& options, std::ostream& out) {
    Report report(out, options.verbose);
    std::optional<LogToOutput> log_to_output;
    if (options.verbose)
        log_to_output.emplace(out);
    PluginRegistry registry;
    if (!registry.load_file(options.file)) {
        report.fail("load", registry.refused().empty() ? "refused" : registry.refused()[0].reason);
        return report.finish();
    }
    const auto& plugin = *registry.plugins().front();
    auto wanted = [&](const std::string& name) {
        return options.type.empty() || options.type == name;
    };
    std::vector<std::string> providers, processors;
    std::copy_if(plugin.providers.begin(), plugin.providers.end(), std::back_inserter(providers),
                 wanted);
    std::copy_if(plugin.processors.begin(), plugin.processors.end(), std::back_inserter(processors),
                 wanted);
    const bool none = providers.empty() && processors.empty();
    // Read before any check runs, so that a mistyped setting never passes for a plugin's refusal.
    CheckSettings settings = parse_check_settings(options.config_json, none || !providers.empty(),
                                                  none || !processors.empty());
    const Sample chat = provider_chat_sample(options);

    print_plugin(out, plugin);
    for (bool provider : {true, false})
        if (!(provider ? providers : processors).empty())
            for (const auto& line : describe_settings(settings, provider))
                out << "settings " << (provider ? "provider  " : "processor ") << line << "\n";
    out << "\n";
    report.pass("load: entry symbol, ABI " + std::to_string(plugin.abi_major) + "." +
                std::to_string(plugin.abi_minor) + " accepted, required functions present, init");
    for (const auto& name : providers)
        for (Endpoint endpoint : settings.endpoints)
            check_provider(report, *registry.provider(name), settings,
                           endpoint == Endpoint::chat ? chat : embedding_sample());
    for (const auto& name : processors)
        check_processor(report, *registry.processor(name), settings);
    if (none)
        report.fail("--type " + options.type, "the plugin exports no such provider or processor");
    return report.finish();
}

}  // namespace

int run_plugin_check(const PluginCheckOptions& options, std::ostream& out, std::ostream& err) {
    try {
        return run(options, out);
    } catch (const CheckSettingsError& e) {
        err << "llm-proxy plugin check: " << e.what() << "\n";
    } catch (const std::exception& e) {
        err << "llm-proxy plugin check: cannot check " << options.file << ": " << e.what() << "\n";
    }
    return 2;
}

}  // namespace llmproxy
