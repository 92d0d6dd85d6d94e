// Every request's id: the client's x-request-id when it is well formed, else a new one. It goes
// back to the client, on to the upstream, and into every log line of the request.
#pragma once

#include <string>
#include <string_view>

#include "http/headers.hpp"

namespace llmproxy {

// Whether a client's id may be taken as it is: 1 to 128 characters, letters, digits and
// "-_.:/+=@" (UUIDs, ULIDs, base64, W3C trace ids...), nothing that could break a log line or a
// header.
bool well_formed_request_id(std::string_view id);

// The client's x-request-id (the first) when well formed; else 32 random hex digits.
std::string request_id_for(const HeaderList& headers);

}  // namespace llmproxy
