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

class Redactor : public llm_proxy::Processor {
  public:
    explicit Redactor(const llm_proxy::ProcessorSettings& settings) : name_(settings.name) {
        Settings extra(settings.additional_config_json);
        std::vector<std::string> builtin =
            extra.has("patterns") ? extra.strings("patterns") : PatternSet::builtin_names();
        patterns_ =
            std::make_unique<PatternSet>(builtin, extra.strings("custom"), "additional_config");
        if (patterns_->empty())
            throw Error("additional_config names no pattern to redact");
        mask_ = extra.string("mask", "[REDACTED]");
        answers_ = extra.boolean("answers", false);
        extra.finish();
    }

    lp_status on_request(Call& call, const lp_request_view& request, RequestState*) override {
        require_canonical(request, name_, "redact");
        for_each_message_text(call, [&](const std::string& pointer, std::string_view text) {
            if (auto masked = patterns_->redact(text, mask_))
                replace_or_fail(call, pointer, *masked);
        });
        return LP_CONTINUE;
    }

    lp_status on_response(Call& call, int status, std::string_view, RequestState*) override {
        if (!answers_ || status != 200)
            return LP_CONTINUE;
        for (std::size_t i = 0; call.get_field("/choices/" + std::to_string(i)); ++i) {
            std::string pointer = "/choices/" + std::to_string(i) + "/message/content";
            auto value = call.get_field(pointer);
            if (!value || *value == "null")
                continue;
            auto text = call.get_string(pointer);
            if (!text)
                throw unreadable_answer(pointer);
            if (auto masked = patterns_->redact(*text, mask_))
                replace_or_fail(call, pointer, *masked);
        }
        return LP_CONTINUE;
    }

    lp_status on_stream_event(Call& call, const lp_sse_event& event, RequestState*) override {
        std::string_view data = llm_proxy::view(event.data);
        if (!answers_)
            return LP_CONTINUE;
        json chunk = json::parse(data, nullptr, false);
        if (chunk.is_discarded())
            throw unreadable_answer("stream event");
        if (mask_deltas(chunk))
            call.emit_event(chunk.dump(-1, ' ', false, json::error_handler_t::replace));
        return LP_CONTINUE;
    }

  private:
    // An answer the processor cannot read is not passed on unmasked.
    static Error unreadable_answer(const std::string& what) {
        return Error("redact cannot read the upstream answer's " + what + " to mask it", 502,
                     "upstream_error", "unreadable_content");
    }

    // A text that should be masked and cannot be is never let through.
    static void replace_or_fail(const Call& call, const std::string& pointer,
                                const std::string& masked) {
        if (!call.replace(pointer, json_string(masked)))
            throw Error("redact could not mask " + pointer);
    }

    // Masks choices[].delta.content of a parsed chunk; true if anything changed.
    bool mask_deltas(json& chunk) const {
        bool changed = false;
        if (!chunk.is_object() || !chunk.contains("choices") || !chunk["choices"].is_array())
            return false;
        for (auto& choice : chunk["choices"]) {
            if (!choice.is_object() || !choice.contains("delta"))
                continue;
            json& content = choice["delta"]["content"];
            if (!content.is_string())
                continue;
            if (auto masked = patterns_->redact(content.get_ref<const std::string&>(), mask_)) {
                content = *masked;
                changed = true;
            }
        }
        return changed;
    }

    std::string name_;
    std::unique_ptr<PatternSet> patterns_;
    std::string mask_;
    bool answers_ = false;
};

}  // namespace

lp_export redact_export() {
    return llm_proxy::processor_export<Redactor>("redact");
}

}  // namespace processors
