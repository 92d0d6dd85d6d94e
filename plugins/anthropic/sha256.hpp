// SHA-256 (FIPS 180-4), for names that must be shortened the same way every time.
#pragma once

#include <string>
#include <string_view>

namespace anthropic {

// The SHA-256 digest of `data`, as 64 lower-case hex digits.
std::string sha256_hex(std::string_view data);

}  // namespace anthropic
