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

class Guard : public llm_proxy::Processor {
  public:
    explicit Guard(const llm_proxy::ProcessorSettings& settings) : name_(settings.name) {
        Settings extra(settings.additional_config_json);
        patterns_ = std::make_unique<PatternSet>(extra.strings("patterns"), extra.strings("custom"),
                                                 "additional_config");
        if (patterns_->empty())
            throw Error(
                "additional_config needs patterns (built-in: email, card, api_key) or custom "
                "regular expressions");
        std::size_t status = extra.count("status", 400);
        if (status < 400 || status > 499)
            throw Error("additional_config.status must be from 400 to 499");
        status_ = static_cast<int>(status);
        message_ = extra.string("message", "");
        extra.finish();
    }

    lp_status on_request(Call& call, const lp_request_view& request, RequestState*) override {
        require_canonical(request, name_, "guard");
        std::optional<std::string> hit;
        for_each_message_text(call, [&](const std::string&, std::string_view text) {
            if (!hit)
                hit = patterns_->find(text);
        });
        if (!hit)
            return LP_CONTINUE;
        throw Error(message_.empty()
                        ? "the request was refused by '" + name_ +
                              "': its messages contain content that is not allowed (" + *hit + ")"
                        : message_,
                    status_, "invalid_request_error", "content_blocked");
    }

  private:
    std::string name_;
    std::unique_ptr<PatternSet> patterns_;
    int status_ = 400;
    std::string message_;
};

}  // namespace

lp_export guard_export() {
    return llm_proxy::processor_export<Guard>("guard");
}

}  // namespace processors
