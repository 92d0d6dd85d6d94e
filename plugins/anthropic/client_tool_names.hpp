// Tool names between an Anthropic client and a canonical upstream. Anthropic allows names of up to
// 128 characters, OpenAI up to 64: a longer name goes upstream shortened, and the answer and the
// stream give the client its own name back.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace anthropic {

inline constexpr std::size_t kMaxUpstreamToolName = 64;

class ToolNames {
  public:
    // The name to send upstream for the client's `name`: itself when it has at most 64 bytes,
    // else its first 55 bytes (fewer, to end on a whole UTF-8 character), '_' and the first 8 hex
    // digits of its SHA-256, so that the same name always shortens the same way. Throws
    // llm_proxy::Error (400) when two of the client's names would reach the upstream as one.
    std::string upstream_name(std::string_view name);

    // The client's name for a name the upstream used: the name it was shortened from, else the
    // name itself.
    std::string_view client_name(std::string_view upstream) const;

  private:
    std::vector<std::pair<std::string, std::string>> names_;  // (upstream, client), each once
};

}  // namespace anthropic
