import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeylessError } from '../../../../src/core/errors.js';
import { compileCondition, formatCondition, parseCondition } from '../../../../src/authz/conditions/index.js';
import type {
  AttributeRef,
  ConditionContext,
  Expr,
  Literal,
  Operand,
  OperatorName,
  Quantifier,
} from '../../../../src/authz/conditions/index.js';
import { ATTRIBUTE_SOURCES, QUANTIFIERS } from '../../../../src/authz/conditions/ast.js';
import { compileActionPattern, compileLikePattern, globMatch } from '../../../../src/authz/conditions/glob.js';
import type { Family } from '../../../../src/authz/conditions/operators.js';
import { OPERATORS } from '../../../../src/authz/conditions/operators.js';
import { builtinConditions } from './builtin-roles.js';

const BUILTINS = builtinConditions().map((c) => c.condition);
const SPEC_EXAMPLES = [
  "((!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'})) OR (@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals 'blobs-example-container'))",
  "(!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'} AND NOT SubOperationMatches{'Blob.List'})) OR (@Request[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:versionId] DateTimeEquals '2022-06-01T00:00:00.0Z' OR NOT Exists @Request[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:versionId])",
  "@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags:Project<$key_case_sensitive$>] ForAllOfAnyValues:StringLikeIgnoreCase {'Cas*', 'Ba\\?er'} && {10, 20} ForAnyOfAllValues:NumericLessThan {15, 18}",
];
const CORPUS = [...BUILTINS, ...SPEC_EXAMPLES];

/** Compiling must either succeed or fail with our 400; anything else (TypeError, RangeError…) is a bug. */
function compilesOrRejects(source: string): ReturnType<typeof compileCondition> | undefined {
  try {
    return compileCondition(source);
  } catch (e) {
    if (!(e instanceof KeylessError) || e.status !== 400) throw e;
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// AST generator: well-typed trees the parser could have produced.

const NAMES_BY_FAMILY = new Map<Family, OperatorName[]>();
for (const spec of OPERATORS.values()) {
  NAMES_BY_FAMILY.set(spec.family, [...(NAMES_BY_FAMILY.get(spec.family) ?? []), spec.name]);
}

const attributeArb: fc.Arbitrary<AttributeRef> = fc.record({
  kind: fc.constant('attribute' as const),
  source: fc.constantFrom(...ATTRIBUTE_SOURCES),
  // Anything but ']' with no whitespace at the ends (the lexer trims).
  name: fc
    .string({ unit: fc.constantFrom('a', 'Z', '0', '/', ':', '.', '$', '<', '>', '&', '_', '-', ' ', "'", '(', '{', '@', 'é'), minLength: 1, maxLength: 24 })
    .map((s) => s.trim())
    .filter((s) => s.length > 0),
});

const trickyString = fc.oneof(
  fc.string({ maxLength: 16 }),
  fc.string({ unit: fc.constantFrom("'", '\\', '*', '?', 'a', 'B', ' ', '\n', '}', ')', '@', '&&', 'OR'), maxLength: 12 }),
);

const dateTimeArb = fc
  .tuple(
    fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }),
    fc.option(fc.stringMatching(/^[0-9]{1,7}$/), { nil: undefined }),
  )
  .map(([d, fraction]) => `${d.toISOString().slice(0, 19)}${fraction === undefined ? '' : `.${fraction}`}Z`);

function literalArb(family: Family): fc.Arbitrary<Literal> {
  switch (family) {
    case 'string':
      return trickyString.map((value) => ({ kind: 'string' as const, value }));
    case 'datetime':
      return dateTimeArb.map((value) => ({ kind: 'string' as const, value }));
    case 'numeric':
      return fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }).map((value) => ({ kind: 'number' as const, value }));
    case 'guid':
      return fc.uuid().map((value) => ({ kind: 'guid' as const, value: value.toLowerCase() }));
    case 'bool':
      return fc.boolean().map((value) => ({ kind: 'bool' as const, value }));
  }
}

function operandArb(family: Family, quantified: boolean): fc.Arbitrary<Operand> {
  return fc.oneof(
    attributeArb,
    literalArb(family),
    fc
      .array(literalArb(family), { minLength: 1, maxLength: quantified ? 4 : 1 })
      .map((items) => ({ kind: 'set' as const, items })),
  );
}

const compareArb: fc.Arbitrary<Expr> = fc
  .tuple(fc.constantFrom(...OPERATORS.values()), fc.option(fc.constantFrom<Quantifier>(...QUANTIFIERS), { nil: undefined }))
  .chain(([spec, quantifier]) =>
    fc.tuple(operandArb(spec.family, quantifier !== undefined), operandArb(spec.family, quantifier !== undefined)).map(
      ([left, right]): Expr => ({
        kind: 'compare',
        left,
        operator: quantifier === undefined ? { name: spec.name } : { quantifier, name: spec.name },
        right,
      }),
    ),
  );

const leafArb: fc.Arbitrary<Expr> = fc.oneof(
  compareArb,
  trickyString.map((pattern): Expr => ({ kind: 'actionMatches', pattern })),
  trickyString.map((pattern): Expr => ({ kind: 'subOperationMatches', pattern })),
  attributeArb.map((attribute): Expr => ({ kind: 'exists', attribute })),
);

const { expr: exprArb } = fc.letrec<{ expr: Expr }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafArb,
    tie('expr').map((operand): Expr => ({ kind: 'not', operand })),
    fc.array(tie('expr'), { minLength: 2, maxLength: 3 }).map((operands): Expr => ({ kind: 'and', operands })),
    fc.array(tie('expr'), { minLength: 2, maxLength: 3 }).map((operands): Expr => ({ kind: 'or', operands })),
  ),
}));

// Context values of every shape a caller might pass, including junk.
const valueArb = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.date(),
  fc.uuid(),
  dateTimeArb,
  fc.constant(null),
  fc.anything({ withDate: true, withNullPrototype: true, withBigInt: true, withMap: true }),
);
const bagArb = fc.dictionary(fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('x', 'a', 'Microsoft.Authorization/roleAssignments:RoleDefinitionId')), valueArb, { maxKeys: 4 });
const contextArb: fc.Arbitrary<ConditionContext> = fc.record(
  {
    action: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('Microsoft.Authorization/roleAssignments/write', 'Microsoft.Authorization/roleAssignments/delete')),
    subOperation: fc.string({ maxLength: 8 }),
    request: bagArb,
    resource: bagArb,
    principal: bagArb,
    environment: bagArb,
  },
  { requiredKeys: ['action'] },
);

describe('property: printing and reparsing', () => {
  it('parse(formatCondition(ast)) equals ast for generated ASTs', () => {
    fc.assert(
      fc.property(exprArb, (ast) => {
        const printed = formatCondition(ast);
        expect(parseCondition(printed)).toEqual(ast);
      }),
      { numRuns: 500 },
    );
  });

  it('printing is idempotent on the built-in and spec conditions', () => {
    for (const source of CORPUS) {
      const once = formatCondition(parseCondition(source));
      expect(formatCondition(parseCondition(once))).toBe(once);
    }
  });
});

describe('property: the parser only ever throws KeylessError 400', () => {
  const fragments = [
    '(', ')', '{', '}', '!', '&&', '||', ' AND ', ' OR ', 'NOT ', "'", "'x'", "'\\'", '@Resource[', '@Request[a]', ']', ',',
    ' StringEquals ', ' StringLike ', ' ForAnyOfAnyValues:', 'GuidEquals', ' NumericLessThan ', ' DateTimeEquals ',
    ' BoolEquals ', 'true', '-5', '00482a5a-887f-4fb3-b363-3b7fe8e74483', '4bad4d9e2a13488894bbc8432f6f3040',
    'ActionMatches', 'SubOperationMatches', 'Exists ', ' ', '\n', '\\', '&', '|', '@', '$', '"', 'é', '\u0000',
  ];

  it('on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80, unit: 'binary' }), (s) => {
        compilesOrRejects(s);
      }),
      { numRuns: 1000 },
    );
  });

  it('on random sequences of condition fragments', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...fragments), { maxLength: 30 }), (parts) => {
        const compiled = compilesOrRejects(parts.join(''));
        if (compiled !== undefined) expect(parseCondition(formatCondition(compiled.ast))).toEqual(compiled.ast);
      }),
      { numRuns: 1000 },
    );
  });

  it('on mutated built-in and spec conditions (and whatever still compiles evaluates without throwing)', () => {
    const mutation = fc.oneof(
      fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
      fc.record({ op: fc.constant('insert' as const), at: fc.nat(), text: fc.constantFrom(...fragments) }),
      fc.record({ op: fc.constant('replace' as const), at: fc.nat(), text: fc.constantFrom(...fragments) }),
      fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...CORPUS), fc.array(mutation, { minLength: 1, maxLength: 4 }), contextArb, (source, mutations, ctx) => {
        let s = source;
        for (const m of mutations) {
          const at = m.at % (s.length + 1);
          if (m.op === 'delete') s = s.slice(0, at) + s.slice(at + m.length);
          else if (m.op === 'insert') s = s.slice(0, at) + m.text + s.slice(at);
          else if (m.op === 'replace') s = s.slice(0, at) + m.text + s.slice(at + 1);
          else s = s.slice(0, at) + s.slice(at, at + m.length) + s.slice(at);
        }
        const compiled = compilesOrRejects(s);
        if (compiled !== undefined) expect(typeof compiled.evaluate(ctx)).toBe('boolean');
      }),
      { numRuns: 1000 },
    );
  });
});

describe('property: evaluation', () => {
  it('never throws, whatever the context holds', () => {
    fc.assert(
      fc.property(fc.oneof(exprArb, fc.constantFrom(...CORPUS).map((s) => parseCondition(s))), contextArb, (ast, ctx) => {
        const compiled = compileCondition(formatCondition(ast));
        expect(typeof compiled.evaluate(ctx)).toBe('boolean');
      }),
      { numRuns: 500 },
    );
  });

  it('NOT is logical negation and AND/OR are the boolean operators', () => {
    fc.assert(
      fc.property(exprArb, exprArb, contextArb, (a, b, ctx) => {
        // Pin UtcNow so both sides see the same clock.
        const c = { ...ctx, environment: { ...ctx.environment, UtcNow: new Date('2024-01-01T00:00:00Z') } };
        const ev = (e: Expr): boolean => compileCondition(formatCondition(e)).evaluate(c);
        expect(ev({ kind: 'not', operand: a })).toBe(!ev(a));
        expect(ev({ kind: 'and', operands: [a, b] })).toBe(ev(a) && ev(b));
        expect(ev({ kind: 'or', operands: [a, b] })).toBe(ev(a) || ev(b));
      }),
      { numRuns: 300 },
    );
  });
});

describe('property: wildcard matchers agree with a regular-expression oracle', () => {
  const escape = (c: string): string => c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

  it('StringLike: * any run, ? one character, \\ escapes', () => {
    const likeOracle = (pattern: string, text: string): boolean => {
      let re = '';
      const chars = Array.from(pattern);
      for (let i = 0; i < chars.length; i++) {
        const c = chars[i]!;
        if (c === '\\' && i + 1 < chars.length) re += escape(chars[++i]!);
        else if (c === '*') re += '[\\s\\S]*';
        else if (c === '?') re += '[\\s\\S]';
        else re += escape(c);
      }
      return new RegExp(`^${re}$`, 'u').test(text);
    };
    const alphabet = fc.constantFrom('a', 'b', '*', '?', '\\', '/');
    fc.assert(
      fc.property(fc.string({ unit: alphabet, maxLength: 8 }), fc.string({ unit: alphabet, maxLength: 10 }), (pattern, text) => {
        expect(globMatch(compileLikePattern(pattern, false), text)).toBe(likeOracle(pattern, text));
      }),
      { numRuns: 2000 },
    );
  });

  it('ActionMatches: * spans "/", and a/*/b also matches a/b', () => {
    const actionOracle = (pattern: string, text: string): boolean => {
      let re = '';
      const chars = Array.from(pattern.toLowerCase());
      for (let i = 0; i < chars.length; i++) {
        const c = chars[i]!;
        if (c === '*' && chars[i - 1] === '/' && chars[i + 1] === '/') {
          re += '(?:.*/)?';
          i++;
        } else if (c === '*') re += '.*';
        else re += escape(c);
      }
      return new RegExp(`^${re}$`, 's').test(text.toLowerCase());
    };
    const alphabet = fc.constantFrom('a', 'B', '*', '/', '?');
    fc.assert(
      fc.property(fc.string({ unit: alphabet, maxLength: 8 }), fc.string({ unit: fc.constantFrom('a', 'b', '/', 'A'), maxLength: 10 }), (pattern, text) => {
        expect(globMatch(compileActionPattern(pattern), text.toLowerCase())).toBe(actionOracle(pattern, text));
      }),
      { numRuns: 2000 },
    );
  });
});
