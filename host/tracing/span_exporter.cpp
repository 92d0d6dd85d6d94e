#include "tracing/span_exporter.hpp"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/URI.h>
#include <spdlog/spdlog.h>

namespace llmproxy {

SpanExporter::SpanExporter(Settings settings)
    : settings_(std::move(settings)), thread_([this] { run(); }) {}

SpanExporter::~SpanExporter() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
}

void SpanExporter::submit(Span span) {
    bool full_batch = false;
    {
        std::lock_guard lock(mutex_);
        if (queue_.size() >= settings_.max_queued) {
            ++dropped_;
            return;
        }
        queue_.push_back(std::move(span));
        full_batch = queue_.size() == settings_.batch_size;
    }
    if (full_batch)
        wake_.notify_one();
}

void SpanExporter::run() {
    bool warned = false;  // once per outage, not once per batch
    for (;;) {
        std::vector<Span> batch;
        bool last = false;
        {
            std::unique_lock lock(mutex_);
            wake_.wait_for(lock, std::chrono::milliseconds(settings_.interval_ms),
                           [&] { return stopping_ || queue_.size() >= settings_.batch_size; });
            last = stopping_;
            const std::size_t n = std::min(queue_.size(), settings_.batch_size);
            batch.assign(std::make_move_iterator(queue_.begin()),
                         std::make_move_iterator(queue_.begin() + static_cast<long>(n)));
            queue_.erase(queue_.begin(), queue_.begin() + static_cast<long>(n));
        }
        if (!batch.empty()) {
            if (post(batch)) {
                exported_ += batch.size();
                if (warned)
                    spdlog::info("tracing: the collector at {} takes spans again",
                                 settings_.endpoint);
                warned = false;
            } else {
                dropped_ += batch.size();
                if (last) {  // shutting down: no waiting on a collector that does not answer
                    std::lock_guard lock(mutex_);
                    dropped_ += queue_.size();
                    queue_.clear();
                }
                if (!warned)
                    spdlog::warn(
                        "tracing: the collector at {} did not take {} spans; they are "
                        "dropped (llm_proxy_spans_dropped_total counts them)",
                        settings_.endpoint, batch.size());
                warned = true;
            }
        }
        if (last) {
            std::lock_guard lock(mutex_);
            if (queue_.empty())
                return;
        }
    }
}

bool SpanExporter::post(const std::vector<Span>& batch) {
    try {
        const Poco::URI uri(settings_.endpoint);
        Poco::Net::HTTPClientSession session(uri.getHost(), uri.getPort());
        session.setTimeout(Poco::Timespan(std::int64_t{settings_.timeout_ms} * 1000));
        const std::string body = otlp_json(batch, settings_.service_name);
        Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST, uri.getPathEtc(),
                                       Poco::Net::HTTPMessage::HTTP_1_1);
        request.setContentType("application/json");
        request.setContentLength(static_cast<std::streamsize>(body.size()));
        session.sendRequest(request) << body;
        Poco::Net::HTTPResponse response;
        std::istream& answer = session.receiveResponse(response);
        // The answer says nothing llm-proxy needs; a little of it is read, never all of it.
        char ignored[4096];
        answer.read(ignored, sizeof ignored);
        const int status = static_cast<int>(response.getStatus());
        if (status >= 200 && status < 300)
            return true;
        spdlog::debug("tracing: the collector answered {}", status);
    } catch (const std::exception& e) {
        spdlog::debug("tracing: posting spans failed: {}", e.what());
    }
    return false;
}

}  // namespace llmproxy
