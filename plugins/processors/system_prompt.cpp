// `system_prompt`: gives requests a system message.
//   config_value: the system message's text (required)
//   additional_config.mode: "insert" (default: only when the request has no system message),
//     "prepend" (always add it first) or "replace" (replace the first system message's content,
//     or insert when there is none)
#include "processor_kit.hpp"
#include "processors.hpp"

namespace processors {

namespace {

// The index of the first system message, or nullopt.
std::optional<std::size_t> first_system(const Call& call) {
    for (std::size_t i = 0;; ++i) {
        std::string message = "/messages/" + std::to_string(i);
        auto role = call.get_string(message + "/role");
        if (role == "system")
            return i;
        if (!role && !call.get_field(message))
            return std::nullopt;
    }
}

class SystemPrompt : public llm_proxy::Processor {
  public:
    explicit SystemPrompt(const llm_proxy::ProcessorSettings& settings) : name_(settings.name) {
        if (settings.config_value.empty())
            throw Error("config_value must be the system message's text");
        content_json_ = json_string(settings.config_value);
        message_json_ = R"({"role":"system","content":)" + content_json_ + "}";
        Settings extra(settings.additional_config_json);
        std::string mode = extra.choice("mode", "insert", {"insert", "prepend", "replace"});
        mode_ = mode == "prepend"   ? Mode::prepend
                : mode == "replace" ? Mode::replace
                                    : Mode::insert;
        extra.finish();
    }

    lp_status on_request(Call& call, const lp_request_view& request, RequestState*) override {
        require_canonical(request, name_, "system_prompt");
        if (mode_ == Mode::prepend) {
            call.add("/messages/0", message_json_);
            return LP_CONTINUE;
        }
        auto existing = first_system(call);
        if (!existing)
            call.add("/messages/0", message_json_);
        else if (mode_ == Mode::replace)
            call.replace("/messages/" + std::to_string(*existing) + "/content", content_json_);
        return LP_CONTINUE;
    }

  private:
    enum class Mode { insert, prepend, replace };
    std::string name_;
    std::string message_json_;  // {"role":"system","content":...}
    std::string content_json_;
    Mode mode_ = Mode::insert;
};

}  // namespace

lp_export system_prompt_export() {
    return llm_proxy::processor_export<SystemPrompt>("system_prompt");
}

}  // namespace processors
