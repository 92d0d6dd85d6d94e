#include "pipeline/request_facts.hpp"

#include <doctest/doctest.h>

using llmproxy::ApiException;
using llmproxy::Endpoint;
using llmproxy::scan_request;

namespace {

// The error code scan_request reports for body, or "" when it accepts it.
std::string rejection(std::string_view body, Endpoint endpoint = Endpoint::chat) {
    try {
        scan_request(body, endpoint);
        return "";
    } catch (const ApiException& e) {
        CHECK(e.error().status == 400);
        return e.error().code;
    }
}

}  // namespace

TEST_CASE("a chat request yields its model and stream flag") {
    auto facts = scan_request(
        R"({"messages":[{"role":"user","content":"{\"model\":\"fake\"}"}],"model":"gpt-4o","stream":true,"extra":{"model":"nested"}})",
        Endpoint::chat);
    CHECK(facts.model == "gpt-4o");
    CHECK(facts.stream);
    CHECK_FALSE(
        scan_request(R"({"model":"m","messages":[],"stream":false})", Endpoint::chat).stream);
    CHECK_FALSE(
        scan_request(R"({"model":"m","messages":[],"stream":null})", Endpoint::chat).stream);
    CHECK_FALSE(scan_request(R"({"model":"m","messages":[]})", Endpoint::chat).stream);
    CHECK(scan_request(
              "{\"model\":\"\u00e9t\u00e9 \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\",\"messages\":[]}",
              Endpoint::chat)
              .model == "\u00e9t\u00e9 \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
}

TEST_CASE("malformed or incomplete bodies are refused with a precise code") {
    CHECK(rejection("") == "invalid_json");
    CHECK(rejection("{\"model\":") == "invalid_json");
    CHECK(rejection("[1,2]") == "invalid_json");
    CHECK(rejection(R"({"messages":[]})") == "missing_model");
    CHECK(rejection(R"({"model":"","messages":[]})") == "missing_model");
    CHECK(rejection(R"({"model":3,"messages":[]})") == "missing_model");
    CHECK(rejection(R"({"model":"m"})") == "missing_messages");
    CHECK(rejection(R"({"model":"m","messages":"hi"})") == "missing_messages");
    CHECK(rejection(R"({"model":"m","messages":[],"stream":"yes"})") == "invalid_stream");
    CHECK(rejection(R"({"model":"m","messages":[],"stream":1})") == "invalid_stream");
    CHECK(rejection(R"({"model":"m","messages":[]} trailing)") == "invalid_json");
    CHECK(rejection("{\"model\":\"m\xff\",\"messages\":[]}") == "invalid_json");  // not UTF-8
    CHECK(rejection("{\"model\":\"\xed\xa0\x80\",\"messages\":[]}") ==
          "invalid_json");                                                           // a surrogate
    CHECK(rejection("{\"model\":\"\xc0\xaf\",\"messages\":[]}") == "invalid_json");  // overlong
}

TEST_CASE("an embedding request needs input, not messages") {
    CHECK(rejection(R"({"model":"m","input":"text"})", Endpoint::embedding) == "");
    CHECK(rejection(R"({"model":"m","messages":[]})", Endpoint::embedding) == "missing_input");
}

TEST_CASE("the most a request may answer is its max_completion_tokens, else its max_tokens") {
    const auto most = [](std::string_view members) {
        return scan_request(R"({"model":"m","messages":[])" + std::string(members) + "}",
                            Endpoint::chat)
            .max_tokens;
    };
    CHECK_FALSE(most("").has_value());
    CHECK(most(R"(,"max_tokens":300)") == 300);
    CHECK(most(R"(,"max_tokens":300,"max_completion_tokens":50)") == 50);
    CHECK(most(R"(,"max_completion_tokens":50,"max_tokens":300)") == 50);
    CHECK(most(R"(,"max_completion_tokens":1.5,"max_tokens":300)") == 300);
    CHECK_FALSE(most(R"(,"max_tokens":"300")").has_value());
    CHECK_FALSE(most(R"(,"max_tokens":1e3)").has_value());
    CHECK_FALSE(most(R"(,"options":{"max_tokens":300})").has_value());
    CHECK(most(R"(,"max_tokens":-4)") == -4);  // capped by the limits, not here
}

TEST_CASE("a stream's request says whether it asked for its usage") {
    const auto facts = [](std::string_view members) {
        return scan_request(
            R"({"model":"m","messages":[],"stream":true)" + std::string(members) + "}",
            Endpoint::chat);
    };
    CHECK_FALSE(facts("").has_stream_options);
    CHECK_FALSE(facts("").include_usage);
    CHECK(facts(R"(,"stream_options":{"include_usage":true})").include_usage);
    CHECK(facts(R"(,"stream_options":{"include_usage":false})").has_stream_options);
    CHECK_FALSE(facts(R"(,"stream_options":{"include_usage":false})").include_usage);
    CHECK_FALSE(facts(R"(,"stream_options":{"x":{"include_usage":true}})").include_usage);
    CHECK(facts(R"(,"stream_options":null)").has_stream_options);  // replaced when asking
    CHECK_FALSE(facts(R"(,"stream_options":null)").include_usage);
    CHECK(llmproxy::max_tokens_in(R"({"max_tokens":9,"max_completion_tokens":"x"})") == 9);
    CHECK_FALSE(llmproxy::max_tokens_in(R"({"n":{"max_tokens":9}})").has_value());
}

TEST_CASE("facts read again after an edit need no validating pass, and say what is missing") {
    CHECK(llmproxy::read_facts(R"({"model":"n","messages":[],"stream":true})", Endpoint::chat)
              .stream);
    CHECK_THROWS_AS(llmproxy::read_facts(R"({"messages":[]})", Endpoint::chat), ApiException);
}
