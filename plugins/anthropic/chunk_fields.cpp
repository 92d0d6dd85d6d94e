#include "anthropic/chunk_fields.hpp"

#include <array>
#include <nlohmann/json.hpp>

#include "anthropic/answer_mapping.hpp"

namespace anthropic {

namespace {

using Json = nlohmann::json;

// The objects and arrays whose members are read.
enum class Context {
    other,
    root,
    choices,
    choice,
    delta,
    tool_calls,
    tool_call,
    function,
    usage,
    details,
    error
};

// Where a value goes; none for members nobody reads.
enum class Slot {
    none,
    choices,
    usage,
    error,
    delta,
    finish_reason,
    content,
    reasoning_content,
    refusal,
    tool_calls,
    tool_index,
    tool_id,
    function,
    tool_name,
    tool_arguments,
    prompt_tokens,
    completion_tokens,
    cache_creation,
    details,
    cache_read,
    error_message,
};

Slot slot_for(Context context, std::string_view key) {
    switch (context) {
        case Context::root:
            return key == "choices" ? Slot::choices
                   : key == "usage" ? Slot::usage
                   : key == "error" ? Slot::error
                                    : Slot::none;
        case Context::choice:
            return key == "delta"           ? Slot::delta
                   : key == "finish_reason" ? Slot::finish_reason
                                            : Slot::none;
        case Context::delta:
            return key == "content"             ? Slot::content
                   : key == "reasoning_content" ? Slot::reasoning_content
                   : key == "refusal"           ? Slot::refusal
                   : key == "tool_calls"        ? Slot::tool_calls
                                                : Slot::none;
        case Context::tool_call:
            return key == "index"      ? Slot::tool_index
                   : key == "id"       ? Slot::tool_id
                   : key == "function" ? Slot::function
                                       : Slot::none;
        case Context::function:
            return key == "name"        ? Slot::tool_name
                   : key == "arguments" ? Slot::tool_arguments
                                        : Slot::none;
        case Context::usage:
            return key == "prompt_tokens"                 ? Slot::prompt_tokens
                   : key == "completion_tokens"           ? Slot::completion_tokens
                   : key == "cache_creation_input_tokens" ? Slot::cache_creation
                   : key == "prompt_tokens_details"       ? Slot::details
                                                          : Slot::none;
        case Context::details:
            return key == "cached_tokens"           ? Slot::cache_read
                   : key == "cache_write_tokens"    ? Slot::cache_creation
                   : key == "cache_creation_tokens" ? Slot::cache_creation
                                                    : Slot::none;
        case Context::error:
            return key == "message" ? Slot::error_message : Slot::none;
        default:
            return Slot::none;
    }
}

class Collector : public nlohmann::json_sax<Json> {
  public:
    explicit Collector(ChunkFields& fields) : fields_(fields) {}

    bool null() override { return scalar(); }
    bool boolean(bool) override { return scalar(); }
    bool number_integer(std::int64_t value) override {
        if (depth_ == 0)
            return false;
        if (slot_ == Slot::tool_index && tool_)
            tool_->index = value;
        else
            count(token_count(value));
        return true;
    }
    bool number_unsigned(std::uint64_t value) override {
        if (depth_ == 0)
            return false;
        if (slot_ == Slot::tool_index && tool_)
            tool_->index = static_cast<std::int64_t>(token_count(value));
        else
            count(token_count(value));
        return true;
    }
    bool number_float(double, const std::string&) override { return scalar(); }
    bool binary(Json::binary_t&) override { return scalar(); }

    bool string(std::string& value) override {
        if (depth_ == 0)
            return false;
        switch (slot_) {
            case Slot::content:
                fields_.content.assign(value);
                break;
            case Slot::reasoning_content:
                fields_.reasoning_content.assign(value);
                break;
            case Slot::refusal:
                fields_.refusal.assign(value);
                break;
            case Slot::finish_reason:
                fields_.finish_reason = value;
                break;
            case Slot::tool_id:
                if (tool_)
                    tool_->id.assign(value);
                break;
            case Slot::tool_name:
                if (tool_)
                    tool_->name.assign(value);
                break;
            case Slot::tool_arguments:
                if (tool_)
                    tool_->arguments.assign(value);
                break;
            case Slot::error:
            case Slot::error_message:
                fields_.error_message = value;
                break;
            default:
                break;
        }
        return true;
    }

    bool start_object(std::size_t) override {
        open(depth_ == 0 ? Context::root : object_context());
        return true;
    }
    bool start_array(std::size_t) override {
        if (depth_ == 0)
            return false;
        open(slot_ == Slot::choices      ? Context::choices
             : slot_ == Slot::tool_calls ? Context::tool_calls
                                         : Context::other);
        return true;
    }
    bool end_object() override { return close(); }
    bool end_array() override { return close(); }

    bool key(std::string& key) override {
        slot_ = slot_for(context(), key);
        return true;
    }

    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
        return false;
    }

  private:
    // Deep enough for /choices/0/delta/tool_calls/N/function/arguments.
    static constexpr std::size_t kTrackedDepth = 8;

    Context context() const {
        return depth_ <= kTrackedDepth ? contexts_[depth_ - 1] : Context::other;
    }

    // The context of an object opening here.
    Context object_context() {
        const Context outer = context();
        if (outer == Context::choices) {
            if (seen_choice_)
                return Context::other;
            seen_choice_ = true;
            return Context::choice;
        }
        if (outer == Context::tool_calls) {
            if (fields_.tool_call_count == fields_.tool_calls.size())
                fields_.tool_calls.emplace_back();
            tool_ = &fields_.tool_calls[fields_.tool_call_count++];
            tool_->index.reset();
            tool_->id.clear();
            tool_->name.clear();
            tool_->arguments.clear();
            return Context::tool_call;
        }
        switch (slot_) {
            case Slot::delta:
                return Context::delta;
            case Slot::function:
                return Context::function;
            case Slot::usage:
                fields_.usage.emplace();
                return Context::usage;
            case Slot::details:
                return Context::details;
            case Slot::error:
                fields_.error_message.emplace();
                return Context::error;
            default:
                return Context::other;
        }
    }

    void open(Context context) {
        ++depth_;
        if (depth_ <= kTrackedDepth)
            contexts_[depth_ - 1] = context;
        slot_ = Slot::none;
    }
    bool close() {
        if (context() == Context::tool_call)
            tool_ = nullptr;
        --depth_;
        slot_ = Slot::none;
        return true;
    }
    // A scalar: the root must be an object.
    bool scalar() const { return depth_ > 0; }

    void count(std::int64_t value) {
        if (!fields_.usage)
            return;
        CanonicalUsage& usage = *fields_.usage;
        switch (slot_) {
            case Slot::prompt_tokens:
                usage.prompt = value;
                break;
            case Slot::completion_tokens:
                usage.completion = value;
                break;
            case Slot::cache_read:
                usage.cache_read = value;
                break;
            case Slot::cache_creation:
                // Upstreams name cache writes differently; a 0 under one name does not hide
                // the count under another.
                if (value > 0)
                    usage.cache_creation = value;
                break;
            default:
                break;
        }
    }

    ChunkFields& fields_;
    std::array<Context, kTrackedDepth> contexts_{};
    std::size_t depth_ = 0;
    Slot slot_ = Slot::none;
    bool seen_choice_ = false;
    ToolCallDelta* tool_ = nullptr;
};

}  // namespace

bool ChunkFields::read(std::string_view data) {
    content.clear();
    reasoning_content.clear();
    refusal.clear();
    finish_reason.reset();
    tool_call_count = 0;
    usage.reset();
    error_message.reset();
    Collector collector(*this);
    return Json::sax_parse(data.begin(), data.end(), &collector);
}

}  // namespace anthropic
