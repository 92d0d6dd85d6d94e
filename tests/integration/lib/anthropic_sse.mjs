// Reads an Anthropic Messages stream (`event: <type>` + `data: <json>` frames) and checks it against
// the order the API reference and the official SDK's MessageStream require: message_start first and
// once; per block content_block_start, deltas of the block's own kind, content_block_stop, with
// indexes 0, 1, 2... in order; then message_delta (stop_reason, usage.output_tokens), then
// message_stop, then nothing. `ping` may come anywhere after message_start; an `error` event ends
// the stream. Used by the mock upstream's self-test, and by any test that reads Anthropic streams.
import assert from 'node:assert/strict';

// The frames of an SSE text, in order, as { event, data } with data parsed as JSON.
export function parseSse(text) {
  return text.split(/\r?\n\r?\n/).filter((frame) => frame.trim() !== '').map((frame) => {
    let event = null;
    const data = [];
    for (const line of frame.split(/\r?\n/)) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    return { event, data: JSON.parse(data.join('\n')) };
  });
}

// Which delta types may go into a block of each kind.
const DELTAS_OF_BLOCK = {
  text: ['text_delta', 'citations_delta'],
  tool_use: ['input_json_delta'],
  thinking: ['thinking_delta', 'signature_delta'],
  redacted_thinking: [],
};

function applyDelta(block, delta, partialJson) {
  switch (delta.type) {
    case 'text_delta': block.text += delta.text; break;
    case 'input_json_delta': partialJson.push(delta.partial_json); break;
    case 'thinking_delta': block.thinking += delta.thinking; break;
    case 'signature_delta': block.signature = delta.signature; break;
    case 'citations_delta': (block.citations ??= []).push(delta.citation); break;
    default: assert.fail(`unknown delta type ${delta.type}`);
  }
}

// Checks the order of events (as parseSse gives them) and rebuilds the message they describe, as the
// SDK does. Returns { message, error, fragments }: error is the data of a final `error` event (or
// null), fragments maps a tool_use block's index to its partial_json pieces.
export function readAnthropicStream(events) {
  assert.ok(events.length > 0, 'an empty stream');
  assert.equal(events[0].event, 'message_start', 'message_start comes first');
  let message = null;
  let open = null;  // { index, block, partialJson } of the block between its start and its stop
  let delta = null;
  let stopped = false;
  let error = null;
  const fragments = {};
  for (const [position, { event, data }] of events.entries()) {
    const where = `event ${position} (${event})`;
    assert.ok(!stopped && !error, `${where} after the end of the stream`);
    assert.equal(data.type, event, `${where}: data.type names the event`);
    switch (event) {
      case 'message_start':
        assert.equal(message, null, `${where}: a second message_start`);
        assert.deepEqual(data.message.content, [], `${where}: content starts empty`);
        assert.equal(data.message.stop_reason, null);
        message = structuredClone(data.message);
        break;
      case 'content_block_start':
        assert.equal(open, null, `${where}: block ${open?.index} is still open`);
        assert.equal(delta, null, `${where}: a block after message_delta`);
        assert.equal(data.index, message.content.length, `${where}: indexes are contiguous from 0`);
        assert.ok(data.content_block.type in DELTAS_OF_BLOCK, `${where}: block type ${data.content_block.type}`);
        open = { index: data.index, block: structuredClone(data.content_block), partialJson: [] };
        message.content.push(open.block);
        break;
      case 'content_block_delta':
        assert.equal(data.index, open?.index, `${where}: a delta for a block that is not open`);
        assert.ok(DELTAS_OF_BLOCK[open.block.type].includes(data.delta.type),
          `${where}: ${data.delta.type} in a ${open.block.type} block`);
        applyDelta(open.block, data.delta, open.partialJson);
        break;
      case 'content_block_stop':
        assert.equal(data.index, open?.index, `${where}: stops a block that is not open`);
        if (open.block.type === 'tool_use') {
          fragments[open.index] = open.partialJson;
          const json = open.partialJson.join('');
          open.block.input = json === '' ? {} : JSON.parse(json);
        }
        open = null;
        break;
      case 'message_delta':
        assert.equal(open, null, `${where}: block ${open?.index} is still open`);
        assert.equal(delta, null, `${where}: a second message_delta`);
        assert.equal(typeof data.delta.stop_reason, 'string', `${where}: carries stop_reason`);
        assert.equal(typeof data.usage.output_tokens, 'number', `${where}: carries usage.output_tokens`);
        delta = data;
        Object.assign(message, data.delta);
        for (const [key, value] of Object.entries(data.usage)) if (value !== null) message.usage[key] = value;
        break;
      case 'message_stop':
        assert.notEqual(delta, null, `${where}: message_stop before message_delta`);
        stopped = true;
        break;
      case 'ping':
        break;
      case 'error':
        assert.equal(typeof data.error.type, 'string');
        assert.equal(typeof data.error.message, 'string');
        error = data;
        break;
      default:
        assert.fail(`${where}: an unknown event`);
    }
  }
  assert.ok(stopped || error, 'the stream ends with message_stop or error');
  return { message, error, fragments };
}
