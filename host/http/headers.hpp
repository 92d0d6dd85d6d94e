// HTTP header lists as llm-proxy keeps them: names as sent, in order, compared without case.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace llmproxy {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// ASCII case-insensitive equality, as header names and tokens compare.
bool equals_ignoring_case(std::string_view a, std::string_view b);

// The value of the first header called name, or nullptr.
const std::string* find_header(const HeaderList& headers, std::string_view name);

// Replaces the value of every header called name with one header (appended when none was there).
void set_header(HeaderList& headers, std::string_view name, std::string_view value);

}  // namespace llmproxy
