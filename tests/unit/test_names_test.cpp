// ctest splits a discovered test's name at ';' (a CMake list separator), so a test case named
// with one runs as pieces that match nothing and fail. This keeps every name whole.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

TEST_CASE("no unit test case has a semicolon in its name") {
    const std::filesystem::path dir = std::filesystem::path(SOURCE_DIR) / "tests" / "unit";
    int files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() != ".cpp")
            continue;
        ++files;
        std::ifstream in(entry.path());
        std::string line;
        int number = 0;
        while (std::getline(in, line)) {
            ++number;
            const auto start = line.find("TEST_CASE(\"");
            if (start == std::string::npos)
                continue;
            const auto name_start = start + 11;
            const auto end = line.find('"', name_start);
            const std::string name = line.substr(name_start, end - name_start);
            INFO(entry.path().filename().string() << ":" << number << ": " << name);
            CHECK(name.find(';') == std::string::npos);
        }
    }
    CHECK(files > 10);
}
