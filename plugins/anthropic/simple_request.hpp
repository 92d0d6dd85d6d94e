// The request encoder's fast path (request_encoder.hpp) for the request most clients send: a
// model, messages of the system, developer, user and assistant roles whose content is a string,
// and at most stream, max_tokens or max_completion_tokens, temperature and top_p. Such a request
// is translated from one scan of its text (simple_chat.hpp), its strings and numbers copied as
// the client wrote them; no document is built.
//
// It gives what the full encoder gives, read as JSON (the same members, in the same order, with
// the same values; a string may keep an escape the full encoder would write otherwise). Any other
// request, and any request the full encoder would refuse, gives nullopt: the full encoder then
// translates it or says why not.
#pragma once

#include <optional>
#include <string_view>

#include "anthropic/request_encoder.hpp"

namespace anthropic {

std::optional<EncodedRequest> encode_simple_request(std::string_view chat_request,
                                                    const EncoderSettings& settings);

}  // namespace anthropic
