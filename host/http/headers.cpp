#include "http/headers.hpp"

#include <strings.h>

#include <algorithm>

namespace llmproxy {

bool equals_ignoring_case(std::string_view a, std::string_view b) {
    return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

const std::string* find_header(const HeaderList& headers, std::string_view name) {
    for (const auto& [n, v] : headers)
        if (equals_ignoring_case(n, name))
            return &v;
    return nullptr;
}

void set_header(HeaderList& headers, std::string_view name, std::string_view value) {
    auto same = [&](const auto& header) { return equals_ignoring_case(header.first, name); };
    auto first = std::find_if(headers.begin(), headers.end(), same);
    if (first == headers.end()) {
        headers.emplace_back(name, value);
        return;
    }
    first->second.assign(value);
    headers.erase(std::remove_if(first + 1, headers.end(), same), headers.end());
}

}  // namespace llmproxy
