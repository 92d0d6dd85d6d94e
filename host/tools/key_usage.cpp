#include "tools/key_usage.hpp"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/URI.h>

#include <fmt/format.h>

#include <cstdlib>
#include <istream>
#include <nlohmann/json.hpp>

#include "logging/log_text.hpp"

namespace llmproxy {

namespace {

constexpr std::streamsize kMaxAnswerBytes = 64 << 20;

// The llm-proxy of the configuration, asked on loopback when it listens on every address.
std::string server_url(const ServerConfig& server) {
    std::string host = server.host;
    if (host == "0.0.0.0" || host.empty())
        host = "127.0.0.1";
    else if (host == "::")
        host = "[::1]";
    else if (host.find(':') != std::string::npos)
        host = "[" + host + "]";
    return "http://" + host + ":" + std::to_string(server.port);
}

// A figure of the report: "$24.5" for dollars, "1200" otherwise.
std::string number_text(const nlohmann::json& value, bool dollars) {
    const std::string text =
        value.is_number_float() ? fmt::format("{}", value.get<double>()) : value.dump();
    return dollars ? "$" + text : text;
}

}  // namespace

int print_key_usage(const Config& config, const std::string& url,
                    const std::optional<std::string>& key, bool json, std::ostream& out,
                    std::ostream& err) {
    if (config.auth.admin_key_env.empty()) {
        err << "llm-proxy: " << config.file
            << " has no [auth] admin_key_env: name the environment variable holding the admin "
               "key there, and set it for llm-proxy and for this command\n";
        return 1;
    }
    const char* admin = std::getenv(config.auth.admin_key_env.c_str());
    if (!admin || !*admin) {
        err << "llm-proxy: the admin key's variable " << config.auth.admin_key_env
            << " is not set\n";
        return 1;
    }
    const std::string base = url.empty() ? server_url(config.server) : url;
    try {
        Poco::URI uri(base);
        uri.setPath(uri.getPath() + "/admin/usage");
        if (key)
            uri.addQueryParameter("key", *key);
        if (uri.getScheme() != "http")
            throw Poco::InvalidArgumentException("only http:// URLs are asked");
        Poco::Net::HTTPClientSession session(uri.getHost(), uri.getPort());
        session.setTimeout(Poco::Timespan(10, 0));
        Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, uri.getPathAndQuery(),
                                       Poco::Net::HTTPMessage::HTTP_1_1);
        request.set("Authorization", std::string("Bearer ") + admin);
        session.sendRequest(request);
        Poco::Net::HTTPResponse response;
        std::istream& body = session.receiveResponse(response);
        std::string text;
        char buffer[16384];
        while (body.read(buffer, sizeof buffer) || body.gcount() > 0) {
            text.append(buffer, static_cast<std::size_t>(body.gcount()));
            if (static_cast<std::streamsize>(text.size()) > kMaxAnswerBytes)
                throw Poco::DataException("the answer is too long");
        }
        const auto answer = nlohmann::json::parse(text, nullptr, false);
        if (response.getStatus() != Poco::Net::HTTPResponse::HTTP_OK) {
            const std::string message =
                answer.is_object() && answer.contains("error") &&
                        answer["error"].value("message", nlohmann::json()).is_string()
                    ? answer["error"]["message"].get<std::string>()
                    : printable(text, 300);
            err << "llm-proxy: " << base << " answered " << response.getStatus() << ": "
                << printable(message, 300) << '\n';
            return 1;
        }
        if (json) {
            out << text << '\n';
            return 0;
        }
        if (!answer.is_object() || !answer.contains("holders") || !answer["holders"].is_array())
            throw Poco::DataException("the answer is not a usage report");
        out << "HOLDER\tKIND\tUSED\tLIMIT\tRENEWS\n";
        for (const auto& holder : answer["holders"]) {
            const std::string name = printable(holder.value("holder", ""), 300);
            if (holder.value("limits", nlohmann::json::array()).empty())
                out << name << "\t-\t-\t-\t-\n";
            for (const auto& limit : holder.value("limits", nlohmann::json::array())) {
                const bool dollars = limit.value("unit", "") == "dollars";
                const auto renews = limit.value("renews_at", nlohmann::json());
                out << name << '\t' << printable(limit.value("kind", ""), 64) << '\t'
                    << number_text(limit.value("used", nlohmann::json()), dollars) << '\t'
                    << number_text(limit.value("limit", nlohmann::json()), dollars) << '\t'
                    << (renews.is_string() ? printable(renews.get<std::string>(), 64) : "-")
                    << '\n';
            }
        }
        return 0;
    } catch (const Poco::Exception& e) {
        err << "llm-proxy: cannot ask " << base << " for the usage: " << e.displayText()
            << " (is llm-proxy running there? --url says where)\n";
        return 1;
    } catch (const std::exception& e) {
        err << "llm-proxy: cannot read " << base << "'s usage report: " << e.what() << '\n';
        return 1;
    }
}

}  // namespace llmproxy
