#include "http/request_facts.hpp"

#include <nlohmann/json.hpp>

namespace llmproxy {

namespace {

using json = nlohmann::json;

// SAX handler that records the top-level members it cares about and skips everything else.
class TopLevelScanner : public json::json_sax_t {
  public:
    bool null() override { return value(Kind::null); }
    bool boolean(bool v) override {
        if (depth_ == 1 && key_ == "stream")
            stream_value_ = v;
        return value(Kind::boolean);
    }
    bool number_integer(number_integer_t) override { return value(Kind::other); }
    bool number_unsigned(number_unsigned_t) override { return value(Kind::other); }
    bool number_float(number_float_t, const string_t&) override { return value(Kind::other); }
    bool binary(binary_t&) override { return value(Kind::other); }
    bool string(string_t& v) override {
        if (depth_ == 1 && key_ == "model")
            model_ = v;
        return value(Kind::string);
    }
    bool start_object(std::size_t) override {
        if (depth_ == 0)
            root_is_object_ = true;
        value(Kind::other);
        ++depth_;
        return true;
    }
    bool end_object() override {
        --depth_;
        return true;
    }
    bool start_array(std::size_t) override {
        value(Kind::array);
        ++depth_;
        return true;
    }
    bool end_array() override {
        --depth_;
        return true;
    }
    bool key(string_t& k) override {
        if (depth_ == 1)
            key_ = k;
        return true;
    }
    bool parse_error(std::size_t position, const std::string&,
                     const nlohmann::detail::exception& e) override {
        error_ = "the body is not valid JSON (at byte " + std::to_string(position) +
                 "): " + std::string(e.what()).substr(std::string(e.what()).find(']') + 2);
        return false;
    }

    enum class Kind { other, null, string, boolean, array };

    bool root_is_object_ = false;
    std::string model_;
    bool stream_value_ = false;
    Kind model_kind_ = Kind::other, stream_kind_ = Kind::other, messages_kind_ = Kind::other,
         input_kind_ = Kind::other;
    bool has_model_ = false, has_stream_ = false, has_messages_ = false, has_input_ = false;
    std::string error_;

  private:
    bool value(Kind kind) {
        if (depth_ != 1)
            return true;
        if (key_ == "model") {
            has_model_ = true;
            model_kind_ = kind;
        } else if (key_ == "stream") {
            has_stream_ = true;
            stream_kind_ = kind;
        } else if (key_ == "messages") {
            has_messages_ = true;
            messages_kind_ = kind;
        } else if (key_ == "input") {
            has_input_ = true;
            input_kind_ = kind;
        }
        return true;
    }

    int depth_ = 0;
    std::string key_;
};

}  // namespace

RequestFacts scan_request(std::string_view body, Endpoint endpoint) {
    TopLevelScanner scanner;
    bool ok = json::sax_parse(body.begin(), body.end(), &scanner);
    if (!ok)
        throw ApiException(ApiError::bad_request("invalid_json", scanner.error_));
    if (!scanner.root_is_object_)
        throw ApiException(ApiError::bad_request("invalid_json", "the body must be a JSON object"));
    using Kind = TopLevelScanner::Kind;
    if (!scanner.has_model_ || scanner.model_kind_ != Kind::string || scanner.model_.empty())
        throw ApiException(ApiError::bad_request(
            "missing_model", "the body needs \"model\": a non-empty string naming the model"));
    if (endpoint == Endpoint::chat &&
        (!scanner.has_messages_ || scanner.messages_kind_ != Kind::array))
        throw ApiException(ApiError::bad_request(
            "missing_messages", "the body needs \"messages\": an array of chat messages"));
    if (endpoint == Endpoint::embedding && !scanner.has_input_)
        throw ApiException(ApiError::bad_request(
            "missing_input", "the body needs \"input\": the text or tokens to embed"));
    if (scanner.has_stream_ && scanner.stream_kind_ != Kind::boolean &&
        scanner.stream_kind_ != Kind::null)
        throw ApiException(
            ApiError::bad_request("invalid_stream", "\"stream\" must be true or false"));
    return {scanner.model_, scanner.has_stream_ && scanner.stream_value_};
}

}  // namespace llmproxy
