// TLS client contexts for upstream connections: certificates and host names are always verified,
// TLS 1.2 is the minimum, sessions are cached for quick reconnects.
#pragma once

#include <Poco/Net/Context.h>

#include <string>

namespace llmproxy {

// The system CA store, plus ca_file (PEM) when it is not empty. Thread-safe; contexts are shared.
Poco::Net::Context::Ptr client_tls_context(const std::string& ca_file);

}  // namespace llmproxy
