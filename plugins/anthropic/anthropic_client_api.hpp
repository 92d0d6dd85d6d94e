// The `anthropic` client API: routes with api = "anthropic" speak Anthropic's Messages API to
// their clients. To an llm of provider "anthropic" the route runs natively (client_api.h), and
// only errors come here; to any other llm the request, the answer, the stream and the errors are
// translated by the codec beside this file (client_request_decoder, client_response_encoder,
// client_stream_encoder, client_error_encoder). Only POST .../messages is translated: a request
// to another path (.../messages/count_tokens) is answered 404 not_found_error.
#pragma once

#include <llm_proxy/cpp/plugin.hpp>

#include <memory>

namespace anthropic {

class AnthropicClientApi : public llm_proxy::ClientApi {
  public:
    explicit AnthropicClientApi(const llm_proxy::ClientApiSettings&) {}

    std::unique_ptr<llm_proxy::RequestState> new_request() override;
    lp_status decode_request(llm_proxy::Call& call, const lp_request_view& request,
                             llm_proxy::RequestState* state) override;
    lp_status encode_response(llm_proxy::Call& call, int status, std::string_view body,
                              llm_proxy::RequestState* state) override;
    lp_status encode_stream_event(llm_proxy::Call& call, const lp_sse_event& event,
                                  llm_proxy::RequestState* state) override;
    lp_status end_stream(llm_proxy::Call& call, llm_proxy::RequestState* state) override;
    lp_status encode_error(llm_proxy::Call& call, bool in_stream, int status,
                           std::string_view error_type, std::string_view code,
                           std::string_view message, llm_proxy::RequestState* state) override;
};

}  // namespace anthropic
