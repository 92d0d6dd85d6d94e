// `params`: defaults, limits, model aliases and an allow-list for request parameters.
//   additional_config.aliases = { fast = "gpt-4o-mini" }: a requested model renamed
//   additional_config.allowed_models = ["gpt-4o-mini"]: other models get 400 (after aliases)
//   additional_config.defaults = { temperature = 0.2 }: set when the request lacks them
//   additional_config.limits = { max_tokens = 1024 }: numbers above are lowered to the limit
#include "processor_kit.hpp"
#include "processors.hpp"

namespace processors {

namespace {

struct Params {
    std::vector<std::pair<std::string, std::string>> aliases;     // model -> JSON string
    std::vector<std::string> allowed_models;                      // empty: any
    std::vector<std::pair<std::string, std::string>> defaults;    // pointer -> JSON value
    std::vector<std::pair<std::string, double>> limits;           // pointer -> maximum
    std::vector<std::pair<std::string, std::string>> limit_json;  // pointer -> JSON of maximum
};

std::string pointer_of(const std::string& key) {
    std::string out = "/";
    for (char c : key)
        out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
    return out;
}

lp_status instance_new(const lp_processor_config* config, lp_call* call, void** out) {
    return create_instance(call, out, [&] {
        auto params = std::make_unique<Params>();
        Settings settings(config->additional_config_json);
        const json aliases = settings.table("aliases");
        const json defaults = settings.table("defaults");
        const json limits = settings.table("limits");
        for (auto& [from, to] : aliases.items()) {
            if (!to.is_string())
                throw ConfigMistake("additional_config.aliases." + from + " must be a model name");
            params->aliases.emplace_back(from, to.get<std::string>());
        }
        params->allowed_models = settings.strings("allowed_models");
        for (auto& [key, value] : defaults.items())
            params->defaults.emplace_back(pointer_of(key), value.dump());
        for (auto& [key, value] : limits.items()) {
            if (!value.is_number())
                throw ConfigMistake("additional_config.limits." + key + " must be a number");
            params->limits.emplace_back(pointer_of(key), value.get<double>());
            params->limit_json.emplace_back(pointer_of(key), value.dump());
        }
        settings.finish();
        if (params->aliases.empty() && params->allowed_models.empty() && params->defaults.empty() &&
            params->limits.empty())
            throw ConfigMistake(
                "additional_config sets nothing: give aliases, allowed_models, "
                "defaults or limits");
        return static_cast<void*>(params.release());
    });
}

void instance_free(void* instance) {
    delete static_cast<Params*>(instance);
}

lp_status on_request(void* instance, void*, lp_call* call, const lp_request_view* request) {
    const auto& params = *static_cast<Params*>(instance);
    return lp_support::guarded(host(), call, [&]() -> lp_status {
        Body body(call);
        std::string model(view(request->model));
        for (const auto& [from, to] : params.aliases)
            if (model == from) {
                body.replace("/model", json_string(to));
                model = to;
                break;
            }
        if (!params.allowed_models.empty() &&
            std::find(params.allowed_models.begin(), params.allowed_models.end(), model) ==
                params.allowed_models.end()) {
            std::string list;
            for (const auto& m : params.allowed_models)
                list += (list.empty() ? "" : ", ") + m;
            return lp_support::fail(
                host(), call, 400, "invalid_request_error", "model_not_allowed",
                "the model '" + model + "' is not allowed on this route (allowed: " + list + ")");
        }
        for (const auto& [pointer, value] : params.defaults)
            if (!body.get(pointer))
                body.add(pointer, value);
        for (std::size_t i = 0; i < params.limits.size(); ++i) {
            const auto& [pointer, maximum] = params.limits[i];
            auto current = body.get(pointer);
            if (!current)
                continue;
            json number = json::parse(*current, nullptr, false);
            if (number.is_number() && number.get<double>() > maximum)
                body.replace(pointer, params.limit_json[i].second);
        }
        return LP_CONTINUE;
    });
}

}  // namespace

const lp_processor kParams = {
    sizeof(lp_processor), instance_new, instance_free, nullptr, nullptr,
    on_request,           nullptr,      nullptr,       nullptr,
};

}  // namespace processors
