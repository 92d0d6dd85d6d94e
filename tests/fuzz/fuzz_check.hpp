// How a fuzz target reports a broken rule: the rule on stderr, then abort(), which libFuzzer
// counts as a crash and saves the input of (crash-<sha1> in the working directory).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace fuzz {

inline void require(bool holds, std::string_view rule) {
    if (holds)
        return;
    std::fprintf(stderr, "\nMISMATCH: %.*s\n", static_cast<int>(rule.size()), rule.data());
    std::abort();
}

}  // namespace fuzz
