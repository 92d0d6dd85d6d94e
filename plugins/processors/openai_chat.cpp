// `openai_chat`: query enhancement, as the original README promised. Before the request goes
// upstream, an LLM rewrites the user's last message, and the answer replaces it.
//   config_value: the model for the rewrite (required)
//   additional_config.system_prompt: the instruction (default: "Improve this query ...")
//   additional_config.llm: the [llm.NAME] to ask (default: the route's target)
//   additional_config.on_error: "fail" (default: the request fails with 502 naming the
//     processor) or "pass" (the request goes on unchanged)
#include "processor_kit.hpp"
#include "processors.hpp"

namespace processors {

namespace {

constexpr const char* kDefaultPrompt =
    "Improve this query for a language model: make it clear, specific and complete. Answer with "
    "the improved query only.";

struct Enhancer {
    std::string name;
    std::string model;
    std::string system_prompt;
    std::string llm;  // empty: the route's target
    bool pass_on_error = false;
};

lp_status instance_new(const lp_processor_config* config, lp_call* call, void** out) {
    return create_instance(call, out, [&] {
        auto enhancer = std::make_unique<Enhancer>();
        enhancer->name = std::string(view(config->name));
        enhancer->model = std::string(view(config->config_value));
        if (enhancer->model.empty())
            throw ConfigMistake(
                "config_value must name the model that rewrites the query, e.g. "
                "config_value = \"gpt-4o-mini\"");
        Settings settings(config->additional_config_json);
        enhancer->system_prompt = settings.string("system_prompt", kDefaultPrompt);
        enhancer->llm = settings.string("llm", "");
        enhancer->pass_on_error = settings.choice("on_error", "fail", {"fail", "pass"}) == "pass";
        settings.finish();
        return static_cast<void*>(enhancer.release());
    });
}

void instance_free(void* instance) {
    delete static_cast<Enhancer*>(instance);
}

// The pointer to the content of the last user message, and its text; nullopt when none.
std::optional<std::pair<std::string, std::string>> last_user_text(Body& body) {
    std::optional<std::pair<std::string, std::string>> found;
    for (std::size_t i = 0;; ++i) {
        std::string message = "/messages/" + std::to_string(i);
        auto role = body.get_string(message + "/role");
        if (!role) {
            if (!body.get(message))
                break;
            continue;
        }
        if (*role != "user")
            continue;
        if (auto text = body.get_string(message + "/content")) {
            found.emplace(message + "/content", std::string(*text));
        } else {
            std::string joined;  // an array of parts: its text parts, joined
            for (std::size_t j = 0; auto part = body.get(message + "/content/" + std::to_string(j));
                 ++j)
                if (auto t = body.get_string(message + "/content/" + std::to_string(j) + "/text"))
                    joined += *t;
            found.emplace(message + "/content", joined);
        }
    }
    return found;
}

lp_status on_request(void* instance, void*, lp_call* call, const lp_request_view* request) {
    const auto& enhancer = *static_cast<Enhancer*>(instance);
    return lp_support::guarded(host(), call, [&]() -> lp_status {
        Body body(call);
        auto target = last_user_text(body);
        if (!target || target->second.empty())
            return LP_CONTINUE;
        auto give_up = [&](const std::string& why) -> lp_status {
            if (enhancer.pass_on_error) {
                log(LP_LOG_WARN, "[" + enhancer.name + "] query enhancement skipped: " + why);
                return LP_CONTINUE;
            }
            return lp_support::fail(host(), call, 502, "upstream_error", "processor_failed",
                                    "processor '" + enhancer.name + "' (openai_chat) could not " +
                                        "enhance the query: " + why);
        };
        json side = {
            {"model", enhancer.model},
            {"messages", json::array({{{"role", "system"}, {"content", enhancer.system_prompt}},
                                      {{"role", "user"}, {"content", target->second}}})}};
        std::string side_body = side.dump(-1, ' ', false, json::error_handler_t::replace);
        std::string llm =
            enhancer.llm.empty() ? std::string(view(request->llm_name)) : enhancer.llm;
        lp_llm_answer answer{sizeof(lp_llm_answer), 0, {}};
        if (host()->call_llm(call, str(llm), str(side_body), &answer) != LP_CONTINUE)
            return give_up("the call to [llm." + llm + "] failed");
        if (answer.http_status != 200)
            return give_up("[llm." + llm + "] answered " + std::to_string(answer.http_status) +
                           ": " + std::string(view(answer.body)).substr(0, 300));
        json parsed = json::parse(view(answer.body), nullptr, false);
        const json* content = nullptr;
        if (parsed.is_object() && parsed.contains("choices") && parsed["choices"].is_array() &&
            !parsed["choices"].empty()) {
            const json& choice = parsed["choices"][0];
            if (choice.contains("message") && choice["message"].contains("content"))
                content = &choice["message"]["content"];
        }
        if (!content || !content->is_string() || content->get_ref<const std::string&>().empty())
            return give_up("[llm." + llm + "] answered without message content");
        body.replace(target->first, json_string(content->get_ref<const std::string&>()));
        return LP_CONTINUE;
    });
}

}  // namespace

const lp_processor kOpenAiChat = {
    sizeof(lp_processor), instance_new, instance_free, nullptr, nullptr,
    on_request,           nullptr,      nullptr,       nullptr,
};

}  // namespace processors
