import { applyChatTemplate, type ChatMessage, type TemplateOptions } from './chat-template.ts';
import type { CharSpan, RenderedChat, RenderedPrompt, TextTokenizer } from './types.ts';

export interface ChatOptions extends TemplateOptions {
  /** System message placed before the instruction. */
  system?: string;
}

/**
 * Where contents land in a template's output, learnt by rendering placeholder contents: the
 * template's markup between, before and after them. Plain letters, so no template strips or
 * rewrites them.
 */
interface Layout {
  /** markup[0] + content[0] + markup[1] + content[1] + ... + markup[n] */
  markup: string[];
}

const PROBES = ['LeafProbeInstructionQx7', 'LeafProbeResponseQx7'];

const layouts = new WeakMap<TextTokenizer, Map<string, Layout>>();

function messagesFor(contents: string[], system: string | undefined): ChatMessage[] {
  const roles: ChatMessage['role'][] = ['user', 'assistant'];
  const messages: ChatMessage[] = system === undefined ? [] : [{ role: 'system', content: system }];
  contents.forEach((content, i) => messages.push({ role: roles[i], content }));
  return messages;
}

function layoutOf(tokenizer: TextTokenizer, contentCount: number, addGenerationPrompt: boolean, options: ChatOptions): Layout {
  const key = JSON.stringify([contentCount, addGenerationPrompt, options.system, options.now?.toISOString(), options.variables]);
  let cache = layouts.get(tokenizer);
  if (!cache) layouts.set(tokenizer, (cache = new Map()));
  const cached = cache.get(key);
  if (cached) return cached;

  const probes = PROBES.slice(0, contentCount);
  const text = applyChatTemplate(tokenizer, messagesFor(probes, options.system), addGenerationPrompt, options);
  const markup: string[] = [];
  let pos = 0;
  for (const probe of probes) {
    const at = text.indexOf(probe, pos);
    if (at < 0 || text.indexOf(probe, at + probe.length) >= 0) {
      throw new Error(`${tokenizer.source}: the chat template does not render each message's content exactly once, in order`);
    }
    markup.push(text.slice(pos, at));
    pos = at + probe.length;
  }
  markup.push(text.slice(pos));
  const layout = { markup };
  cache.set(key, layout);
  return layout;
}

/**
 * Where `rendered` lies in `content` if it is `content` with surrounding whitespace removed
 * (templates trim or strip newlines), else undefined.
 */
function placeIn(content: string, rendered: string): CharSpan | undefined {
  const leading = content.length - content.trimStart().length;
  for (let k = 0; k <= leading; k++) {
    if (content.startsWith(rendered, k) && content.slice(k + rendered.length).trim() === '') {
      return { start: k, end: k + rendered.length };
    }
  }
  return undefined;
}

interface Placement {
  spans: CharSpan[];
  contentSpans: CharSpan[];
}

/** Splits `text` into the layout's markup and the contents, checking each content is the given one (whitespace-trimmed at most). */
function locate(text: string, layout: Layout, contents: string[], source: string): Placement {
  const { markup } = layout;
  const first = markup[0];
  const last = markup[markup.length - 1];
  const fail = (why: string): never => {
    throw new Error(
      `${source}: cannot locate the messages in the rendered chat (${why}); the template renders this content with different markup ` +
        `than placeholder content, e.g. it inspects or rewrites the content`,
    );
  };
  if (!text.startsWith(first) || !text.endsWith(last) || text.length < first.length + last.length) {
    fail('the markup around the messages differs');
  }
  const placements: Placement[] = [];
  // Try every way to cut the text between the markups; exactly one must give the contents back.
  const search = (index: number, pos: number, spans: CharSpan[], contentSpans: CharSpan[]) => {
    if (index === contents.length - 1) {
      const end = text.length - last.length;
      if (end < pos) return;
      const placed = placeIn(contents[index], text.slice(pos, end));
      if (placed) placements.push({ spans: [...spans, { start: pos, end }], contentSpans: [...contentSpans, placed] });
      return;
    }
    const separator = markup[index + 1];
    const limit = text.length - last.length;
    for (let at = text.indexOf(separator, pos); at >= 0 && at + separator.length <= limit; at = text.indexOf(separator, at + 1)) {
      const placed = placeIn(contents[index], text.slice(pos, at));
      if (placed) search(index + 1, at + separator.length, [...spans, { start: pos, end: at }], [...contentSpans, placed]);
    }
  };
  search(0, first.length, [], []);
  if (placements.length === 0) fail('no split of the text gives back the messages');
  if (placements.length > 1) {
    // Whitespace-only markup lets whitespace at content edges go either way; prefer contents rendered whole.
    const whole = placements.filter((p) => p.contentSpans.every((s, i) => s.start === 0 && s.end === contents[i].length));
    if (whole.length !== 1) fail('several splits of the text give back the messages');
    return whole[0];
  }
  return placements[0];
}

function checkContent(name: string, value: unknown): string {
  if (typeof value !== 'string') throw new Error(`${name} must be a string, got ${value === null ? 'null' : typeof value}`);
  return value;
}

/**
 * Renders one exchange (user: instruction, assistant: response) with the tokenizer's chat template
 * and finds where the instruction and the response lie in the text.
 */
export function renderChat(tokenizer: TextTokenizer, instruction: string, response: string, options: ChatOptions = {}): RenderedChat {
  const contents = [checkContent('instruction', instruction), checkContent('response', response)];
  const text = applyChatTemplate(tokenizer, messagesFor(contents, options.system), false, options);
  const placement = locate(text, layoutOf(tokenizer, 2, false, options), contents, tokenizer.source);
  return {
    text,
    instruction: placement.spans[0],
    response: placement.spans[1],
    contentSpans: { instruction: placement.contentSpans[0], response: placement.contentSpans[1] },
  };
}

/** Renders the instruction followed by the template's generation prompt, for generating a response. */
export function renderPrompt(tokenizer: TextTokenizer, instruction: string, options: ChatOptions = {}): RenderedPrompt {
  const contents = [checkContent('instruction', instruction)];
  const text = applyChatTemplate(tokenizer, messagesFor(contents, options.system), true, options);
  const placement = locate(text, layoutOf(tokenizer, 1, true, options), contents, tokenizer.source);
  return { text, instruction: placement.spans[0], contentSpans: { instruction: placement.contentSpans[0] } };
}
