export type { CharSpan, Encoding, TextTokenizer, RenderedChat, RenderedPrompt, TokenizedChat } from './types.ts';
export { loadTokenizer } from './load.ts';
export { tokenizerFromJson, HfTextTokenizer } from './tokenizer.ts';
export { renderChat, renderPrompt, type ChatOptions } from './chat.ts';
export { tokenizeChat } from './tokenize-chat.ts';
export { PLAIN_CHAT_TEMPLATE, DEFAULT_TEMPLATE_DATE, applyChatTemplate, type ChatMessage, type TemplateOptions } from './chat-template.ts';
export { buildWordLevelTokenizer, WORD_LEVEL_CHAT_TEMPLATE, WORD_LEVEL_SPECIAL_TOKENS, type WordLevelOptions } from './word-level.ts';
export { writeTokenizerFiles } from './save.ts';
