// Charging a LimitStore in one window, as the tests of both stores do.
#pragma once

#include <vector>

#include "limits/limit_store.hpp"

// Charges every charge in window.
inline llmproxy::LimitVerdict charge_in(llmproxy::LimitStore& store,
                                        std::vector<llmproxy::LimitCharge> charges,
                                        std::int64_t window) {
    for (auto& charge : charges)
        charge.window = window;
    return store.charge(charges);
}

// Corrects a charge taken in window by delta, now being in now_window.
inline void correct_in(llmproxy::LimitStore& store, llmproxy::LimitCharge charge,
                       std::int64_t window, std::int64_t delta, std::int64_t now_window) {
    charge.window = window;
    store.correct(charge, delta, now_window);
}

// Request number `number`'s place under key a's limit of two concurrent requests.
inline llmproxy::LimitCharge key_a_place(std::uint64_t number) {
    llmproxy::LimitCharge charge{"key:a", llmproxy::LimitKind::concurrent, 2, 1};
    charge.place = number;
    return charge;
}
