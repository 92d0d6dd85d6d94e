// `guard`: refuses requests whose message texts match configured patterns.
//   additional_config.patterns = ["api_key", "card", "email"]: built-in patterns
//   additional_config.custom = ["(?i)ignore previous instructions"]: RE2 expressions
//   additional_config.status = 400: the status of the refusal (400-499)
//   additional_config.message = "...": the refusal's message (default names the pattern kind)
#include "patterns.hpp"
#include "processor_kit.hpp"
#include "processors.hpp"

namespace processors {

namespace {

struct Guard {
    std::string name;
    PatternSet patterns;
    int status = 400;
    std::string message;
};

lp_status instance_new(const lp_processor_config* config, lp_call* call, void** out) {
    return create_instance(call, out, [&] {
        Settings settings(config->additional_config_json);
        PatternSet patterns(settings.strings("patterns"), settings.strings("custom"),
                            "additional_config");
        if (patterns.empty())
            throw ConfigMistake(
                "additional_config needs patterns (built-in: email, card, api_key) "
                "or custom regular expressions");
        std::size_t status = settings.count("status", 400);
        if (status < 400 || status > 499)
            throw ConfigMistake("additional_config.status must be from 400 to 499");
        auto guard = std::make_unique<Guard>(Guard{std::string(view(config->name)),
                                                   std::move(patterns), static_cast<int>(status),
                                                   settings.string("message", "")});
        settings.finish();
        return static_cast<void*>(guard.release());
    });
}

void instance_free(void* instance) {
    delete static_cast<Guard*>(instance);
}

lp_status on_request(void* instance, void*, lp_call* call, const lp_request_view*) {
    const auto& guard = *static_cast<Guard*>(instance);
    return lp_support::guarded(host(), call, [&]() -> lp_status {
        Body body(call);
        std::optional<std::string> hit;
        body.for_each_message_text([&](const std::string&, std::string_view text) {
            if (!hit)
                hit = guard.patterns.find(text);
        });
        if (!hit)
            return LP_CONTINUE;
        std::string message = guard.message.empty()
                                  ? "the request was refused by '" + guard.name +
                                        "': its messages contain content that is not allowed (" +
                                        *hit + ")"
                                  : guard.message;
        return lp_support::fail(host(), call, guard.status, "invalid_request_error",
                                "content_blocked", message);
    });
}

}  // namespace

const lp_processor kGuard = {
    sizeof(lp_processor), instance_new, instance_free, nullptr, nullptr,
    on_request,           nullptr,      nullptr,       nullptr,
};

}  // namespace processors
