// ctest splits a discovered test's name at ';' (a CMake list separator), so a test case named
// with one runs as pieces that match nothing and fail. This keeps every name whole.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

TEST_CASE("no unit test case has a semicolon in its name") {
    const std::filesystem::path dir = std::filesystem::path(SOURCE_DIR) / "tests" / "unit";
    // A name may follow on the next line, where clang-format puts a long one.
    const std::regex test_case(R"re(TEST_CASE\(\s*"((?:[^"\\]|\\.)*)")re");
    int names = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() != ".cpp")
            continue;
        std::ifstream in(entry.path());
        std::stringstream text;
        text << in.rdbuf();
        const std::string source = text.str();
        for (std::sregex_iterator it(source.begin(), source.end(), test_case), end; it != end;
             ++it) {
            const std::string name = (*it)[1];
            ++names;
            INFO(entry.path().filename().string() << ": " << name);
            CHECK(name.find(';') == std::string::npos);
        }
    }
    CHECK(names > 100);
}
