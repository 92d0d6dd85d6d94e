// Follows a JSON text that arrives in pieces (a tool call's arguments, as an upstream streams
// them) far enough to tell when it holds one whole object. It follows strings, escapes and
// brackets; it does not check every token ({"a":tru} counts as whole).
#pragma once

#include <cstdint>
#include <string_view>

namespace anthropic {

class JsonObjectProgress {
  public:
    void feed(std::string_view piece);

    // One object has closed, with nothing but whitespace around it so far.
    bool complete() const { return state_ == State::complete; }

  private:
    enum class State { before, inside, complete, broken };
    State state_ = State::before;
    std::int64_t depth_ = 0;
    bool in_string_ = false;
    bool escaped_ = false;
};

}  // namespace anthropic
