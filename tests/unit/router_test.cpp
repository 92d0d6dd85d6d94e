#include "routing/router.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using llmproxy::Router;

namespace {

struct Route {
    std::string prefix;
};

const Route* match(const std::vector<Route>& routes, std::string_view path) {
    Router<Route> router(routes, [](const Route& r) { return std::string_view(r.prefix); });
    return router.match(path);
}

}  // namespace

TEST_CASE("the longest matching prefix wins, whatever the order of routes") {
    std::vector<Route> routes = {{"/v1"}, {"/v1/chat/completions"}, {"/v1/chat"}};
    CHECK(match(routes, "/v1/chat/completions") == &routes[1]);
    CHECK(match(routes, "/v1/chat/other") == &routes[2]);
    CHECK(match(routes, "/v1/embeddings") == &routes[0]);
    CHECK(match(routes, "/v1") == &routes[0]);
}

TEST_CASE("a prefix matches whole path segments only") {
    std::vector<Route> routes = {{"/v1/chat"}};
    CHECK(match(routes, "/v1/chatter") == nullptr);
    CHECK(match(routes, "/v1/chat/") == &routes[0]);
    CHECK(match(routes, "/v2/chat") == nullptr);
    CHECK(match(routes, "/") == nullptr);
}

TEST_CASE("a prefix ending in a slash matches everything below it") {
    std::vector<Route> routes = {{"/openai/"}};
    CHECK(match(routes, "/openai/v1/chat/completions") == &routes[0]);
    CHECK(match(routes, "/openaix") == nullptr);
}

TEST_CASE("no routes, no match") {
    CHECK(match({}, "/v1/chat/completions") == nullptr);
}
