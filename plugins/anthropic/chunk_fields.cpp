#include "anthropic/chunk_fields.hpp"

#include <array>

#include "anthropic/answer_mapping.hpp"

namespace anthropic {

namespace {

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

class Collector : public JsonTokens {
  public:
    explicit Collector(ChunkFields& fields) : fields_(fields) {}

    // Whether the text's root was an object.
    bool root_is_object() const { return root_is_object_; }

    void object_start() override {
        if (depth_ == 0)
            root_is_object_ = true;
        open(depth_ == 0 ? Context::root : object_context());
    }
    void array_start() override { open(depth_ == 0 ? Context::other : array_context()); }
    void object_end() override { close(); }
    void array_end() override { close(); }

    void key(std::string_view key) override { slot_ = slot_for(context(), key); }

    bool reads_string() override {
        return depth_ > 0 && (string_slot() || slot_ == Slot::finish_reason ||
                              slot_ == Slot::error || slot_ == Slot::error_message);
    }

    void string(std::string_view value) override {
        if (std::string* target = string_slot())
            target->assign(value);
        else if (slot_ == Slot::finish_reason)
            fields_.finish_reason.emplace(value);
        else
            fields_.error_message.emplace(value);
    }

    void integer(std::int64_t value) override {
        if (depth_ == 0)
            return;
        if (slot_ == Slot::tool_index && tool_)
            tool_->index = value;
        else
            count(token_count(value));
    }
    void other_value(std::string_view) override {}

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

    // The context of an array opening here.
    Context array_context() const {
        return slot_ == Slot::choices      ? Context::choices
               : slot_ == Slot::tool_calls ? Context::tool_calls
                                           : Context::other;
    }

    void open(Context context) {
        ++depth_;
        if (depth_ <= kTrackedDepth)
            contexts_[depth_ - 1] = context;
        slot_ = Slot::none;
    }
    void close() {
        if (context() == Context::tool_call)
            tool_ = nullptr;
        --depth_;
        slot_ = Slot::none;
    }

    // The string a string value goes to; null for the optional ones (finish_reason, error
    // messages) and for values nobody reads.
    std::string* string_slot() {
        switch (slot_) {
            case Slot::content:
                return &fields_.content;
            case Slot::reasoning_content:
                return &fields_.reasoning_content;
            case Slot::refusal:
                return &fields_.refusal;
            case Slot::tool_id:
                return tool_ ? &tool_->id : nullptr;
            case Slot::tool_name:
                return tool_ ? &tool_->name : nullptr;
            case Slot::tool_arguments:
                return tool_ ? &tool_->arguments : nullptr;
            default:
                return nullptr;
        }
    }

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
    bool root_is_object_ = false;
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
    return scanner_.scan(data, collector) && collector.root_is_object();
}

}  // namespace anthropic
