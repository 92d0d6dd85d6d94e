// The client request decoder's fast path (client_request_decoder.hpp) for the Messages request
// most clients send: a model, max_tokens, a string system, messages of the user and assistant
// roles whose content is a string, and at most stream, temperature and top_p. Such a request is
// translated from one scan of its text (simple_chat.hpp), its strings and numbers copied as the
// client wrote them; no document is built.
//
// It gives what the full decoder gives, read as JSON (the same members, in the same order, with
// the same values; a string may keep an escape the full decoder would write otherwise). Any other
// request, and any request the full decoder would refuse, gives nullopt: the full decoder then
// translates it or says why not.
#pragma once

#include <optional>
#include <string_view>

#include "anthropic/client_request_decoder.hpp"

namespace anthropic {

std::optional<DecodedRequest> decode_simple_client_request(std::string_view anthropic_request);

}  // namespace anthropic
