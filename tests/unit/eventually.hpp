// Waiting in a test for something another thread makes true: polls pred every 5 ms for up to
// 10 s. Returns pred's last answer, so a test fails on a condition that never comes instead of
// hanging.
#pragma once

#include <chrono>
#include <thread>

template <typename Pred>
bool eventually(Pred pred) {
    for (int i = 0; i < 2000 && !pred(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return pred();
}
