// Every include in host/ points down (STYLE.md, "The house we want"): a folder may include its own
// files and those of folders below it, never one above or beside it. A new folder must be given
// its place here, or this test fails.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>

namespace {

// Higher includes lower. Folders of one height are independent of each other.
const std::map<std::string, int> kHeight = {
    {"tools", 8},   {"server", 8},  {"pipeline", 7}, {"runtime", 6}, {"balance", 5},
    {"tracing", 5}, {"plugins", 5}, {"upstream", 5}, {"access", 5},  {"limits", 5},
    {"http", 4},    {"loop", 3},    {"config", 1},   {"json", 1},    {"streaming", 1},
    {"routing", 1}, {"logging", 1}, {"metrics", 1},
};

}  // namespace

TEST_CASE("every include in host points down a layer") {
    const std::filesystem::path host = std::filesystem::path(SOURCE_DIR) / "host";
    const std::regex include(R"re(#include\s+"([a-z_]+)/)re");
    int checked = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(host)) {
        const auto ext = entry.path().extension();
        if (ext != ".cpp" && ext != ".hpp")
            continue;
        const auto relative = std::filesystem::relative(entry.path(), host);
        if (relative.begin()->string() == relative.string())
            continue;  // main.cpp, at the top, includes anything
        const std::string folder = relative.begin()->string();
        INFO(relative.string());
        REQUIRE(kHeight.contains(folder));
        std::ifstream in(entry.path());
        std::string line;
        while (std::getline(in, line)) {
            std::smatch match;
            if (!std::regex_search(line, match, include))
                continue;
            const std::string target = match[1];
            INFO(line);
            REQUIRE(kHeight.contains(target));
            if (target != folder)
                CHECK(kHeight.at(target) < kHeight.at(folder));
            ++checked;
        }
    }
    CHECK(checked > 100);
}
