// The keys file, key secrets and hashes, and authentication (access/).
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "access/authentication.hpp"
#include "access/key_file.hpp"
#include "access/key_secret.hpp"
#include "access/key_store.hpp"
#include "http/api_error.hpp"

using namespace llmproxy;

namespace {

constexpr std::int64_t kNow = 1796126400;  // 2026-12-01T12:00:00Z

// The status and code of the ApiException fn throws; {0, ""} when it throws none.
template <typename Fn>
std::pair<int, std::string> refusal(Fn&& fn) {
    try {
        fn();
    } catch (const ApiException& e) {
        return {e.error().status, e.error().code};
    }
    return {0, ""};
}

std::string problems_of(const std::string& text) {
    try {
        parse_key_file(text, "keys.toml");
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE(
    "a new key secret is long, URL-safe and new each time, and its hash has the stored form") {
    const std::string a = new_key_secret(), b = new_key_secret();
    CHECK(a != b);
    CHECK(a.rfind("sk-lp-", 0) == 0);
    CHECK(a.size() == 6 + 43);
    CHECK(a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
                              6) == std::string::npos);
    CHECK(is_key_hash(key_hash(a)));
    CHECK(key_hash(a) != key_hash(b));
    // SHA-256("abc"), FIPS 180-2's example.
    CHECK(key_hash("abc") ==
          "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(key_hint(a) == a.substr(0, 10) + "...");
    CHECK_FALSE(
        is_key_hash("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
    CHECK_FALSE(is_key_hash("sha256:abc"));
    CHECK_FALSE(is_key_hash(a));
}

TEST_CASE("a keys file is read whole, and what llm-proxy writes reads back the same") {
    const std::string text = R"(
[keys.team-a]
hash = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
hint = "sk-lp-abcd..."
created = 2026-11-30T12:00:00Z
expires = 2027-01-01T01:00:00+01:00
routes = ["/v1/chat/completions"]
models = ["gpt-4o*", "echo"]
metadata = { team = "search", "cost center" = "r&d \"7\"" }

[keys."ci.bot"]
hash = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
revoked = 2026-12-01
)";
    const auto keys = parse_key_file(text, "keys.toml");
    REQUIRE(keys.size() == 2);  // in the order of their ids
    const ClientKey& a = keys[1];
    CHECK(a.id == "team-a");
    CHECK(a.created == 1796040000);
    REQUIRE(a.expires);
    CHECK(*a.expires == 1798761600);  // 2027-01-01T00:00:00Z: the offset is taken away
    CHECK(a.routes == std::vector<std::string>{"/v1/chat/completions"});
    CHECK(a.models.size() == 2);
    CHECK(a.metadata_json == R"({"cost center":"r&d \"7\"","team":"search"})");
    CHECK(keys[0].id == "ci.bot");
    REQUIRE(keys[0].revoked);
    CHECK(*keys[0].revoked == 1796083200);  // a date alone: its midnight UTC
    CHECK_FALSE(keys[0].expires);

    const auto again = parse_key_file(key_file_text(keys), "keys.toml");
    REQUIRE(again.size() == 2);
    for (std::size_t i = 0; i < keys.size(); ++i) {
        CHECK(again[i].id == keys[i].id);
        CHECK(again[i].hash == keys[i].hash);
        CHECK(again[i].hint == keys[i].hint);
        CHECK(again[i].created == keys[i].created);
        CHECK(again[i].expires == keys[i].expires);
        CHECK(again[i].revoked == keys[i].revoked);
        CHECK(again[i].routes == keys[i].routes);
        CHECK(again[i].models == keys[i].models);
        CHECK(again[i].metadata_json == keys[i].metadata_json);
    }
}

TEST_CASE("a keys file with mistakes names each one with its line") {
    const std::string problems = problems_of(R"([keys.a]
hash = "sk-lp-the-secret-itself"

[keys.b]
hash = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
expires = "next year"
metadata = { n = 3 }
colour = "red"

[keys.c]
hash = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

[keys."bad id!"]
hash = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015aa"

[keys.d]

[other]
)");
    CHECK(problems.find("keys.toml:2: 'keys.a.hash': must be \"sha256:\"") != std::string::npos);
    CHECK(problems.find("keys.toml:6: 'keys.b.expires': must be a date-time") != std::string::npos);
    CHECK(problems.find("keys.toml:7: 'keys.b.metadata'") != std::string::npos);
    CHECK(problems.find("keys.toml:8: 'keys.b.colour': unknown key") != std::string::npos);
    CHECK(problems.find("'keys.c.hash': is also the hash of [keys.b]") != std::string::npos);
    CHECK(problems.find("key ids are 1 to 64") != std::string::npos);
    CHECK(problems.find("'keys.d.hash': is required") != std::string::npos);
    CHECK(problems.find("'other': a keys file holds [keys.ID] tables only") != std::string::npos);
    CHECK(problems_of("[keys.a\n").find("keys.toml:1") != std::string::npos);
}

TEST_CASE("saving a keys file replaces it whole and keeps its mode") {
    const auto dir =
        std::filesystem::temp_directory_path() / ("llm-proxy-keys-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string path = (dir / "keys.toml").string();
    ClientKey key;
    key.id = "a";
    key.hash = key_hash("x");
    save_key_file(path, {key});
    const auto owner_only =
        std::filesystem::perms::owner_read | std::filesystem::perms::owner_write;
    CHECK((std::filesystem::status(path).permissions() & std::filesystem::perms::all) ==
          owner_only);
    std::filesystem::permissions(path, std::filesystem::perms::owner_read |
                                           std::filesystem::perms::owner_write |
                                           std::filesystem::perms::group_read);
    key.id = "b";
    save_key_file(path, {key});
    CHECK((std::filesystem::status(path).permissions() & std::filesystem::perms::group_read) ==
          std::filesystem::perms::group_read);
    const auto keys = load_key_file(path);
    REQUIRE(keys.size() == 1);
    CHECK(keys[0].id == "b");
    CHECK_FALSE(std::filesystem::exists(path + ".new"));
    std::filesystem::remove_all(dir);
}

TEST_CASE("dates are read with their offsets and written in UTC") {
    CHECK(parse_rfc3339("2027-01-01") == 1798761600);
    CHECK(parse_rfc3339("2027-01-01T00:00:00Z") == 1798761600);
    CHECK(parse_rfc3339("2027-01-01T05:30:00+05:30") == 1798761600);
    CHECK(parse_rfc3339("1970-01-01T00:00:00Z") == 0);
    CHECK_FALSE(parse_rfc3339("tomorrow"));
    CHECK_FALSE(parse_rfc3339("2027-01-01\nx = 1"));
    CHECK_FALSE(parse_rfc3339("12:00:00"));
    CHECK(rfc3339_utc(1798761600) == "2027-01-01T00:00:00Z");
}

TEST_CASE("a request's key is found, checked, and its credentials leave the headers") {
    const std::string secret = new_key_secret();
    ClientKey key;
    key.id = "team-a";
    key.hash = key_hash(secret);
    key.routes = {"/v1/chat/completions"};
    key.models = {"gpt-4o*"};
    std::vector<ClientKey> all{key};
    ClientKey expired = key;
    expired.id = "old";
    const std::string expired_secret = new_key_secret();
    expired.hash = key_hash(expired_secret);
    expired.expires = kNow;
    all.push_back(expired);
    ClientKey revoked = key;
    revoked.id = "gone";
    const std::string revoked_secret = new_key_secret();
    revoked.hash = key_hash(revoked_secret);
    revoked.revoked = kNow - 1;
    all.push_back(revoked);
    ClientKey later = key;
    later.id = "later";
    const std::string later_secret = new_key_secret();
    later.hash = key_hash(later_secret);
    later.revoked = kNow + 60;  // revoked from a time still to come
    later.expires = kNow + 1;
    all.push_back(later);
    const KeyStore store(all);
    const std::string chat = "/v1/chat/completions";

    HeaderList headers{{"Content-Type", "application/json"},
                       {"authorization", "bearer  " + secret},
                       {"API-Key", "something"}};
    CHECK(authenticate(store, headers, chat, kNow).id == "team-a");
    CHECK(headers == HeaderList{{"Content-Type", "application/json"}});

    headers = {{"x-api-key", secret}};
    CHECK(&authenticate(store, headers, chat, kNow) == &store.keys()[0]);
    CHECK(headers.empty());
    headers = {{"Authorization", "Bearer " + secret}, {"X-Api-Key", secret}};
    CHECK(authenticate(store, headers, chat, kNow).id == "team-a");
    CHECK(headers.empty());
    headers = {{"Authorization", "Bearer " + later_secret}};
    CHECK(authenticate(store, headers, chat, kNow).id == "later");

    auto refused = [&](HeaderList h, std::string_view route = "/v1/chat/completions") {
        return refusal([&] { authenticate(store, h, route, kNow); });
    };
    using Refusal = std::pair<int, std::string>;
    CHECK(refused({}) == Refusal{401, "missing_api_key"});
    CHECK(refused({{"Authorization", "Basic " + secret}}) == Refusal{401, "missing_api_key"});
    CHECK(refused({{"Authorization", "Bearer "}}) == Refusal{401, "missing_api_key"});
    CHECK(refused({{"Authorization", "Bearer sk-lp-nope"}}) == Refusal{401, "invalid_api_key"});
    CHECK(refused({{"Authorization", "Bearer " + secret + "x"}}) ==
          Refusal{401, "invalid_api_key"});
    CHECK(refused({{"Authorization", "Bearer " + secret}, {"x-api-key", expired_secret}}) ==
          Refusal{401, "invalid_api_key"});
    CHECK(refused({{"x-api-key", expired_secret}}) == Refusal{401, "expired_api_key"});
    // More than one credential: which counts would depend on their order.
    CHECK(refused({{"Authorization", "Bearer " + secret}, {"Authorization", "Basic x"}}) ==
          Refusal{401, "invalid_api_key"});
    CHECK(refused({{"Authorization", "Bearer " + secret}, {"authorization", "Bearer " + secret}}) ==
          Refusal{401, "invalid_api_key"});
    CHECK(refused({{"x-api-key", secret}, {"x-api-key", later_secret}}) ==
          Refusal{401, "invalid_api_key"});
    CHECK(refused({{"x-api-key", revoked_secret}}) == Refusal{401, "invalid_api_key"});
    CHECK(refused({{"x-api-key", secret}}, "/v1/embeddings") == Refusal{403, "route_not_allowed"});
    // The hash is looked up, never the text that holds it.
    CHECK(refused({{"x-api-key", key.hash}}) == Refusal{401, "invalid_api_key"});

    CHECK(refusal([&] { check_model_allowed(key, "gpt-4o-mini"); }) == Refusal{0, ""});
    CHECK(refusal([&] { check_model_allowed(key, "gpt-4"); }) == Refusal{403, "model_not_allowed"});
    ClientKey any_model = key;
    any_model.models.clear();
    CHECK(refusal([&] { check_model_allowed(any_model, "whatever"); }) == Refusal{0, ""});
}
