// `llm-proxy keys create|list|revoke` (tools/keys_command).
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "access/key_file.hpp"
#include "access/key_secret.hpp"
#include "tools/keys_command.hpp"

using namespace llmproxy;

namespace {

constexpr std::int64_t kNow = 1796126400;  // 2026-12-01T12:00:00Z

struct Run {
    int status;
    std::string out, err;
};

Run keys(std::vector<std::string> args, std::int64_t now = kNow) {
    std::ostringstream out, err;
    const int status = run_keys_command(args, out, err, now);
    return {status, out.str(), err.str()};
}

struct TempDir {
    std::filesystem::path path = std::filesystem::temp_directory_path() /
                                 ("llm-proxy-keys-cmd-" + std::to_string(::getpid()));
    TempDir() { std::filesystem::create_directories(path); }
    ~TempDir() { std::filesystem::remove_all(path); }
};

}  // namespace

TEST_CASE("keys create shows the secret once and keeps only its hash") {
    TempDir dir;
    const std::string file = (dir.path / "keys.toml").string();
    Run made = keys({"create", "team-a", "--keys-file", file, "--expires", "30d", "--route",
                     "/v1/chat/completions", "--model", "gpt-4o*", "--metadata", "team=search"});
    REQUIRE(made.status == 0);
    const std::string secret = made.out.substr(0, made.out.find('\n'));
    CHECK(made.out == secret + "\n");
    CHECK(secret.rfind("sk-lp-", 0) == 0);
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    CHECK(text.str().find(secret) == std::string::npos);
    const auto stored = load_key_file(file);
    REQUIRE(stored.size() == 1);
    CHECK(stored[0].hash == key_hash(secret));
    CHECK(stored[0].created == kNow);
    CHECK(stored[0].expires == kNow + 30 * 86400);
    CHECK(stored[0].routes == std::vector<std::string>{"/v1/chat/completions"});
    CHECK(stored[0].models == std::vector<std::string>{"gpt-4o*"});
    CHECK(stored[0].metadata_json == R"({"team":"search"})");

    Run second = keys({"create", "team-b", "--keys-file", file, "--expires", "2027-02-01"});
    REQUIRE(second.status == 0);
    CHECK(second.out != made.out);
    CHECK(load_key_file(file).size() == 2);
    CHECK(load_key_file(file)[1].expires == 1801440000);

    Run twice = keys({"create", "team-a", "--keys-file", file});
    CHECK(twice.status == 1);
    CHECK(twice.err.find("already has a key 'team-a'") != std::string::npos);
    CHECK(load_key_file(file).size() == 2);
}

TEST_CASE("keys list shows every key's state, and revoke refuses a key from now on") {
    TempDir dir;
    const std::string file = (dir.path / "keys.toml").string();
    REQUIRE(keys({"create", "a", "--keys-file", file}).status == 0);
    REQUIRE(keys({"create", "b", "--keys-file", file, "--expires", "1h"}).status == 0);
    Run listed = keys({"list", "--keys-file", file}, kNow + 7200);
    REQUIRE(listed.status == 0);
    CHECK(listed.out.find("\na\tsk-lp-") != std::string::npos);
    CHECK(listed.out.find("\tactive\t") != std::string::npos);
    CHECK(listed.out.find("\texpired\t") != std::string::npos);

    REQUIRE(keys({"revoke", "a", "--keys-file", file}).status == 0);
    CHECK(load_key_file(file)[0].revoked == kNow);
    Run json = keys({"list", "--keys-file", file, "--json"});
    CHECK(json.out.find(R"({"id":"a",)") == 1);
    CHECK(json.out.find(R"("state":"revoked")") != std::string::npos);
    CHECK(json.out.find(R"("revoked":"2026-12-01T12:00:00Z")") != std::string::npos);

    Run missing = keys({"revoke", "nobody", "--keys-file", file});
    CHECK(missing.status == 1);
    CHECK(missing.err.find("has no key 'nobody'") != std::string::npos);
}

TEST_CASE("keys finds the file through the config, and says what is wrong with the arguments") {
    TempDir dir;
    const auto config = dir.path / "config.toml";
    std::ofstream(config) << "[auth]\nkeys_file = \"secrets/keys.toml\"\n";
    std::filesystem::create_directories(dir.path / "secrets");
    REQUIRE(keys({"create", "a", "--config", config.string()}).status == 0);
    CHECK(std::filesystem::exists(dir.path / "secrets" / "keys.toml"));

    std::ofstream(dir.path / "plain.toml") << "[server]\nport = 1\n";
    Run no_auth = keys({"list", "--config", (dir.path / "plain.toml").string()});
    CHECK(no_auth.status == 1);
    CHECK(no_auth.err.find("has no [auth] keys_file") != std::string::npos);

    CHECK(keys({}).status == 2);
    CHECK(keys({"rotate", "a", "--keys-file", "k"}).status == 2);
    CHECK(keys({"create", "--keys-file", "k"}).status == 2);
    CHECK(keys({"create", "a"}).status == 2);
    CHECK(keys({"create", "a", "--keys-file", "k", "--config", "c"}).status == 2);
    Run bad_expiry =
        keys({"create", "a", "--keys-file", (dir.path / "k").string(), "--expires", "soon"});
    CHECK(bad_expiry.status == 2);
    CHECK(bad_expiry.err.find("--expires takes") != std::string::npos);
    CHECK(keys({"create", "bad id", "--keys-file", (dir.path / "k").string()}).status == 2);
    CHECK(
        keys({"create", "a", "--keys-file", (dir.path / "k").string(), "--metadata", "x"}).status ==
        2);
    CHECK_FALSE(std::filesystem::exists(dir.path / "k"));
    CHECK_FALSE(std::filesystem::exists(dir.path / "k.lock"));  // refused before any lock
}

TEST_CASE("keys commands run at once on one file take turns: no key is lost") {
    TempDir dir;
    const std::string file = (dir.path / "keys.toml").string();
    std::vector<std::thread> threads;
    std::atomic<int> made{0};
    for (int i = 0; i < 8; ++i)
        threads.emplace_back([&, i] {
            std::ostringstream out, err;
            made += run_keys_command({"create", "k" + std::to_string(i), "--keys-file", file}, out,
                                     err, kNow) == 0;
        });
    for (auto& thread : threads)
        thread.join();
    CHECK(made == 8);
    CHECK(load_key_file(file).size() == 8);
}

TEST_CASE("a keys file reached through a symbolic link is changed where it lives") {
    TempDir dir;
    const auto real = dir.path / "real.toml";
    const auto link = dir.path / "keys.toml";
    REQUIRE(keys({"create", "a", "--keys-file", real.string()}).status == 0);
    std::filesystem::create_symlink(real, link);
    REQUIRE(keys({"create", "b", "--keys-file", link.string()}).status == 0);
    CHECK(std::filesystem::is_symlink(link));
    CHECK(load_key_file(real.string()).size() == 2);
}
