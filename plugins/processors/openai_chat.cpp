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

// The pointer to the content of the last user message, and its text; nullopt when none.
std::optional<std::pair<std::string, std::string>> last_user_text(const Call& call) {
    std::optional<std::pair<std::string, std::string>> found;
    for (std::size_t i = 0;; ++i) {
        std::string message = "/messages/" + std::to_string(i);
        auto role = call.get_string(message + "/role");
        if (!role) {
            if (!call.get_field(message))
                break;
            continue;
        }
        if (*role != "user")
            continue;
        if (auto text = call.get_string(message + "/content")) {
            found.emplace(message + "/content", std::string(*text));
        } else {
            std::string joined;  // an array of parts: its text parts, joined
            for (std::size_t j = 0; call.get_field(message + "/content/" + std::to_string(j)); ++j)
                if (auto t = call.get_string(message + "/content/" + std::to_string(j) + "/text"))
                    joined += *t;
            found.emplace(message + "/content", joined);
        }
    }
    return found;
}

class Enhancer : public llm_proxy::Processor {
  public:
    explicit Enhancer(const llm_proxy::ProcessorSettings& settings)
        : name_(settings.name), model_(settings.config_value) {
        if (model_.empty())
            throw Error(
                "config_value must name the model that rewrites the query, e.g. "
                "config_value = \"gpt-4o-mini\"");
        Settings extra(settings.additional_config_json);
        system_prompt_ = extra.string("system_prompt", kDefaultPrompt);
        llm_ = extra.string("llm", "");
        pass_on_error_ = extra.choice("on_error", "fail", {"fail", "pass"}) == "pass";
        extra.finish();
    }

    lp_status on_request(Call& call, const lp_request_view& request, RequestState*) override {
        require_canonical(request, name_, "openai_chat");
        auto target = last_user_text(call);
        if (!target || target->second.empty())
            return LP_CONTINUE;
        json side = {{"model", model_},
                     {"messages", json::array({{{"role", "system"}, {"content", system_prompt_}},
                                               {{"role", "user"}, {"content", target->second}}})}};
        std::string llm = llm_.empty() ? std::string(llm_proxy::view(request.llm_name)) : llm_;
        auto answer = call.call_llm(llm, side.dump(-1, ' ', false, json::error_handler_t::replace));
        if (!answer)
            return give_up("the call to [llm." + llm + "] failed");
        if (answer->status != 200)
            return give_up("[llm." + llm + "] answered " + std::to_string(answer->status) + ": " +
                           std::string(answer->body.substr(0, 300)));
        json parsed = json::parse(answer->body, nullptr, false);
        const json* content = nullptr;
        if (parsed.is_object() && parsed.contains("choices") && parsed["choices"].is_array() &&
            !parsed["choices"].empty()) {
            const json& choice = parsed["choices"][0];
            if (choice.contains("message") && choice["message"].contains("content"))
                content = &choice["message"]["content"];
        }
        if (!content || !content->is_string() || content->get_ref<const std::string&>().empty())
            return give_up("[llm." + llm + "] answered without message content");
        call.replace(target->first, json_string(content->get_ref<const std::string&>()));
        return LP_CONTINUE;
    }

  private:
    lp_status give_up(const std::string& why) const {
        if (!pass_on_error_)
            throw Error(
                "processor '" + name_ + "' (openai_chat) could not enhance the query: " + why, 502,
                "upstream_error", "processor_failed");
        llm_proxy::Host::log(LP_LOG_WARN, "[" + name_ + "] query enhancement skipped: " + why);
        return LP_CONTINUE;
    }

    std::string name_;
    std::string model_;
    std::string system_prompt_;
    std::string llm_;  // empty: the route's target
    bool pass_on_error_ = false;
};

}  // namespace

lp_export openai_chat_export() {
    return llm_proxy::processor_export<Enhancer>("openai_chat");
}

}  // namespace processors
