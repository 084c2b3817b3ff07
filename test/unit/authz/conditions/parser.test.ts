import { describe, expect, it } from 'vitest';
import { KeylessError } from '../../../../src/core/errors.js';
import {
  CONDITION_ERROR_CODE,
  compileCondition,
  formatCondition,
  parseCondition,
} from '../../../../src/authz/conditions/index.js';
import type { Expr } from '../../../../src/authz/conditions/index.js';
import { tokenize } from '../../../../src/authz/conditions/lexer.js';

const A = "@Resource[a] StringEquals 'x'";
const B = "@Resource[b] StringEquals 'x'";
const C = "@Resource[c] StringEquals 'x'";
const cmp = (name: string): Expr => ({
  kind: 'compare',
  left: { kind: 'attribute', source: 'Resource', name },
  operator: { name: 'StringEquals' },
  right: { kind: 'string', value: 'x' },
});

/** Runs `fn`, asserting it throws a 400 KeylessError; returns it for message checks. */
function syntaxError(source: string, version?: string): KeylessError {
  try {
    compileCondition(source, version);
  } catch (e) {
    expect(e).toBeInstanceOf(KeylessError);
    const err = e as KeylessError;
    expect(err.status).toBe(400);
    expect(err.code).toBe(CONDITION_ERROR_CODE);
    expect(err.message).toMatch(/^The given role assignment condition is invalid\. /);
    return err;
  }
  throw new Error(`expected a syntax error for: ${source}`);
}

describe('lexer', () => {
  it('produces attribute, word, string and punctuation tokens with positions', () => {
    const tokens = tokenize("@Request[a/b:c<$key_case_sensitive$>] ForAnyOfAnyValues:GuidEquals {00482a5a-887f-4fb3-b363-3b7fe8e74483, 'q\\'s'}");
    expect(tokens.map((t) => t.kind)).toEqual(['attribute', 'word', 'lbrace', 'word', 'comma', 'string', 'rbrace', 'eof']);
    expect(tokens[0]).toMatchObject({ source: 'Request', value: 'a/b:c<$key_case_sensitive$>', pos: 0 });
    expect(tokens[1]).toMatchObject({ value: 'ForAnyOfAnyValues:GuidEquals', pos: 38 });
    expect(tokens[5]!.value).toBe("q's");
  });

  it('recognises AND/OR/NOT in any case and their symbol forms', () => {
    expect(tokenize('and && Or || not ! AnD').map((t) => t.kind)).toEqual(['and', 'and', 'or', 'or', 'not', 'not', 'and', 'eof']);
  });

  it('keeps attribute names with &$keys$& and spaces, trimming the edges', () => {
    const [t] = tokenize('@resource[ Microsoft.Storage/x/tags&$keys$& ]');
    expect(t).toMatchObject({ kind: 'attribute', source: 'Resource', value: 'Microsoft.Storage/x/tags&$keys$&' });
  });
});

describe('parser: structure and precedence', () => {
  it('parses a chain of ANDs (either spelling) into one n-ary node', () => {
    expect(parseCondition(`${A} AND ${B} && ${C}`)).toEqual({ kind: 'and', operands: [cmp('a'), cmp('b'), cmp('c')] });
    expect(parseCondition(`${A} or ${B} || ${C}`)).toEqual({ kind: 'or', operands: [cmp('a'), cmp('b'), cmp('c')] });
  });

  it('refuses to guess between AND and OR without parentheses', () => {
    const err = syntaxError(`${A} AND ${B} OR ${C}`);
    expect(err.message).toContain('AND and OR cannot be mixed without parentheses');
    expect(err.extra).toMatchObject({ line: 1, column: 2 * A.length + 7 });
  });

  it('parentheses decide the grouping either way', () => {
    expect(parseCondition(`(${A} AND ${B}) OR ${C}`)).toEqual({
      kind: 'or',
      operands: [{ kind: 'and', operands: [cmp('a'), cmp('b')] }, cmp('c')],
    });
    expect(parseCondition(`${A} AND (${B} OR ${C})`)).toEqual({
      kind: 'and',
      operands: [cmp('a'), { kind: 'or', operands: [cmp('b'), cmp('c')] }],
    });
  });

  it('and the two groupings really evaluate differently', () => {
    const left = compileCondition(`(${A} AND ${B}) OR ${C}`);
    const right = compileCondition(`${A} AND (${B} OR ${C})`);
    const ctx = { action: 'x', resource: { a: 'no', b: 'x', c: 'x' } };
    expect(left.evaluate(ctx)).toBe(true);
    expect(right.evaluate(ctx)).toBe(false);
  });

  it('NOT binds tighter than AND/OR and applies to a whole parenthesised group', () => {
    expect(parseCondition(`NOT ${A} AND ${B}`)).toEqual({ kind: 'and', operands: [{ kind: 'not', operand: cmp('a') }, cmp('b')] });
    expect(parseCondition(`!(${A} AND ${B})`)).toEqual({
      kind: 'not',
      operand: { kind: 'and', operands: [cmp('a'), cmp('b')] },
    });
    expect(parseCondition(`!!${A}`)).toEqual({ kind: 'not', operand: { kind: 'not', operand: cmp('a') } });
  });

  it('redundant parentheses do not change the AST', () => {
    expect(parseCondition(`(((${A})))`)).toEqual(cmp('a'));
  });

  it('nested same-kind groups stay nested so printing round-trips', () => {
    const ast = parseCondition(`(${A} AND ${B}) AND ${C}`);
    expect(ast).toEqual({ kind: 'and', operands: [{ kind: 'and', operands: [cmp('a'), cmp('b')] }, cmp('c')] });
    expect(parseCondition(formatCondition(ast))).toEqual(ast);
  });

  it('parses ActionMatches / SubOperationMatches / Exists and the Azure suboperation shape', () => {
    expect(
      parseCondition("!(ActionMatches{'Microsoft.Storage/x/read'} AND NOT SubOperationMatches{'Blob.List'})"),
    ).toEqual({
      kind: 'not',
      operand: {
        kind: 'and',
        operands: [
          { kind: 'actionMatches', pattern: 'Microsoft.Storage/x/read' },
          { kind: 'not', operand: { kind: 'subOperationMatches', pattern: 'Blob.List' } },
        ],
      },
    });
    expect(parseCondition('exists @Request[x:snapshot]')).toEqual({
      kind: 'exists',
      attribute: { kind: 'attribute', source: 'Request', name: 'x:snapshot' },
    });
  });

  it('normalises operator, source and quantifier casing, and GUID spelling', () => {
    expect(parseCondition('@request[r] foranyofanyvalues:guidequals {4BAD4D9E2A13488894BBC8432F6F3040}')).toEqual({
      kind: 'compare',
      left: { kind: 'attribute', source: 'Request', name: 'r' },
      operator: { quantifier: 'ForAnyOfAnyValues', name: 'GuidEquals' },
      right: { kind: 'set', items: [{ kind: 'guid', value: '4bad4d9e-2a13-4888-94bb-c8432f6f3040' }] },
    });
  });

  it('reads bare literals by the operator family', () => {
    const num = parseCondition('@Resource[n] NumericLessThan -12');
    expect(num).toMatchObject({ right: { kind: 'number', value: -12n } });
    // 32 decimal digits: an integer for Numeric*, a GUID for Guid*.
    const digits = '12345678901234567890123456789012';
    expect(parseCondition(`@Resource[n] NumericEquals ${digits}`)).toMatchObject({ right: { kind: 'number', value: BigInt(digits) } });
    expect(parseCondition(`@Resource[n] GuidEquals ${digits}`)).toMatchObject({
      right: { kind: 'guid', value: '12345678-9012-3456-7890-123456789012' },
    });
    expect(parseCondition('@Resource[b] BoolEquals False')).toMatchObject({ right: { kind: 'bool', value: false } });
  });

  it('accepts multi-line conditions with tabs and CRLF', () => {
    expect(parseCondition(`(\r\n\t${A}\r\n\tAND\r\n\t${B}\r\n)`)).toEqual({ kind: 'and', operands: [cmp('a'), cmp('b')] });
  });
});

describe('parser: errors point at the problem', () => {
  it('unbalanced parentheses: missing close', () => {
    const err = syntaxError(`((${A})`);
    expect(err.message).toContain("Expected ')' to close the '(' opened at line 1, column 1 but reached the end of the condition");
  });

  it('unbalanced parentheses: extra close', () => {
    const err = syntaxError(`(${A}))`);
    expect(err.message).toContain("Unexpected ')' with no matching '('");
    expect(err.extra).toMatchObject({ column: A.length + 3 });
  });

  it('something else where a ) was expected', () => {
    const err = syntaxError(`(${A} 'stray')`);
    expect(err.message).toMatch(/Expected '\)' \(closing the '\(' at line 1, column 1\), AND or OR but found the string 'stray'/);
  });

  it('unknown operator', () => {
    const err = syntaxError("@Resource[x] StringEqualz 'a'");
    expect(err.message).toContain("Unknown operator 'StringEqualz'");
    expect(err.extra).toMatchObject({ line: 1, column: 14 });
  });

  it('unknown quantifier prefix', () => {
    expect(syntaxError("@Resource[x] ForSomeValues:StringEquals {'a'}").message).toContain("Unknown operator prefix 'ForSomeValues:'");
  });

  it('unterminated string, reported where it starts, on the right line', () => {
    const err = syntaxError(`${A} AND\n  @Resource[y] StringEquals 'abc`);
    expect(err.message).toContain('Unterminated string');
    expect(err.extra).toMatchObject({ line: 2, column: 29 });
  });

  it('missing operand after the operator', () => {
    expect(syntaxError('@Resource[x] StringEquals').message).toContain(
      "Expected a value or attribute after 'StringEquals' but found the end of the condition",
    );
    expect(syntaxError("@Resource[x] StringEquals AND @Resource[y] StringEquals 'a'").message).toContain(
      "after 'StringEquals' but found 'AND'",
    );
  });

  it('missing operand after AND / NOT, and a dangling operator at the start', () => {
    expect(syntaxError(`${A} AND`).message).toContain('Expected an expression');
    expect(syntaxError('NOT').message).toContain('but found the end of the condition');
    expect(syntaxError(`AND ${A}`).message).toContain("but found 'AND'");
  });

  it('missing operator', () => {
    expect(syntaxError("@Resource[x] 'a'").message).toContain("Expected a comparison operator (e.g. StringEquals) but found the string 'a'");
  });

  it('bad attribute references', () => {
    expect(syntaxError("@Resources[x] StringEquals 'a'").message).toContain("Unknown attribute source '@Resources'");
    expect(syntaxError("@Resource[x StringEquals 'a'").message).toContain("missing ']'");
    expect(syntaxError("@Resource[] StringEquals 'a'").message).toContain('Empty attribute name');
    expect(syntaxError("@Resource x StringEquals 'a'").message).toContain("Expected '[' after '@Resource'");
  });

  it('type errors in literals name the operator', () => {
    expect(syntaxError('@Resource[x] StringEquals abc').message).toContain("Expected a quoted string ('…') for StringEquals but found 'abc'");
    expect(syntaxError("@Resource[x] NumericEquals '5'").message).toContain('Expected an integer for NumericEquals');
    expect(syntaxError('@Resource[x] NumericEquals 1.5').message).toContain('Expected an integer');
    expect(syntaxError('@Resource[x] GuidEquals 1234').message).toContain('Expected a GUID');
    expect(syntaxError("@Resource[x] BoolEquals 'true'").message).toContain('Expected true or false');
    expect(syntaxError("@Resource[x] DateTimeEquals '2022-06-01'").message).toContain("Expected a quoted date-time");
    expect(syntaxError("@Resource[x] DateTimeEquals '2022-13-01T00:00:00Z'").message).toContain('date-time');
  });

  it('sets: empty, unterminated, and multi-valued sets on single-value operators', () => {
    expect(syntaxError('@Resource[x] ForAnyOfAnyValues:StringEquals {}').message).toContain('Empty value set');
    expect(syntaxError("@Resource[x] ForAnyOfAnyValues:StringEquals {'a', }").message).toContain('Expected a value in the set');
    expect(syntaxError("@Resource[x] ForAnyOfAnyValues:StringEquals {'a' 'b'}").message).toContain("Expected ',' or '}'");
    expect(syntaxError("@Resource[x] StringEquals {'a', 'b'}").message).toContain('use a prefix such as ForAnyOfAnyValues:StringEquals');
    // A one-item set is still a single value.
    expect(compileCondition("@Resource[x] StringEquals {'a'}").evaluate({ action: 'z', resource: { x: 'a' } })).toBe(true);
  });

  it('functions: unknown name, missing braces, non-string argument', () => {
    expect(syntaxError("ActionMatch{'x'}").message).toContain("Unknown function 'ActionMatch'");
    expect(syntaxError("ActionMatches('x')").message).toContain("Expected '{' after 'ActionMatches'");
    expect(syntaxError('ActionMatches{x}').message).toContain('Expected a quoted pattern inside ActionMatches{…}');
    expect(syntaxError("ActionMatches{'x'").message).toContain("Expected '}' to close ActionMatches{…}");
    expect(syntaxError('Exists (@Resource[x])').message).toContain("Expected an attribute such as @Resource[…] after 'Exists'");
  });

  it('stray characters', () => {
    expect(syntaxError(`${A} & ${B}`).message).toContain("Unexpected character '&' (did you mean '&&'?)");
    expect(syntaxError('@Resource[x] StringEquals "a"').message).toContain('string values use single quotes');
    expect(syntaxError(`${A} # comment`).message).toContain("Unexpected character '#'");
  });

  it('trailing garbage', () => {
    expect(syntaxError(`${A} ${B}`).message).toContain('Expected AND, OR or the end of the condition but found the attribute');
  });

  it('empty and whitespace-only conditions', () => {
    expect(syntaxError('').message).toContain('The condition is empty.');
    expect(syntaxError(' \n\t').message).toContain('The condition is empty.');
  });

  it('pathological nesting is a 400, not a stack overflow', () => {
    expect(syntaxError(`${'('.repeat(5000)}${A}${')'.repeat(5000)}`).message).toContain('nested more than 100 levels');
    expect(syntaxError(`${'!'.repeat(5000)}${A}`).message).toContain('nested more than 100 levels');
    expect(() => compileCondition(`${'('.repeat(100)}${A}${')'.repeat(100)}`)).not.toThrow();
  });

  it('conditionVersion other than 2.0 is refused, 2.0 or absent accepted', () => {
    expect(syntaxError(A, '1.0').message).toContain("conditionVersion '1.0' is not supported");
    expect(syntaxError(A, '').message).toContain("conditionVersion '' is not supported");
    expect(compileCondition(A, '2.0').evaluate({ action: 'z', resource: { a: 'x' } })).toBe(true);
    expect(compileCondition(A).source).toBe(A);
    // JSON-sourced callers may pass null for "not given".
    expect(compileCondition(A, null as unknown as string).source).toBe(A);
  });

  it('long tokens are abbreviated in messages', () => {
    const long = `'${'y'.repeat(500)}'`;
    const err = syntaxError(`${A} ${long}`);
    expect(err.message.length).toBeLessThan(250);
    expect(err.message).toContain('...');
  });
});

describe('compiled conditions', () => {
  it('are immutable and shared between callers', () => {
    const a = compileCondition(A);
    expect(compileCondition(A)).toBe(a);
    expect(Object.isFrozen(a.ast)).toBe(true);
    expect(() => {
      (a.ast as { kind: string }).kind = 'or';
    }).toThrow(TypeError);
  });
});
