#include "anthropic/message_id.hpp"

#include <random>

namespace anthropic {

std::string new_message_id() {
    static constexpr char kAlphabet[] =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    // One generator per thread: ids need to be unique, not secret.
    thread_local std::mt19937_64 generator = [] {
        std::random_device device;
        std::seed_seq seed{device(), device(), device(), device()};
        return std::mt19937_64(seed);
    }();
    std::uniform_int_distribution<std::size_t> pick(0, sizeof kAlphabet - 2);
    std::string id = "msg_";
    for (int i = 0; i < 24; ++i)
        id.push_back(kAlphabet[pick(generator)]);
    return id;
}

}  // namespace anthropic
