// The input of a target that feeds bytes in pieces: the bytes, then (taken from the end by
// FuzzedDataProvider, so that plain text is a meaningful input) up to 16 piece lengths of at most
// 64 bytes and their count. The pieces cover the bytes in order; the last holds what the lengths
// leave; any may be empty.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace fuzz {

class CutInput {
  public:
    explicit CutInput(FuzzedDataProvider& input) {
        std::vector<std::size_t> lengths(input.ConsumeIntegralInRange<std::size_t>(0, 16));
        for (std::size_t& length : lengths)
            length = input.ConsumeIntegralInRange<std::size_t>(0, 64);
        whole_ = input.ConsumeRemainingBytesAsString();
        std::string_view rest = whole_;
        for (std::size_t length : lengths) {
            pieces_.push_back(rest.substr(0, length));
            rest.remove_prefix(pieces_.back().size());
        }
        pieces_.push_back(rest);
    }
    CutInput(const CutInput&) = delete;  // the pieces point into whole_
    CutInput& operator=(const CutInput&) = delete;

    const std::string& whole() const { return whole_; }
    const std::vector<std::string_view>& pieces() const { return pieces_; }

  private:
    std::string whole_;
    std::vector<std::string_view> pieces_;
};

}  // namespace fuzz
