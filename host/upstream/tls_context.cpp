#include "upstream/tls_context.hpp"

#include <Poco/Net/RejectCertificateHandler.h>
#include <Poco/Net/SSLManager.h>

#include <map>
#include <mutex>

namespace llmproxy {

namespace {

Poco::Net::Context::Ptr make_context(const std::string& ca_file) {
    Poco::Net::Context::Params params;
    params.caLocation = ca_file;
    params.loadDefaultCAs = true;
    params.verificationMode = Poco::Net::Context::VERIFY_RELAXED;
    params.cipherList = "HIGH:!aNULL:!MD5:!RC4";
    Poco::Net::Context::Ptr context =
        new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
    context->disableProtocols(Poco::Net::Context::PROTO_SSLV2 | Poco::Net::Context::PROTO_SSLV3 |
                              Poco::Net::Context::PROTO_TLSV1 | Poco::Net::Context::PROTO_TLSV1_1);
    context->enableSessionCache(true);
    return context;
}

}  // namespace

Poco::Net::Context::Ptr client_tls_context(const std::string& ca_file) {
    static std::mutex mutex;
    static std::map<std::string, Poco::Net::Context::Ptr> contexts;
    std::lock_guard lock(mutex);
    const bool first = contexts.empty();
    if (first)
        Poco::Net::initializeSSL();
    auto& context = contexts[ca_file];
    if (!context)
        context = make_context(ca_file);
    if (first) {
        // Without a handler registered here, SSLManager would look for an application config.
        // Rejecting makes a certificate that fails verification fail the connection.
        Poco::Net::SSLManager::instance().initializeClient(
            nullptr, new Poco::Net::RejectCertificateHandler(false), context);
    }
    return context;
}

}  // namespace llmproxy
