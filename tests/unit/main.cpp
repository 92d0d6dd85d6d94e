#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <spdlog/spdlog.h>

#include <iostream>
#include <optional>

namespace {

// How many test cases the run's filters selected; unset when no run happened (a query such as
// --list-test-cases, which ctest's discovery uses).
std::optional<unsigned> g_selected;

// A listener, not a reporter: the console output stays doctest's own.
struct SelectedCount : doctest::IReporter {
    explicit SelectedCount(const doctest::ContextOptions&) {}
    void report_query(const doctest::QueryData&) override {}
    void test_run_start() override {}
    void test_run_end(const doctest::TestRunStats& stats) override {
        g_selected = stats.numTestCasesPassingFilters;
    }
    void test_case_start(const doctest::TestCaseData&) override {}
    void test_case_reenter(const doctest::TestCaseData&) override {}
    void test_case_end(const doctest::CurrentTestCaseStats&) override {}
    void test_case_exception(const doctest::TestCaseException&) override {}
    void subcase_start(const doctest::SubcaseSignature&) override {}
    void subcase_end() override {}
    void log_assert(const doctest::AssertData&) override {}
    void log_message(const doctest::MessageData&) override {}
    void test_case_skipped(const doctest::TestCaseData&) override {}
};

REGISTER_LISTENER("selected_count", 1, SelectedCount);

}  // namespace

int main(int argc, char** argv) {
    // Refusals are asserted through their messages; the log lines would only repeat them.
    spdlog::set_level(spdlog::level::off);
    doctest::Context context(argc, argv);
    int result = context.run();
    // A filter that selects nothing passes vacuously in doctest. A ctest entry whose name does
    // not select its test case (a name with ';' is split in two by CMake) would then pass
    // while testing nothing: make that a failure.
    if (result == 0 && !context.shouldExit() && g_selected == 0u) {
        std::cerr << "no test case matches the filters: nothing was tested\n";
        return 1;
    }
    return result;
}
