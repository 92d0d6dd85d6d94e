// The Anthropic provider: OpenAI chat completions in, Anthropic's Messages API upstream. This file
// is the plugin's glue (settings, hooks, upstream path and headers); the translation is the codec
// beside it (request_encoder, response_decoder, stream_decoder, error_decoder).
#include <llm_proxy/cpp/plugin.hpp>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "anthropic/anthropic_client_api.hpp"
#include "anthropic/error_decoder.hpp"
#include "anthropic/request_encoder.hpp"
#include "anthropic/response_decoder.hpp"
#include "anthropic/stream_decoder.hpp"

namespace {

using llm_proxy::Call;
using llm_proxy::Error;
using llm_proxy::RequestState;

std::string_view trimmed(std::string_view s) {
    const auto first = s.find_first_not_of(" \t");
    if (first == std::string_view::npos)
        return {};
    return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

// Whether a setting can go into a header value as it is.
bool header_safe(std::string_view value) {
    for (char c : value)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            return false;
    return !trimmed(value).empty();
}

// Adds the comma-separated flags of `list` to `flags`, each once.
void add_beta_flags(std::vector<std::string>& flags, std::string_view list) {
    while (!list.empty()) {
        const auto comma = list.find(',');
        std::string_view flag = trimmed(list.substr(0, comma));
        list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
        if (!flag.empty() && std::find(flags.begin(), flags.end(), flag) == flags.end())
            flags.emplace_back(flag);
    }
}

class AnthropicProvider : public llm_proxy::Provider {
  public:
    explicit AnthropicProvider(const llm_proxy::ProviderSettings& settings) {
        if (settings.endpoint != LP_ENDPOINT_CHAT)
            throw Error("type must be \"chat\"");
        if (settings.base_url.empty())
            throw Error(
                "base_url is required: the API root of Anthropic, e.g. base_url = "
                "\"https://api.anthropic.com/v1\"");
        api_key_ = settings.api_key;
        read_options(settings.options_json);
    }

    struct Request : RequestState {
        anthropic::StreamDecoder decoder{std::time(nullptr)};
        // A route with api = "anthropic" (native): bodies and events pass as they are.
        bool native = false;
        bool native_ended = false;  // message_stop or error seen
    };

    std::unique_ptr<RequestState> new_request() override { return std::make_unique<Request>(); }

    lp_status encode_request(Call& call, const lp_request_view& request,
                             RequestState* state) override {
        if (llm_proxy::request_api(request) == "anthropic")
            return pass_through(call, request, *static_cast<Request*>(state));
        auto encoded = anthropic::encode_request(llm_proxy::view(request.body), encoder_);
        static_cast<Request*>(state)->decoder.set_include_usage(encoded.include_usage);
        call.set_body(encoded.body);
        call.set_upstream_path("/messages");
        call.set_upstream_header("Content-Type", "application/json");
        call.set_upstream_header("anthropic-version", version_);
        set_beta_header(call, request);
        set_credentials(call, request);
        return LP_CONTINUE;
    }

    lp_status decode_response(Call& call, int status, std::string_view body,
                              RequestState* state) override {
        if (static_cast<Request*>(state)->native)
            return LP_CONTINUE;  // Anthropic's answer for an Anthropic client, errors included
        if (status < 400) {
            call.set_body(anthropic::decode_response(body, std::time(nullptr)));
            return LP_CONTINUE;
        }
        anthropic::OpenAiError error = anthropic::decode_error(status, body);
        // set_body keeps the upstream's headers (retry-after, request-id); respond() replaces
        // the whole answer, which a new status or a body that was not JSON needs.
        if (error.status == status && error.anthropic_body)
            call.set_body(error.body());
        else
            call.respond(error.status, "application/json", error.body());
        return LP_CONTINUE;
    }

    lp_status decode_stream_event(Call& call, const lp_sse_event& event,
                                  RequestState* state) override {
        auto& request = *static_cast<Request*>(state);
        if (request.native) {
            const std::string_view name = llm_proxy::view(event.event);
            request.native_ended =
                request.native_ended || name == "message_stop" || name == "error";
            return LP_CONTINUE;
        }
        auto chunks =
            request.decoder.decode(llm_proxy::view(event.event), llm_proxy::view(event.data));
        for (const auto& chunk : chunks)
            call.emit_event(chunk);
        return chunks.empty() ? LP_DROP : LP_CONTINUE;
    }

    lp_status end_stream(Call&, RequestState* state) override {
        const auto& request = *static_cast<Request*>(state);
        if (request.native ? request.native_ended : request.decoder.finished())
            return LP_CONTINUE;
        throw Error("the upstream stream ended without message_stop; the answer may be incomplete",
                    502, "upstream_error", "upstream_stream_truncated");
    }

  private:
    // An Anthropic client's request to an Anthropic upstream: the body goes as the client sent it,
    // to the same endpoint under base_url (".../messages", ".../messages/count_tokens"; the
    // query, such as the SDK's "?beta=true", kept).
    lp_status pass_through(Call& call, const lp_request_view& request, Request& state) const {
        state.native = true;
        call.set_upstream_path(native_path(request));
        call.set_upstream_header("Content-Type", "application/json");
        if (!llm_proxy::request_header(request, "anthropic-version"))  // the client's, if any
            call.set_upstream_header("anthropic-version", version_);
        set_beta_header(call, request);
        set_credentials(call, request);
        return LP_CONTINUE;
    }

    // The client's path from its "/messages" on, looked for after the route's prefix (whose own
    // "/messages", when it ends with one, is where the Messages API starts).
    static std::string native_path(const lp_request_view& request) {
        const std::string_view target = llm_proxy::view(request.path);
        const std::string_view path = target.substr(0, target.find('?'));
        constexpr std::string_view kMessages = "/messages";
        const std::size_t prefix = llm_proxy::view(request.route_prefix).size();
        const std::size_t at =
            path.find(kMessages, prefix >= kMessages.size() ? prefix - kMessages.size() : 0);
        if (at == std::string_view::npos)
            throw Error("there is no " + std::string(path) +
                            " in Anthropic's API: this route passes .../v1/messages requests on",
                        404, "not_found_error", "unknown_endpoint");
        return std::string(target.substr(at));
    }

    void read_options(std::string_view options_json) {
        auto options = nlohmann::json::parse(options_json, nullptr, false);
        if (!options.is_object())
            throw Error("options must be a table");
        for (auto& [key, value] : options.items()) {
            if (key == "max_tokens") {
                if (!value.is_number_integer() || value.get<std::int64_t>() < 1)
                    throw Error("options.max_tokens must be an integer of at least 1");
                encoder_.default_max_tokens = value.get<std::int64_t>();
            } else if (key == "anthropic_version") {
                if (!value.is_string() || !header_safe(value.get<std::string>()))
                    throw Error(
                        "options.anthropic_version must be a version string, e.g. "
                        "\"2023-06-01\"");
                version_ = value.get<std::string>();
            } else if (key == "anthropic_beta") {
                if (!value.is_array())
                    throw Error("options.anthropic_beta must be an array of strings");
                for (const auto& flag : value) {
                    if (!flag.is_string() || !header_safe(flag.get<std::string>()) ||
                        flag.get<std::string>().find(',') != std::string::npos)
                        throw Error(
                            "options.anthropic_beta must be an array of strings, each one "
                            "beta flag, e.g. [\"context-1m-2025-08-07\"]");
                    add_beta_flags(beta_, flag.get<std::string>());
                }
            } else {
                throw Error("unknown key options." + key +
                            " (known: max_tokens, anthropic_version, anthropic_beta)");
            }
        }
    }

    // The configured beta flags and those the client sent in anthropic-beta, each once.
    void set_beta_header(Call& call, const lp_request_view& request) const {
        std::vector<std::string> flags = beta_;
        for (std::size_t i = 0; i < request.header_count; ++i)
            if (llm_proxy::equals_ignoring_case(llm_proxy::view(request.headers[i].name),
                                                "anthropic-beta"))
                add_beta_flags(flags, llm_proxy::view(request.headers[i].value));
        std::string joined;
        for (const auto& flag : flags)
            joined += (joined.empty() ? "" : ",") + flag;
        call.set_upstream_header("anthropic-beta", joined);  // empty: none goes out
    }

    // With token_env, its key. Without, the client's own: OpenAI clients send it as
    // "Authorization: Bearer <key>", which Anthropic wants in x-api-key.
    void set_credentials(Call& call, const lp_request_view& request) const {
        if (!api_key_.empty()) {
            call.set_upstream_header("x-api-key", api_key_);
            return;
        }
        std::string_view bearer;
        for (std::size_t i = 0; i < request.header_count; ++i) {
            std::string_view name = llm_proxy::view(request.headers[i].name);
            std::string_view value = llm_proxy::view(request.headers[i].value);
            if (llm_proxy::equals_ignoring_case(name, "x-api-key"))
                return;  // the client speaks Anthropic's way already
            if (llm_proxy::equals_ignoring_case(name, "authorization") && value.size() > 7 &&
                llm_proxy::equals_ignoring_case(value.substr(0, 7), "bearer "))
                bearer = trimmed(value.substr(7));
        }
        if (bearer.empty())
            return;
        call.set_upstream_header("x-api-key", bearer);
        call.set_upstream_header("Authorization", "");
    }

    std::string api_key_;
    std::string version_ = "2023-06-01";
    std::vector<std::string> beta_;
    anthropic::EncoderSettings encoder_;
};

}  // namespace

LLM_PROXY_PLUGIN("org.llm-proxy.anthropic", "1.0.0",
                 "Anthropic's Messages API behind OpenAI chat completions, and in front of them",
                 llm_proxy::provider_export<AnthropicProvider>("anthropic"),
                 llm_proxy::client_api_export<anthropic::AnthropicClientApi>("anthropic",
                                                                             "anthropic"));
