// `system_prompt`: gives requests a system message.
//   config_value: the system message's text (required)
//   additional_config.mode: "insert" (default: only when the request has no system message),
//     "prepend" (always add it first) or "replace" (replace the first system message's content,
//     or insert when there is none)
#include "processor_kit.hpp"
#include "processors.hpp"

namespace processors {

namespace {

enum class Mode { insert, prepend, replace };

struct SystemPrompt {
    std::string message_json;  // {"role":"system","content":...}
    std::string content_json;
    Mode mode = Mode::insert;
};

lp_status instance_new(const lp_processor_config* config, lp_call* call, void** out) {
    return create_instance(call, out, [&] {
        auto prompt = std::make_unique<SystemPrompt>();
        std::string_view text = view(config->config_value);
        if (text.empty())
            throw ConfigMistake("config_value must be the system message's text");
        prompt->content_json = json_string(text);
        prompt->message_json = R"({"role":"system","content":)" + prompt->content_json + "}";
        Settings settings(config->additional_config_json);
        std::string mode = settings.choice("mode", "insert", {"insert", "prepend", "replace"});
        prompt->mode = mode == "prepend"   ? Mode::prepend
                       : mode == "replace" ? Mode::replace
                                           : Mode::insert;
        settings.finish();
        return static_cast<void*>(prompt.release());
    });
}

void instance_free(void* instance) {
    delete static_cast<SystemPrompt*>(instance);
}

// The index of the first system message, or nullopt.
std::optional<std::size_t> first_system(const Body& body) {
    for (std::size_t i = 0;; ++i) {
        std::string message = "/messages/" + std::to_string(i);
        auto role = body.get_string(message + "/role");
        if (role == "system")
            return i;
        if (!role && !body.get(message))
            return std::nullopt;
    }
}

lp_status on_request(void* instance, void*, lp_call* call, const lp_request_view*) {
    const auto& prompt = *static_cast<SystemPrompt*>(instance);
    return lp_support::guarded(host(), call, [&] {
        Body body(call);
        if (prompt.mode == Mode::prepend) {
            body.add("/messages/0", prompt.message_json);
            return LP_CONTINUE;
        }
        auto existing = first_system(body);
        if (!existing)
            body.add("/messages/0", prompt.message_json);
        else if (prompt.mode == Mode::replace)
            body.replace("/messages/" + std::to_string(*existing) + "/content",
                         prompt.content_json);
        return LP_CONTINUE;
    });
}

}  // namespace

const lp_processor kSystemPrompt = {
    sizeof(lp_processor), instance_new, instance_free, nullptr, nullptr,
    on_request,           nullptr,      nullptr,       nullptr,
};

}  // namespace processors
