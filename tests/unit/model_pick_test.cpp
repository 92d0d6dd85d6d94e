// Drawing a public model's deployment (issue 12): by weight, leaving out those that failed the
// request while others remain, whatever else the request's list of failed deployments holds.
#include <doctest/doctest.h>

#include <map>
#include <vector>

#include "balance/attempt_record.hpp"
#include "pipeline/attempt_plan.hpp"
#include "runtime/runtime.hpp"

using namespace llmproxy;

namespace {

// A model whose deployments have these weights (their llms do not matter here).
struct TestModel {
    std::vector<ModelConfig::Deployment> configs;
    ModelRuntime model;

    explicit TestModel(std::vector<int> weights) {
        for (int w : weights)
            configs.push_back({"llm", "m", w, 0});
        for (const auto& c : configs)
            model.deployments.push_back({&c, nullptr, model.deployments.size()});
        if (weights.size() > 1)  // as the runtime builds it
            model.health = std::make_unique<ModelHealth>(Balance::weighted, EjectionPolicy{},
                                                         std::move(weights));
    }
};

}  // namespace

TEST_CASE("a draw leaves out the failed deployments while others remain, then draws from all") {
    TestModel two({1, 1});
    const DeploymentRuntime* first = &two.model.deployments[0];
    const std::vector<const DeploymentRuntime*> failed{first};
    for (int i = 0; i < 50; ++i)
        CHECK(&two.model.pick(failed) == &two.model.deployments[1]);
    const std::vector<const DeploymentRuntime*> both{first, &two.model.deployments[1]};
    std::map<const DeploymentRuntime*, int> drawn;
    for (int i = 0; i < 200; ++i)
        ++drawn[&two.model.pick(both)];
    CHECK(drawn.size() == 2);
}

TEST_CASE("another model's failed deployments do not change this model's draw") {
    // A fallback's draw sees the deployments the earlier models failed on: a heavy one of another
    // model must not take weight from this one's (once it made the total negative).
    TestModel heavy({5});
    TestModel pair({1, 1});
    const std::vector<const DeploymentRuntime*> failed{&heavy.model.deployments[0]};
    std::map<const DeploymentRuntime*, int> drawn;
    for (int i = 0; i < 200; ++i)
        ++drawn[&pair.model.pick(failed)];
    CHECK(drawn.size() == 2);
    CHECK(drawn[&pair.model.deployments[0]] > 40);
    CHECK(drawn[&pair.model.deployments[1]] > 40);
}

TEST_CASE("a failed deployment of this model stays out beside another model's failed ones") {
    TestModel light({1});
    TestModel pair({1, 1});
    const std::vector<const DeploymentRuntime*> failed{&light.model.deployments[0],
                                                       &pair.model.deployments[0]};
    for (int i = 0; i < 50; ++i)
        CHECK(&pair.model.pick(failed) == &pair.model.deployments[1]);
}

namespace {

int in_flight(const ModelRuntime& model) {
    int sum = 0;
    for (std::size_t i = 0; i < model.deployments.size(); ++i)
        sum += model.health->state(i, ModelHealth::Clock::now()).in_flight;
    return sum;
}

}  // namespace

TEST_CASE(
    "a drawn deployment is in flight from its draw until a record takes it or it is released") {
    TestModel pair({1, 1});
    const auto now = AttemptPlan::Clock::now();
    {
        AttemptPlan plan(nullptr, nullptr, &pair.model, now);
        CHECK(in_flight(pair.model) == 1);  // requests drawing meanwhile see it
        plan.redraw();                      // drawn again after a wait: still one
        CHECK(in_flight(pair.model) == 1);
    }
    CHECK(in_flight(pair.model) == 0);  // no attempt was made: released with the plan
    {
        AttemptPlan plan(nullptr, nullptr, &pair.model, now);
        REQUIRE(plan.take_reservation());
        CHECK_FALSE(plan.take_reservation());  // once per draw
        AttemptRecord record(pair.model.health.get(), plan.deployment()->index, now, true);
        CHECK(in_flight(pair.model) == 1);  // the record took it over: counted once
    }
    CHECK(in_flight(pair.model) == 0);  // the record ended it
}
