#include "anthropic/event_fields.hpp"

#include <array>

#include "anthropic/answer_mapping.hpp"

namespace anthropic {

namespace {

// The objects whose members are read.
enum class Context { other, root, message, block, delta, usage, error };

// Where a value is stored; none for members nobody reads.
enum class Slot {
    none,
    type,
    index,
    message,
    content_block,
    delta,
    usage,
    error,
    message_id,
    message_model,
    block_type,
    block_id,
    block_name,
    block_text,
    block_thinking,
    delta_type,
    delta_text,
    delta_partial_json,
    delta_thinking,
    stop_reason,
    input_tokens,
    cache_creation_input_tokens,
    cache_read_input_tokens,
    output_tokens,
    error_type,
    error_message,
};

Slot slot_for(Context context, std::string_view key) {
    switch (context) {
        case Context::root:
            return key == "type"            ? Slot::type
                   : key == "index"         ? Slot::index
                   : key == "delta"         ? Slot::delta
                   : key == "content_block" ? Slot::content_block
                   : key == "message"       ? Slot::message
                   : key == "usage"         ? Slot::usage
                   : key == "error"         ? Slot::error
                                            : Slot::none;
        case Context::message:
            return key == "id"      ? Slot::message_id
                   : key == "model" ? Slot::message_model
                   : key == "usage" ? Slot::usage
                                    : Slot::none;
        case Context::block:
            return key == "type"       ? Slot::block_type
                   : key == "id"       ? Slot::block_id
                   : key == "name"     ? Slot::block_name
                   : key == "text"     ? Slot::block_text
                   : key == "thinking" ? Slot::block_thinking
                                       : Slot::none;
        case Context::delta:
            return key == "type"           ? Slot::delta_type
                   : key == "text"         ? Slot::delta_text
                   : key == "partial_json" ? Slot::delta_partial_json
                   : key == "thinking"     ? Slot::delta_thinking
                   : key == "stop_reason"  ? Slot::stop_reason
                                           : Slot::none;
        case Context::usage:
            return key == "input_tokens"                  ? Slot::input_tokens
                   : key == "cache_creation_input_tokens" ? Slot::cache_creation_input_tokens
                   : key == "cache_read_input_tokens"     ? Slot::cache_read_input_tokens
                   : key == "output_tokens"               ? Slot::output_tokens
                                                          : Slot::none;
        case Context::error:
            return key == "type"      ? Slot::error_type
                   : key == "message" ? Slot::error_message
                                      : Slot::none;
        case Context::other:
            break;
    }
    return Slot::none;
}

// The object a member opens, when it is one whose members are read.
Context context_for(Slot slot) {
    switch (slot) {
        case Slot::message:
            return Context::message;
        case Slot::content_block:
            return Context::block;
        case Slot::delta:
            return Context::delta;
        case Slot::usage:
            return Context::usage;
        case Slot::error:
            return Context::error;
        default:
            return Context::other;
    }
}

class Collector : public JsonTokens {
  public:
    explicit Collector(EventFields& fields) : fields_(fields) {}

    // Whether the text was an object (a scalar or array at the top is not an event).
    bool root_was_object() const { return root_object_ && !root_other_; }

    void object_start() override {
        if (depth_ == 0)
            root_object_ = true;
        open(depth_ == 0 ? Context::root : context_for(slot_));
    }
    void array_start() override {
        root_other_ = root_other_ || depth_ == 0;
        open(Context::other);
    }
    void object_end() override { close(); }
    void array_end() override { close(); }
    void key(std::string_view key) override { slot_ = slot_for(context(), key); }

    bool reads_string() override {
        root_other_ = root_other_ || depth_ == 0;
        return string_slot() != nullptr || slot_ == Slot::stop_reason;
    }
    void string(std::string_view value) override {
        if (std::string* target = string_slot())
            target->assign(value);
        else if (slot_ == Slot::stop_reason)
            fields_.stop_reason = std::string(value);
    }
    void integer(std::int64_t value) override {
        root_other_ = root_other_ || depth_ == 0;
        if (slot_ == Slot::index && value < 0)
            return;  // not an index: absent
        number(static_cast<std::uint64_t>(value), token_count(value));
    }
    void other_value(std::string_view) override { root_other_ = root_other_ || depth_ == 0; }

  private:
    static constexpr std::size_t kTrackedDepth = 4;

    Context context() const {
        return depth_ <= kTrackedDepth ? contexts_[depth_ - 1] : Context::other;
    }
    void open(Context context) {
        ++depth_;
        if (depth_ <= kTrackedDepth)
            contexts_[depth_ - 1] = context;
        slot_ = Slot::none;
    }
    void close() {
        --depth_;
        slot_ = Slot::none;
    }

    // An integer, as an index and as a token count (clamped).
    void number(std::uint64_t index, std::int64_t count) {
        switch (slot_) {
            case Slot::index:
                fields_.index = index;
                break;
            case Slot::input_tokens:
                fields_.input_tokens = count;
                break;
            case Slot::cache_creation_input_tokens:
                fields_.cache_creation_input_tokens = count;
                break;
            case Slot::cache_read_input_tokens:
                fields_.cache_read_input_tokens = count;
                break;
            case Slot::output_tokens:
                fields_.output_tokens = count;
                break;
            default:
                break;
        }
    }

    std::string* string_slot() {
        switch (slot_) {
            case Slot::type:
                return &fields_.type;
            case Slot::message_id:
                return &fields_.message_id;
            case Slot::message_model:
                return &fields_.message_model;
            case Slot::block_type:
                return &fields_.block_type;
            case Slot::block_id:
                return &fields_.block_id;
            case Slot::block_name:
                return &fields_.block_name;
            case Slot::block_text:
                return &fields_.block_text;
            case Slot::block_thinking:
                return &fields_.block_thinking;
            case Slot::delta_type:
                return &fields_.delta_type;
            case Slot::delta_text:
                return &fields_.delta_text;
            case Slot::delta_partial_json:
                return &fields_.delta_partial_json;
            case Slot::delta_thinking:
                return &fields_.delta_thinking;
            case Slot::error_type:
                return &fields_.error_type;
            case Slot::error_message:
                return &fields_.error_message;
            default:
                return nullptr;
        }
    }

    EventFields& fields_;
    std::array<Context, kTrackedDepth> contexts_{};
    std::size_t depth_ = 0;
    Slot slot_ = Slot::none;
    bool root_object_ = false;
    bool root_other_ = false;
};

}  // namespace

bool EventFields::read(std::string_view data) {
    for (std::string* s : {&type, &message_id, &message_model, &block_type, &block_id, &block_name,
                           &block_text, &block_thinking, &delta_type, &delta_text,
                           &delta_partial_json, &delta_thinking, &error_type, &error_message})
        s->clear();
    index.reset();
    stop_reason.reset();
    input_tokens.reset();
    cache_creation_input_tokens.reset();
    cache_read_input_tokens.reset();
    output_tokens.reset();
    Collector collector(*this);
    return scanner_.scan(data, collector) && collector.root_was_object();
}

}  // namespace anthropic
