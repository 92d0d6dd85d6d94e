// What the fuzz targets (tests/fuzz/) found, one test case per broken rule, with the input that
// broke it (minimized).
#include <doctest/doctest.h>

#include <string>

#include "json/json_fields.hpp"

namespace json_fields = llmproxy::json_fields;
using json_fields::Edit;

TEST_CASE("valid() refuses an object with two members of the same key") {
    // json target: nlohmann keeps the last "model", json_fields::get the first, so a processor
    // and the upstream could read different models from one body.
    CHECK_FALSE(json_fields::valid(R"({"model":"allowed-model","messages":[],"model":"other"})"));
    CHECK_FALSE(json_fields::valid(R"({"model":"m","messages":[],"\u006dodel":"x"})"));
    CHECK_FALSE(json_fields::valid(R"({"a":{"b":1,"c":{"b":2,"b":3}}})"));
    CHECK(json_fields::valid(R"({"a":{"b":1},"b":{"a":2}})"));  // the same key in two objects
}

TEST_CASE("valid() refuses \\u escapes of surrogates that are not a pair") {
    // json target: nlohmann refuses these texts; a lone surrogate is no character and has no
    // UTF-8 form.
    CHECK_FALSE(json_fields::valid(R"({"s":"\ud800"})"));
    CHECK_FALSE(json_fields::valid(R"(["\udc00"])"));
    CHECK_FALSE(json_fields::valid(R"(["\ud800\u0041"])"));
    CHECK_FALSE(json_fields::valid(R"(["\udc00\ud800"])"));
    CHECK(json_fields::valid(R"(["\ud83d\ude00"])"));
}

TEST_CASE("an index forgets renumbered elements of a root array") {
    // json_edit target: splice() takes an empty parent pointer (the root) for "nothing was
    // renumbered", so after a removal from a root array, "/1" still finds the old second element.
    std::string json = R"([[1,2,3],[],{"x":[true,false,null]}])";
    json_fields::Index index;
    CHECK(json_fields::get(json, "/1", &index) == "[]");
    REQUIRE(json_fields::edit(json, Edit::remove, "/0", "", &index).empty());
    CHECK(json == R"([[],{"x":[true,false,null]}])");
    CHECK(json_fields::get(json, "/1", &index) == json_fields::get(json, "/1"));
    CHECK(json_fields::get(json, "/1/x/0", &index) == "true");
}

TEST_CASE("an index finds inside a value set with surrounding whitespace") {
    // json_edit target: valid() allows whitespace around a value, and the index then keeps the
    // span of the value with its whitespace, so nothing inside it is found through the index.
    std::string json = R"({"messages":[],"model":"m"})";
    json_fields::Index index;
    CHECK(json_fields::get(json, "/messages", &index) == "[]");
    REQUIRE(json_fields::edit(json, Edit::replace, "/messages", R"( [{"role":"user"}] )", &index)
                .empty());
    CHECK(json_fields::get(json, "/messages", &index) == json_fields::get(json, "/messages"));
    CHECK(json_fields::get(json, "/messages/0/role", &index) == "\"user\"");
}
