// `params`: defaults, limits, model aliases and an allow-list for request parameters.
//   additional_config.aliases = { fast = "gpt-4o-mini" }: a requested model renamed
//   additional_config.allowed_models = ["gpt-4o-mini"]: other models get 400 (after aliases)
//   additional_config.defaults = { temperature = 0.2 }: set when the request lacks them
//   additional_config.limits = { max_tokens = 1024 }: numbers above (null, and numbers too large
//   for a double, included) are lowered to the limit; a value that is not a number gets 400
#include <algorithm>
#include <cstdlib>

#include "processor_kit.hpp"
#include "processors.hpp"

namespace processors {

namespace {

std::string pointer_of(const std::string& key) {
    std::string out = "/";
    for (char c : key)
        out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
    return out;
}

class Params : public llm_proxy::Processor {
  public:
    explicit Params(const llm_proxy::ProcessorSettings& settings) {
        Settings extra(settings.additional_config_json);
        const json aliases = extra.table("aliases");
        const json defaults = extra.table("defaults");
        const json limits = extra.table("limits");
        for (auto& [from, to] : aliases.items()) {
            if (!to.is_string())
                throw Error("additional_config.aliases." + from + " must be a model name");
            aliases_.emplace_back(from, to.get<std::string>());
        }
        allowed_models_ = extra.strings("allowed_models");
        for (auto& [key, value] : defaults.items())
            defaults_.emplace_back(pointer_of(key), value.dump());
        for (auto& [key, value] : limits.items()) {
            if (!value.is_number())
                throw Error("additional_config.limits." + key + " must be a number");
            limits_.push_back({pointer_of(key), value.get<double>(), value.dump()});
        }
        extra.finish();
        if (aliases_.empty() && allowed_models_.empty() && defaults_.empty() && limits_.empty())
            throw Error(
                "additional_config sets nothing: give aliases, allowed_models, defaults or limits");
    }

    lp_status on_request(Call& call, const lp_request_view& request, RequestState*) override {
        std::string model(llm_proxy::view(request.model));
        for (const auto& [from, to] : aliases_)
            if (model == from) {
                call.replace("/model", json_string(to));
                model = to;
                break;
            }
        if (!allowed_models_.empty() && std::find(allowed_models_.begin(), allowed_models_.end(),
                                                  model) == allowed_models_.end()) {
            std::string list;
            for (const auto& m : allowed_models_)
                list += (list.empty() ? "" : ", ") + m;
            throw Error(
                "the model '" + model + "' is not allowed on this route (allowed: " + list + ")",
                400, "invalid_request_error", "model_not_allowed");
        }
        for (const auto& [pointer, value] : defaults_)
            if (!call.get_field(pointer))
                call.add(pointer, value);
        for (const auto& limit : limits_) {
            auto current = call.get_field(limit.pointer);
            if (current && above(*current, limit))
                call.replace(limit.pointer, limit.maximum_json);
        }
        return LP_CONTINUE;
    }

  private:
    struct Limit {
        std::string pointer;
        double maximum;
        std::string maximum_json;
    };

    // Whether a value (JSON text) passes the limit. Fails closed: a number too large for a double
    // is above any limit, null (the upstream's own maximum) is above it too, and a value that is
    // not a number (a string an upstream might read as one) is refused rather than let through.
    static bool above(std::string_view value, const Limit& limit) {
        if (value == "null")
            return true;
        if (value.empty() ||
            !(value.front() == '-' || (value.front() >= '0' && value.front() <= '9')))
            throw Error("the request's " + limit.pointer.substr(1) + " must be a number (at most " +
                            limit.maximum_json + " on this route)",
                        400, "invalid_request_error", "invalid_parameter");
        // JSON numbers are valid strtod input; an overflow reads as infinity.
        return std::strtod(std::string(value).c_str(), nullptr) > limit.maximum;
    }
    std::vector<std::pair<std::string, std::string>> aliases_;   // model -> real model
    std::vector<std::string> allowed_models_;                    // empty: any
    std::vector<std::pair<std::string, std::string>> defaults_;  // pointer -> JSON value
    std::vector<Limit> limits_;
};

}  // namespace

lp_export params_export() {
    return llm_proxy::processor_export<Params>("params");
}

}  // namespace processors
