// The OpenAI provider: a codec for OpenAI's API and every server that speaks it (vLLM, Ollama,
// OpenRouter, llama.cpp, ...). The canonical format is OpenAI's own, so bodies and events pass
// through untouched; the provider adds the upstream path and credentials, and checks that a
// stream really ended with [DONE].
#include <llm_proxy/cpp/plugin.hpp>

#include <nlohmann/json.hpp>
#include <string>

namespace {

using llm_proxy::Call;
using llm_proxy::Error;
using llm_proxy::RequestState;

class OpenAiProvider : public llm_proxy::Provider {
  public:
    explicit OpenAiProvider(const llm_proxy::ProviderSettings& settings) {
        if (settings.base_url.empty())
            throw Error(
                "base_url is required: the API root of the OpenAI-compatible server, e.g. "
                "base_url = \"https://api.openai.com/v1\"");
        path_ = settings.endpoint == LP_ENDPOINT_EMBEDDING ? "/embeddings" : "/chat/completions";
        if (!settings.api_key.empty())
            authorization_ = "Bearer " + std::string(settings.api_key);
        auto options = nlohmann::json::parse(settings.options_json, nullptr, false);
        if (!options.is_object())
            throw Error("options must be a table");
        for (auto& [key, value] : options.items()) {
            std::string* target = key == "organization" ? &organization_
                                  : key == "project"    ? &project_
                                                        : nullptr;
            if (!target)
                throw Error("unknown key options." + key + " (known: organization, project)");
            if (!value.is_string())
                throw Error("options." + key + " must be a string");
            *target = value.get<std::string>();
        }
    }

    struct Request : RequestState {
        bool saw_done = false;
    };

    std::unique_ptr<RequestState> new_request() override { return std::make_unique<Request>(); }

    lp_status encode_request(Call& call, const lp_request_view& request, RequestState*) override {
        call.set_upstream_path(path_);
        call.set_upstream_header("Content-Type", "application/json");
        if (!authorization_.empty())
            call.set_upstream_header("Authorization", authorization_);
        else
            bring_client_key(call, request);
        if (!organization_.empty())
            call.set_upstream_header("OpenAI-Organization", organization_);
        if (!project_.empty())
            call.set_upstream_header("OpenAI-Project", project_);
        return LP_CONTINUE;
    }

    lp_status decode_stream_event(Call&, const lp_sse_event& event, RequestState* state) override {
        if (llm_proxy::view(event.data) == "[DONE]")
            static_cast<Request*>(state)->saw_done = true;
        return LP_CONTINUE;
    }

    lp_status end_stream(Call&, RequestState* state) override {
        if (static_cast<Request*>(state)->saw_done)
            return LP_CONTINUE;
        throw Error("the upstream stream ended without data: [DONE]; the answer may be incomplete",
                    502, "upstream_error", "upstream_stream_truncated");
    }

  private:
    // Without a key of its own the upstream gets the client's. A client of another API (an
    // Anthropic SDK on a route with api = "anthropic") may send it in x-api-key, which
    // OpenAI-compatible servers do not read: it goes as the Bearer token they expect.
    static void bring_client_key(Call& call, const lp_request_view& request) {
        if (llm_proxy::request_header(request, "Authorization"))
            return;
        if (auto key = llm_proxy::request_header(request, "x-api-key"); key && !key->empty()) {
            call.set_upstream_header("Authorization", "Bearer " + std::string(*key));
            call.set_upstream_header("x-api-key", "");
        }
    }

    std::string path_;           // "/chat/completions" or "/embeddings"
    std::string authorization_;  // "Bearer <key>", empty when no key
    std::string organization_;
    std::string project_;
};

}  // namespace

LLM_PROXY_PLUGIN("org.llm-proxy.openai", "1.0.0",
                 "OpenAI chat completions and embeddings, and any OpenAI-compatible server",
                 llm_proxy::provider_export<OpenAiProvider>("openai"));
