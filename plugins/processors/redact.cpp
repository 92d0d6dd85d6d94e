// `redact`: masks patterns in message texts before the request leaves, and optionally in the
// answers, stream events included.
//   additional_config.patterns = ["email", "card", "api_key"]: built-in patterns
//   additional_config.custom = ["ACME-[0-9]+"]: RE2 expressions
//   additional_config.mask = "[REDACTED]": the replacement
//   additional_config.answers = false: also mask the answers' message contents and deltas
// In streams each event is masked on its own: a match split across two events is not seen.
#include "patterns.hpp"
#include "processor_kit.hpp"
#include "processors.hpp"

namespace processors {

namespace {

struct Redactor {
    PatternSet patterns;
    std::string mask;
    bool answers = false;
};

lp_status instance_new(const lp_processor_config* config, lp_call* call, void** out) {
    return create_instance(call, out, [&] {
        Settings settings(config->additional_config_json);
        std::vector<std::string> builtin =
            settings.has("patterns") ? settings.strings("patterns") : PatternSet::builtin_names();
        PatternSet patterns(builtin, settings.strings("custom"), "additional_config");
        if (patterns.empty())
            throw ConfigMistake("additional_config names no pattern to redact");
        auto redactor = std::make_unique<Redactor>(Redactor{std::move(patterns),
                                                            settings.string("mask", "[REDACTED]"),
                                                            settings.boolean("answers", false)});
        settings.finish();
        return static_cast<void*>(redactor.release());
    });
}

void instance_free(void* instance) {
    delete static_cast<Redactor*>(instance);
}

lp_status on_request(void* instance, void*, lp_call* call, const lp_request_view*) {
    const auto& redactor = *static_cast<Redactor*>(instance);
    return lp_support::guarded(host(), call, [&] {
        Body body(call);
        body.for_each_message_text([&](const std::string& pointer, std::string_view text) {
            if (auto masked = redactor.patterns.redact(text, redactor.mask))
                body.replace(pointer, json_string(*masked));
        });
        return LP_CONTINUE;
    });
}

// Masks the string at choices[i].<field>.content of a parsed answer or chunk; true if changed.
bool mask_choices(const Redactor& redactor, json& document, const char* field) {
    bool changed = false;
    if (!document.is_object() || !document.contains("choices") || !document["choices"].is_array())
        return false;
    for (auto& choice : document["choices"]) {
        if (!choice.is_object() || !choice.contains(field))
            continue;
        json& content = choice[field]["content"];
        if (!content.is_string())
            continue;
        if (auto masked =
                redactor.patterns.redact(content.get_ref<const std::string&>(), redactor.mask)) {
            content = *masked;
            changed = true;
        }
    }
    return changed;
}

lp_status on_response(void* instance, void*, lp_call* call, int32_t status, lp_str body) {
    const auto& redactor = *static_cast<Redactor*>(instance);
    if (!redactor.answers || status != 200)
        return LP_CONTINUE;
    return lp_support::guarded(host(), call, [&] {
        Body answer(call);
        for (std::size_t i = 0;; ++i) {
            std::string pointer = "/choices/" + std::to_string(i) + "/message/content";
            if (!answer.get("/choices/" + std::to_string(i)))
                break;
            if (auto text = answer.get_string(pointer))
                if (auto masked = redactor.patterns.redact(*text, redactor.mask))
                    answer.replace(pointer, json_string(*masked));
        }
        (void)body;
        return LP_CONTINUE;
    });
}

lp_status on_stream_event(void* instance, void*, lp_call* call, const lp_sse_event* event) {
    const auto& redactor = *static_cast<Redactor*>(instance);
    if (!redactor.answers || view(event->data) == "[DONE]")
        return LP_CONTINUE;
    return lp_support::guarded(host(), call, [&] {
        json chunk = json::parse(view(event->data), nullptr, false);
        if (mask_choices(redactor, chunk, "delta")) {
            std::string text = chunk.dump(-1, ' ', false, json::error_handler_t::replace);
            host()->emit_event(call, str(text));
        }
        return LP_CONTINUE;
    });
}

}  // namespace

const lp_processor kRedact = {
    sizeof(lp_processor), instance_new, instance_free,   nullptr, nullptr,
    on_request,           on_response,  on_stream_event, nullptr,
};

}  // namespace processors
