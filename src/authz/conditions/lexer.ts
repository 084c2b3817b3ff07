import type { AttributeSource } from './ast.js';
import { ATTRIBUTE_SOURCES } from './ast.js';
import { conditionSyntaxError, describeText } from './errors.js';

export type TokenKind =
  | 'lparen'
  | 'rparen'
  | 'lbrace'
  | 'rbrace'
  | 'comma'
  | 'and' // AND, &&
  | 'or' // OR, ||
  | 'not' // NOT, !
  | 'string' // 'single quoted'
  | 'word' // operator names, functions, bare GUIDs / integers / booleans
  | 'attribute' // @Source[name]
  | 'eof';

export interface Token {
  kind: TokenKind;
  /** Offset of the first character in the source. */
  pos: number;
  /** The raw source text of the token. */
  text: string;
  /** String contents after unescaping; attribute name (trimmed); word text. */
  value: string;
  /** Only for `attribute` tokens. */
  source?: AttributeSource;
}

// Words cover operator names (`ForAnyOfAnyValues:GuidEquals`), keywords and bare literals: dashed GUIDs, the
// no-dash GUID form built-in roles use, negative integers, true/false. The parser decides what a word means.
function isWordChar(code: number): boolean {
  return (
    (code >= 97 && code <= 122) || // a-z
    (code >= 65 && code <= 90) || // A-Z
    (code >= 48 && code <= 58) || // 0-9 and ':'
    code === 95 || // _
    code === 46 || // .
    code === 45 // -
  );
}

function isSpace(code: number, ch: string): boolean {
  if (code === 32 || (code >= 9 && code <= 13)) return true;
  return code > 127 && /\s/.test(ch);
}

const SOURCES_BY_LOWER = new Map(ATTRIBUTE_SOURCES.map((s) => [s.toLowerCase(), s] as const));

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = source.length;
  const push = (kind: TokenKind, pos: number, end: number, value?: string, attrSource?: AttributeSource): void => {
    const text = source.slice(pos, end);
    const token: Token = { kind, pos, text, value: value ?? text };
    if (attrSource !== undefined) token.source = attrSource;
    tokens.push(token);
  };

  while (i < n) {
    const ch = source[i]!;
    const code = source.charCodeAt(i);
    if (isSpace(code, ch)) {
      i++;
      continue;
    }
    const start = i;
    switch (ch) {
      case '(':
        push('lparen', start, ++i);
        continue;
      case ')':
        push('rparen', start, ++i);
        continue;
      case '{':
        push('lbrace', start, ++i);
        continue;
      case '}':
        push('rbrace', start, ++i);
        continue;
      case ',':
        push('comma', start, ++i);
        continue;
      case '!':
        push('not', start, ++i);
        continue;
      case '&':
      case '|':
        if (source[i + 1] !== ch) {
          throw conditionSyntaxError(source, i, `unexpected character '${ch}' (did you mean '${ch}${ch}'?)`);
        }
        i += 2;
        push(ch === '&' ? 'and' : 'or', start, i);
        continue;
      case "'":
        i = readString(source, i, (value, end) => push('string', start, end, value));
        continue;
      case '@':
        i = readAttribute(source, i, (name, src, end) => push('attribute', start, end, name, src));
        continue;
      case '"':
        throw conditionSyntaxError(source, i, "unexpected character '\"' (string values use single quotes: 'value')");
      default:
        break;
    }
    if (isWordChar(code)) {
      while (i < n && isWordChar(source.charCodeAt(i))) i++;
      const text = source.slice(start, i);
      const upper = text.toUpperCase();
      // Keywords are case-insensitive like everything else in the language (built-ins ship `boolequals`).
      if (upper === 'AND') push('and', start, i);
      else if (upper === 'OR') push('or', start, i);
      else if (upper === 'NOT') push('not', start, i);
      else push('word', start, i);
      continue;
    }
    throw conditionSyntaxError(source, i, `unexpected character ${describeText(String.fromCodePoint(source.codePointAt(i)!))}`);
  }
  tokens.push({ kind: 'eof', pos: n, text: '', value: '' });
  return tokens;
}

/**
 * Reads `'…'` starting at the opening quote; returns the offset after the closing quote.
 * `\'` is a quote and `\\` a backslash; any other `\x` is kept verbatim so StringLike patterns can escape `*` and `?`
 * (`'a\*'` reaches the matcher as `a\*`). formatCondition escapes exactly `\` and `'`, so printing is lossless.
 */
function readString(source: string, open: number, emit: (value: string, end: number) => void): number {
  let i = open + 1;
  let value = '';
  while (i < source.length) {
    const c = source[i]!;
    if (c === "'") {
      emit(value, i + 1);
      return i + 1;
    }
    if (c === '\\') {
      const next = source[i + 1];
      if (next === "'" || next === '\\') {
        value += next;
        i += 2;
        continue;
      }
    }
    value += c;
    i++;
  }
  throw conditionSyntaxError(source, open, 'unterminated string: missing closing quote (\')');
}

/** Reads `@Source[name]`. Names hold `/`, `:`, `.`, spaces, `<$key_case_sensitive$>`, `&$keys$&` — anything but `]`. */
function readAttribute(
  source: string,
  at: number,
  emit: (name: string, src: AttributeSource, end: number) => void,
): number {
  let i = at + 1;
  while (i < source.length && /[A-Za-z]/.test(source[i]!)) i++;
  const word = source.slice(at + 1, i);
  const src = SOURCES_BY_LOWER.get(word.toLowerCase());
  if (src === undefined) {
    throw conditionSyntaxError(
      source,
      at,
      `unknown attribute source '@${word}' (expected @Resource, @Request, @Principal or @Environment)`,
    );
  }
  if (source[i] !== '[') {
    throw conditionSyntaxError(source, i, `expected '[' after '@${src}'`);
  }
  const close = source.indexOf(']', i + 1);
  if (close < 0) {
    throw conditionSyntaxError(source, i, `unterminated attribute name: missing ']' after '@${src}['`);
  }
  const name = source.slice(i + 1, close).trim();
  if (name === '') {
    throw conditionSyntaxError(source, i, `empty attribute name in '@${src}[]'`);
  }
  emit(name, src, close + 1);
  return close + 1;
}
