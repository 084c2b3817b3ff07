import type { AttributeRef, Expr, Literal, Operand, Operator, SetLiteral } from './ast.js';
import { abbreviate, conditionError, conditionSyntaxError, describeText, lineAndColumn } from './errors.js';
import type { Token, TokenKind } from './lexer.js';
import { tokenize } from './lexer.js';
import type { Family, OperatorSpec } from './operators.js';
import { OPERATORS_BY_LOWER, QUANTIFIERS_BY_LOWER } from './operators.js';
import { parseDateTimeLiteral, parseGuidLiteral, parseIntegerLiteral } from './values.js';

/*
 * Grammar (keywords, function and operator names case-insensitive):
 *
 *   condition  := expr EOF
 *   expr       := unary ( (AND | &&) unary )*  |  unary ( (OR | ||) unary )*
 *   unary      := (NOT | !) unary | primary
 *   primary    := '(' expr ')'
 *               | ActionMatches '{' STRING '}' | SubOperationMatches '{' STRING '}'
 *               | Exists ATTRIBUTE
 *               | operand OPERATOR operand
 *   operand    := ATTRIBUTE | value | '{' value (',' value)* '}'
 *   value      := STRING | WORD            (WORD: bare GUID, integer, true/false — read per operator family)
 *
 * AND and OR never mix at one level: Azure documents `a AND b OR c` as ambiguous and requires parentheses, so we
 * reject it rather than silently pick a precedence the author may not have meant.
 */

/** Deep enough for any real condition; stops `((((…` or `!!!!…` from exhausting the stack (→ a 500, not a 400). */
const MAX_DEPTH = 100;

type RawValue = { token: Token };
type RawOperand =
  | { kind: 'attribute'; ref: AttributeRef }
  | { kind: 'value'; value: RawValue }
  | { kind: 'set'; open: Token; items: RawValue[] };

export function parseCondition(source: string): Expr {
  if (source.trim() === '') throw conditionError('The condition is empty.');
  return new Parser(source, tokenize(source)).parseCondition();
}

class Parser {
  private index = 0;
  private depth = 0;

  constructor(
    private readonly source: string,
    private readonly tokens: readonly Token[],
  ) {}

  parseCondition(): Expr {
    const expr = this.parseExpr();
    const t = this.peek();
    if (t.kind === 'rparen') throw this.error(t, "unexpected ')' with no matching '('");
    if (t.kind !== 'eof') throw this.error(t, `expected AND, OR or the end of the condition but found ${this.describe(t)}`);
    return expr;
  }

  private parseExpr(): Expr {
    const first = this.parseUnary();
    const operands: Expr[] = [first];
    let joiner: Token | undefined;
    while (this.peek().kind === 'and' || this.peek().kind === 'or') {
      const t = this.next();
      if (joiner !== undefined && joiner.kind !== t.kind) {
        throw this.error(
          t,
          `AND and OR cannot be mixed without parentheses ('${joiner.text}' … '${t.text}'); group them, e.g. (a AND b) OR c`,
        );
      }
      joiner = t;
      operands.push(this.parseUnary());
    }
    if (joiner === undefined) return first;
    return { kind: joiner.kind === 'and' ? 'and' : 'or', operands };
  }

  private parseUnary(): Expr {
    const t = this.peek();
    if (t.kind !== 'not') return this.parsePrimary();
    this.next();
    this.enter(t);
    const operand = this.parseUnary();
    this.depth--;
    return { kind: 'not', operand };
  }

  private parsePrimary(): Expr {
    const t = this.peek();
    if (t.kind === 'lparen') {
      this.next();
      this.enter(t);
      const inner = this.parseExpr();
      this.depth--;
      const close = this.peek();
      if (close.kind !== 'rparen') {
        const opened = this.where(t);
        throw this.error(
          close,
          close.kind === 'eof'
            ? `expected ')' to close the '(' opened at ${opened} but reached the end of the condition`
            : `expected ')' (closing the '(' at ${opened}), AND or OR but found ${this.describe(close)}`,
        );
      }
      this.next();
      return inner;
    }
    if (t.kind === 'word') {
      const lower = t.value.toLowerCase();
      if (lower === 'actionmatches' || lower === 'suboperationmatches') {
        this.next();
        const pattern = this.parseFunctionArgument(t);
        return { kind: lower === 'actionmatches' ? 'actionMatches' : 'subOperationMatches', pattern };
      }
      if (lower === 'exists') {
        this.next();
        const a = this.peek();
        if (a.kind !== 'attribute') {
          throw this.error(a, `expected an attribute such as @Resource[…] after 'Exists' but found ${this.describe(a)}`);
        }
        this.next();
        return { kind: 'exists', attribute: attributeOf(a) };
      }
      if (this.peekAt(1).kind === 'lbrace' && /^[A-Za-z]+$/.test(t.value) && !isBareValue(t.value)) {
        throw this.error(t, `unknown function '${t.value}' (expected ActionMatches or SubOperationMatches)`);
      }
    }
    if (t.kind === 'attribute' || t.kind === 'string' || t.kind === 'word' || t.kind === 'lbrace') {
      return this.parseComparison();
    }
    throw this.error(
      t,
      `expected an expression (an attribute, '(', NOT, ActionMatches, SubOperationMatches or Exists) but found ${this.describe(t)}`,
    );
  }

  private parseFunctionArgument(fn: Token): string {
    this.expect('lbrace', `'{' after '${fn.text}'`);
    const s = this.peek();
    if (s.kind !== 'string') throw this.error(s, `expected a quoted pattern inside ${fn.text}{…} but found ${this.describe(s)}`);
    this.next();
    this.expect('rbrace', `'}' to close ${fn.text}{…}`);
    return s.value;
  }

  private parseComparison(): Expr {
    const leftRaw = this.parseOperand('a left operand');
    const opToken = this.peek();
    const operator = this.parseOperator();
    const spec = OPERATORS_BY_LOWER.get(operator.name.toLowerCase())!;
    const rightRaw = this.parseOperand(`a value or attribute after '${opToken.text}'`);
    const left = this.resolveOperand(leftRaw, spec, operator, opToken);
    const right = this.resolveOperand(rightRaw, spec, operator, opToken);
    return { kind: 'compare', left, operator, right };
  }

  private parseOperand(what: string): RawOperand {
    const t = this.peek();
    if (t.kind === 'attribute') {
      this.next();
      return { kind: 'attribute', ref: attributeOf(t) };
    }
    if (t.kind === 'string' || t.kind === 'word') {
      this.next();
      return { kind: 'value', value: { token: t } };
    }
    if (t.kind === 'lbrace') {
      this.next();
      const items: RawValue[] = [];
      for (;;) {
        const item = this.peek();
        if (item.kind !== 'string' && item.kind !== 'word') {
          throw this.error(
            item,
            item.kind === 'rbrace' && items.length === 0
              ? 'empty value set {}'
              : `expected a value in the set but found ${this.describe(item)}`,
          );
        }
        this.next();
        items.push({ token: item });
        const sep = this.peek();
        if (sep.kind === 'comma') {
          this.next();
          continue;
        }
        if (sep.kind === 'rbrace') {
          this.next();
          return { kind: 'set', open: t, items };
        }
        throw this.error(sep, `expected ',' or '}' in the value set but found ${this.describe(sep)}`);
      }
    }
    throw this.error(t, `expected ${what} but found ${this.describe(t)}`);
  }

  private parseOperator(): Operator {
    const t = this.peek();
    if (t.kind !== 'word') {
      throw this.error(t, `expected a comparison operator (e.g. StringEquals) but found ${this.describe(t)}`);
    }
    this.next();
    const colon = t.value.indexOf(':');
    const namePart = colon < 0 ? t.value : t.value.slice(colon + 1);
    let quantifier;
    if (colon >= 0) {
      const prefix = t.value.slice(0, colon);
      quantifier = QUANTIFIERS_BY_LOWER.get(prefix.toLowerCase());
      if (quantifier === undefined) {
        throw this.error(
          t,
          `unknown operator prefix '${prefix}:' (expected ForAnyOfAnyValues, ForAllOfAnyValues, ForAnyOfAllValues or ForAllOfAllValues)`,
        );
      }
    }
    const spec = OPERATORS_BY_LOWER.get(namePart.toLowerCase());
    if (spec === undefined) throw this.error(t, `unknown operator '${namePart}'`);
    return quantifier === undefined ? { name: spec.name } : { quantifier, name: spec.name };
  }

  /** Literal types are only known once the operator is: `1234…` may be an integer or a no-dash GUID. */
  private resolveOperand(raw: RawOperand, spec: OperatorSpec, operator: Operator, opToken: Token): Operand {
    if (raw.kind === 'attribute') return raw.ref;
    if (raw.kind === 'value') return this.resolveValue(raw.value, spec);
    if (operator.quantifier === undefined && raw.items.length !== 1) {
      throw this.error(
        raw.open,
        `operator '${opToken.text}' compares single values; to compare with a set use a prefix such as ForAnyOfAnyValues:${spec.name}`,
      );
    }
    const set: SetLiteral = { kind: 'set', items: raw.items.map((item) => this.resolveValue(item, spec)) };
    return set;
  }

  private resolveValue(raw: RawValue, spec: OperatorSpec): Literal {
    const t = raw.token;
    const fail = (expected: string): never => {
      throw this.error(t, `expected ${expected} for ${spec.name} but found ${this.describe(t)}`);
    };
    const family: Family = spec.family;
    switch (family) {
      case 'string':
        if (t.kind !== 'string') return fail("a quoted string ('…')");
        return { kind: 'string', value: t.value };
      case 'datetime':
        if (t.kind !== 'string' || parseDateTimeLiteral(t.value) === undefined) {
          return fail("a quoted date-time 'yyyy-mm-ddThh:mm:ss.fffffffZ'");
        }
        return { kind: 'string', value: t.value };
      case 'numeric': {
        const n = t.kind === 'word' ? parseIntegerLiteral(t.value) : undefined;
        if (n === undefined) return fail('an integer');
        return { kind: 'number', value: n };
      }
      case 'guid': {
        // Bare is what Azure and the built-ins write; a quoted GUID is accepted too since it is unambiguous.
        const g = parseGuidLiteral(t.value);
        if (g === undefined) return fail('a GUID (00000000-0000-0000-0000-000000000000)');
        return { kind: 'guid', value: g };
      }
      case 'bool': {
        const lower = t.kind === 'word' ? t.value.toLowerCase() : '';
        if (lower !== 'true' && lower !== 'false') return fail('true or false');
        return { kind: 'bool', value: lower === 'true' };
      }
    }
  }

  private enter(t: Token): void {
    if (++this.depth > MAX_DEPTH) throw this.error(t, `the condition is nested more than ${MAX_DEPTH} levels deep`);
  }

  private expect(kind: TokenKind, what: string): Token {
    const t = this.peek();
    if (t.kind !== kind) throw this.error(t, `expected ${what} but found ${this.describe(t)}`);
    return this.next();
  }

  private peek(): Token {
    return this.peekAt(0);
  }

  private peekAt(ahead: number): Token {
    return this.tokens[Math.min(this.index + ahead, this.tokens.length - 1)]!;
  }

  private next(): Token {
    const t = this.peek();
    if (this.index < this.tokens.length - 1) this.index++;
    return t;
  }

  private describe(t: Token): string {
    switch (t.kind) {
      case 'eof':
        return 'the end of the condition';
      case 'string':
        return `the string ${abbreviate(t.text)}`;
      case 'attribute':
        return `the attribute ${describeText(t.text)}`;
      default:
        return describeText(t.text);
    }
  }

  private where(t: Token): string {
    const { line, column } = lineAndColumn(this.source, t.pos);
    return `line ${line}, column ${column}`;
  }

  private error(t: Token, problem: string): Error {
    return conditionSyntaxError(this.source, t.pos, problem);
  }
}

function attributeOf(t: Token): AttributeRef {
  return { kind: 'attribute', source: t.source!, name: t.value };
}

function isBareValue(word: string): boolean {
  const lower = word.toLowerCase();
  return lower === 'true' || lower === 'false';
}
