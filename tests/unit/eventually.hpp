// Waiting in a test for something another thread makes true: polls pred every 5 ms for up to
// 60 s. Returns pred's last answer, so a test fails on a condition that never comes instead of
// hanging. The limit is only a guard, generous for the ThreadSanitizer build on a busy machine.
#pragma once

#include <chrono>
#include <thread>

template <typename Pred>
bool eventually(Pred pred) {
    for (int i = 0; i < 12000 && !pred(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return pred();
}
