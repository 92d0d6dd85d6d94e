// Sends finished spans to an OpenTelemetry collector over OTLP/HTTP (JSON), in batches, from a
// thread of its own: submitting a span never waits on the network. The queue is bounded; a span
// that finds it full is dropped and counted, and so is every span of a batch the collector did not
// take (unreachable, too slow, an error status). Nothing is retried: a collector that is down
// costs spans, never requests.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tracing/span.hpp"

namespace llmproxy {

class SpanExporter {
  public:
    struct Settings {
        std::string endpoint;  // http://host:port/path (OTLP/HTTP's traces URL)
        std::string service_name = "llm-proxy";
        std::size_t max_queued = 4096;
        std::size_t batch_size = 512;
        int interval_ms = 1000;  // a batch goes when full, or after this
        int timeout_ms = 5000;   // connecting and each read or write
    };

    explicit SpanExporter(Settings settings);
    // Sends what is queued (one try; after a batch fails, the rest is dropped), then stops.
    ~SpanExporter();
    SpanExporter(const SpanExporter&) = delete;
    SpanExporter& operator=(const SpanExporter&) = delete;

    // [thread-safe] Queues span for the next batch; drops it (counted) when the queue is full.
    void submit(Span span);

    // [thread-safe] Spans the collector took, and spans dropped, since start.
    std::uint64_t exported() const { return exported_; }
    std::uint64_t dropped() const { return dropped_; }

  private:
    void run();
    // Posts one batch; true when the collector answered 2xx.
    bool post(const std::vector<Span>& batch);

    const Settings settings_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Span> queue_;
    bool stopping_ = false;
    std::atomic<std::uint64_t> exported_{0};
    std::atomic<std::uint64_t> dropped_{0};
    std::thread thread_;
};

}  // namespace llmproxy
